/**
 * Which strategies a file system can be trusted with. `slab` never reads the output back, so any
 * shared file system will do. `rounds` and `serial` read back output bytes that other ranks (or
 * HDF5's fill at allocation, written by other ranks) put there; where node caches may disagree
 * (NFS, FUSE, SMB, unknown) such a read can return stale bytes and the stitch silently loses
 * tiles (reproduced: docs/reliability.md). So they are refused there with more than one rank,
 * unless the user vouches for the file system (--trust-fs-coherence).
 */
import * as path from 'node:path';
import { UsageError } from '../errors';
import { classifyFileSystem, type FileSystemInfo } from '../runtime/file-system';
import type { Mpi } from '../runtime/mpi';
import type { StrategyName } from './strategy';

/** FNV-1a of a host name: a number every rank can allgather. */
function hostHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** How many nodes (distinct processor names) the job's ranks run on. Collective. */
export function nodeCount(mpi: Mpi, processorName: string): number {
  return new Set(mpi.allgather(new Float64Array([hostHash(processorName)]))).size;
}

/**
 * Classifies the output's file system (this rank's view) and refuses what it cannot hold safely.
 * Call on every rank (runOnAll): ranks on different nodes may see different mounts.
 */
export function checkOutputFileSystem(output: string, o: { strategy: StrategyName; ranks: number; nodes: number; trust: boolean }): FileSystemInfo {
  const fsInfo = classifyFileSystem(path.dirname(path.resolve(output)));
  const where = `${fsInfo.path} is on ${fsInfo.type}`;
  if (fsInfo.class === 'local' && o.nodes > 1) {
    throw new UsageError(`${where}, a node-local file system, but the ranks run on ${o.nodes} nodes: each node would write its own file; ` +
      'put the output on the shared (parallel) file system');
  }
  if (fsInfo.class === 'uncertain' && o.strategy !== 'slab' && o.ranks > 1 && !o.trust) {
    throw new UsageError(`--strategy ${o.strategy} reads back output bytes other ranks wrote, and ${where} (${fsInfo.reason}): ` +
      'use --strategy slab (the default, never reads the output), or --trust-fs-coherence if its caches are coherent across nodes');
  }
  return fsInfo;
}

/** `info`: what MPI, MPI-IO layer, HDF5 and file system a run would use, and known-unsafe setups. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { classifyFileSystem, type FsClass } from './file-system';
import { native } from './addon';
import { openFile } from './hdf5';
import type { Mpi } from './mpi';

export interface RunInfo {
  mpiLibrary: string;
  mpiStandard: string;
  ranks: number;
  threadLevel: string;
  hdf5: string;
  hdf5Threadsafe: boolean;
  mpioLayer: string;
  hintsRequested: Record<string, string>;
  hintsInForce: Record<string, string>;
  ompioWriteDataSieving: string | null;
  fileSystem: string;
  /** local | coherent | uncertain, and why (see docs/reliability.md). */
  fileSystemClass: FsClass;
  fileSystemReason: string;
  directory: string;
  warnings: string[];
}

function openMpiVersion(library: string): [number, number, number] | null {
  const m = /Open MPI v(\d+)\.(\d+)\.(\d+)/.exec(library);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** Open MPI's `io` MCA parameter: the environment, else the user's or the system's parameter file. */
function openMpiIoParam(): string | undefined {
  if (process.env.OMPI_MCA_io !== undefined) return process.env.OMPI_MCA_io;
  const files = [path.join(os.homedir(), '.openmpi', 'mca-params.conf'), '/etc/openmpi/openmpi-mca-params.conf'];
  for (const file of files) {
    try {
      const m = /^\s*io\s*=\s*(\S+)/m.exec(fs.readFileSync(file, 'utf8'));
      if (m) return m[1];
    } catch { /* no such file */ }
  }
  return undefined;
}

/**
 * The MPI-IO implementation behind an open file. ROMIO outside Open MPI fills in its default hints
 * (romio_cb_read, cb_nodes, ...) where it reports them in force; Open MPI reports none of its own
 * whichever component it uses, so there the `io` MCA parameter says (OMPIO is the default since 2.x).
 */
export function mpioLayerOf(inForce: Record<string, string>, requested: Record<string, string>, mpiLibrary: string): 'ROMIO' | 'OMPIO' | 'unknown' {
  if (Object.keys(inForce).some((k) => !(k in requested) && (k.startsWith('romio_') || k.startsWith('cb_')))) return 'ROMIO';
  if (!openMpiVersion(mpiLibrary)) return 'unknown';
  const io = openMpiIoParam();
  return io !== undefined && !io.startsWith('^') && io.includes('romio') ? 'ROMIO' : 'OMPIO';
}

/** Collective: every rank opens a probe file in `dir` to read the hints MPI-IO reports in force. */
export function collectInfo(mpi: Mpi, dir: string, hints: Record<string, string>): RunInfo {
  const addon = native();
  const { library, standard } = addon.mpi.libraryVersion();
  const probe = path.join(path.resolve(dir), `.h5stitch-info-probe-${process.env.OMPI_COMM_WORLD_JOBID ?? ''}${mpi.bcastJson(mpi.rank === 0 ? process.pid : undefined)}.h5`);
  const file = openFile(probe, { mode: 'create', parallel: true, overwrite: true, hints });
  const inForce = file.mpioHints();
  file.close();
  mpi.barrier();
  if (mpi.rank === 0) fs.rmSync(probe, { force: true });
  const mpioLayer = mpioLayerOf(inForce, hints, library);
  const romio = mpioLayer === 'ROMIO';
  const ompiVersion = openMpiVersion(library);
  const sieving = process.env.OMPI_MCA_fbtl_posix_write_datasieving ?? null;
  const warnings: string[] = [];
  const romioSievingOn = romio && inForce.romio_ds_write !== 'disable';
  const ompioSievingOn = !!ompiVersion && !romio && sieving !== '0';
  const oldOpenMpi = !!ompiVersion && (ompiVersion[0] < 5 || (ompiVersion[0] === 5 && ompiVersion[1] === 0 && ompiVersion[2] < 6));
  if (oldOpenMpi && (romioSievingOn || ompioSievingOn)) {
    warnings.push(`Open MPI ${ompiVersion!.join('.')} (< 5.0.6) with write data sieving on: concurrent strided writes can lose data ` +
      `(read-modify-write without working locks). Keep the default hints (romio_ds_write=disable, OMPI_MCA_fbtl_posix_write_datasieving=0).`);
  } else if (romioSievingOn) {
    warnings.push('ROMIO write data sieving is on: strided independent writes become read-modify-write of whole spans; safe only with working byte-range locks.');
  }
  const fsInfo = classifyFileSystem(dir);
  if (fsInfo.class === 'uncertain') {
    warnings.push(`${fsInfo.reason}: strategies that read the output back (rounds, serial) are refused here with more than one rank; slab (the default) is safe.`);
  }
  return {
    mpiLibrary: library.split('\n')[0], mpiStandard: standard, ranks: mpi.size, threadLevel: mpi.threadLevel,
    hdf5: addon.hdf5Version().version, hdf5Threadsafe: addon.hdf5Version().threadsafe,
    mpioLayer, hintsRequested: hints, hintsInForce: inForce,
    ompioWriteDataSieving: sieving, fileSystem: fsInfo.type, fileSystemClass: fsInfo.class, fileSystemReason: fsInfo.reason,
    directory: path.resolve(dir), warnings,
  };
}

export function formatInfo(info: RunInfo): string {
  const lines = [
    `MPI library:        ${info.mpiLibrary} (MPI ${info.mpiStandard}), ${info.ranks} ranks, thread level ${info.threadLevel}`,
    `MPI-IO layer:       ${info.mpioLayer}`,
    `HDF5:               ${info.hdf5} parallel${info.hdf5Threadsafe ? ', thread-safe' : ', not thread-safe (all HDF5 calls on one thread)'}`,
    `hints requested:    ${Object.entries(info.hintsRequested).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`,
    `hints in force:     ${Object.entries(info.hintsInForce).map(([k, v]) => `${k}=${v}`).join(' ') || '(none reported)'}`,
    `OMPIO write sieving: OMPI_MCA_fbtl_posix_write_datasieving=${info.ompioWriteDataSieving ?? '(unset)'}`,
    `output directory:   ${info.directory} (${info.fileSystem}, ${info.fileSystemClass}: ${info.fileSystemReason})`,
    ...info.warnings.map((w) => `WARNING: ${w}`),
  ];
  return lines.join('\n') + '\n';
}

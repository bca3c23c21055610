/**
 * Which kind of file system a path is on, as far as cache coherence between nodes goes.
 *
 * A strategy that reads back what another rank wrote (read-modify-write) is only correct when
 * every node sees every other node's writes. That holds on a node-local file system (one kernel,
 * one page cache: all ranks are on this node) and on parallel file systems built for it (Lustre,
 * GPFS, BeeGFS keep client caches coherent with distributed locks). It is not guaranteed on NFS,
 * FUSE (sshfs), SMB or anything unknown: a node can keep serving bytes another node has already
 * overwritten and synced (reproduced with scripts/incoherent-fs.sh).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type FsClass = 'local' | 'coherent' | 'uncertain';

export interface FileSystemInfo {
  /** The path classified: the realpath of `path`, or of its nearest existing ancestor. */
  path: string;
  /** Type as the mount table names it (ext4, nfs4, fuse.sshfs, lustre, ...), or from statfs. */
  type: string;
  /** Mount point holding `path`; null when the mount table could not be read. */
  mountPoint: string | null;
  /** Mount options (rw, flock, noac, ...), as listed in the mount table. */
  options: string[];
  class: FsClass;
  /** Why it got its class, in a few words (for messages). */
  reason: string;
}

export interface MountEntry { source: string; mountPoint: string; type: string; options: string[] }

/** One kernel's page cache; overlay and ramfs are node-local by construction (an overlay's upper layer is local). */
const LOCAL_TYPES = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'tmpfs', 'zfs', 'f2fs', 'overlay', 'ramfs']);
/** Parallel file systems whose clients keep their caches coherent with distributed locks. */
const COHERENT_TYPES = new Set(['lustre', 'gpfs', 'beegfs']);

/** statfs(2) f_type magic numbers (linux/magic.h and the file systems' own headers). */
const MAGIC_TYPES: ReadonlyMap<number, string> = new Map([
  [0xef53, 'ext4'], // ext2, ext3 and ext4 share it
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0x2fc12fc1, 'zfs'],
  [0xf2f52010, 'f2fs'],
  [0x794c7630, 'overlay'],
  [0x858458f6, 'ramfs'],
  [0x0bd00bd0, 'lustre'],
  [0x47504653, 'gpfs'],
  [0x19830326, 'beegfs'],
  [0x6969, 'nfs'],
  [0x65735546, 'fuse'],
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
]);

export function classOfType(type: string): FsClass {
  if (LOCAL_TYPES.has(type)) return 'local';
  if (COHERENT_TYPES.has(type)) return 'coherent';
  return 'uncertain';
}

function reasonFor(type: string, fsClass: FsClass): string {
  if (fsClass === 'local') return `${type} is node-local: every rank on it shares one page cache`;
  if (fsClass === 'coherent') return `${type} keeps its clients' caches coherent`;
  if (type === 'nfs' || type === 'nfs4') return `${type}: client caches of different nodes may disagree (close-to-open consistency only)`;
  if (type === 'fuse' || type.startsWith('fuse.') || type === 'fuseblk') return `${type}: a FUSE file system gives no cache coherence between nodes`;
  if (/^(cifs|smb2|smb3|smbfs)$/.test(type)) return `${type}: client caches of different nodes may disagree`;
  return `${type}: unknown file system, cache coherence between nodes not known`;
}

/** /proc/mounts escapes space, tab, newline and backslash in paths as \040, \011, \012, \134. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses /proc/self/mounts text (fields: source, mount point, type, options, dump, pass). */
export function parseMounts(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 4) continue;
    entries.push({
      source: unescapeMountField(fields[0]),
      mountPoint: unescapeMountField(fields[1]),
      type: fields[2],
      options: fields[3].split(','),
    });
  }
  return entries;
}

/** The mount holding `realPath`: longest matching mount point; of mounts stacked on one point, the last (topmost). */
export function findMount(entries: readonly MountEntry[], realPath: string): MountEntry | null {
  let best: MountEntry | null = null;
  for (const entry of entries) {
    const point = entry.mountPoint;
    const inside = realPath === point || realPath.startsWith(point.endsWith('/') ? point : `${point}/`);
    if (inside && (!best || point.length >= best.mountPoint.length)) best = entry;
  }
  return best;
}

/** realpath of `p`, or of its nearest existing ancestor (an output file need not exist yet). */
function existingRealPath(p: string): string {
  let candidate = path.resolve(p);
  for (;;) {
    try {
      return fs.realpathSync(candidate);
    } catch (e) {
      const parent = path.dirname(candidate);
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || parent === candidate) throw e;
      candidate = parent;
    }
  }
}

/** The family statfs reports for a mount-table type, to check the two agree. */
function magicFamily(type: string): string {
  if (type === 'ext2' || type === 'ext3') return 'ext4';
  if (type === 'nfs4') return 'nfs';
  if (type.startsWith('fuse.') || type === 'fuseblk') return 'fuse';
  if (type === 'smb3') return 'smb2';
  return type;
}

/**
 * Classifies the file system holding `target` (a file or directory; when it does not exist yet,
 * its nearest existing ancestor) as 'local', 'coherent' or 'uncertain'. Reads /proc/self/mounts
 * (type and options of the longest matching mount point) and statfs(2) on the path: when the two
 * disagree (the mount table is not this process's view), statfs wins; without a mount table
 * (not Linux) statfs alone decides, and an unknown magic number is 'uncertain'.
 */
export function classifyFileSystem(target: string, options: { mountsFile?: string } = {}): FileSystemInfo {
  const real = existingRealPath(target);
  let magicType: string | undefined;
  try {
    magicType = MAGIC_TYPES.get(Number(fs.statfsSync(real).type));
  } catch {
    magicType = undefined;
  }
  let mount: MountEntry | null = null;
  try {
    mount = findMount(parseMounts(fs.readFileSync(options.mountsFile ?? '/proc/self/mounts', 'utf8')), real);
  } catch {
    mount = null;
  }
  if (mount && (!magicType || magicFamily(mount.type) === magicType)) {
    const fsClass = classOfType(mount.type);
    return { path: real, type: mount.type, mountPoint: mount.mountPoint, options: mount.options, class: fsClass, reason: reasonFor(mount.type, fsClass) };
  }
  const type = magicType ?? 'unknown';
  const fsClass = classOfType(type);
  const note = mount ? ` (the mount table says ${mount.type} at ${mount.mountPoint}; statfs says ${type})` : ' (no mount table; from statfs)';
  return { path: real, type, mountPoint: null, options: [], class: fsClass, reason: reasonFor(type, fsClass) + note };
}

// File-system classes for cache coherence: the mount table parsed as the kernel writes it,
// real mounts classified and checked against findmnt (util-linux) as an independent reader.
// The sshfs case is in test/incoherent-fs.test.ts, where the harness's mounts exist.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyFileSystem, classOfType, findMount, parseMounts } from '../lib/runtime/file-system';

/** What findmnt says holds `target`: [type, mount point]. */
function findmnt(target: string): [string, string] {
  const [type, point] = execFileSync('findmnt', ['-n', '-o', 'FSTYPE,TARGET', '--target', target], { encoding: 'utf8' }).trim().split(/\s+/, 2);
  return [type, point];
}

describe('parseMounts / findMount', () => {
  const table = [
    '/dev/vda1 / ext4 rw,relatime 0 0',
    'server:/export /mnt/data nfs4 rw,vers=4.2,noac 0 0',
    'tmpfs /mnt/data2 tmpfs rw 0 0',
    '/dev/sdb1 /mnt/with\\040space xfs rw 0 0',
    '10.0.0.1@tcp:/lfs /lustre lustre rw,flock 0 0',
    'tmpfs /stacked tmpfs rw 0 0',
    'user@host:/x /stacked fuse.sshfs rw,user_id=0 0 0',
    '',
  ].join('\n');
  const mounts = parseMounts(table);

  it('decodes the octal escapes /proc/mounts uses in paths', () => {
    expect(mounts.map((m) => m.mountPoint)).toContain('/mnt/with space');
    expect(parseMounts('a\\134b /x\\011y\\012z ext4 rw 0 0')[0]).toMatchObject({ source: 'a\\b', mountPoint: '/x\ty\nz' });
  });

  it('picks the longest mount point that is a whole-component prefix', () => {
    expect(findMount(mounts, '/mnt/data/run/out.h5')?.type).toBe('nfs4');
    expect(findMount(mounts, '/mnt/data')?.type).toBe('nfs4');
    expect(findMount(mounts, '/mnt/data2/out.h5')?.type).toBe('tmpfs'); // not /mnt/data
    expect(findMount(mounts, '/mnt/datax')?.type).toBe('ext4');
    expect(findMount(mounts, '/mnt/with space/f')?.type).toBe('xfs');
    expect(findMount(mounts, '/home/me')?.mountPoint).toBe('/');
    expect(findMount(mounts, '/lustre/scratch')?.options).toContain('flock');
  });

  it('of mounts stacked on one point, takes the topmost (last listed)', () => {
    expect(findMount(mounts, '/stacked/a')?.type).toBe('fuse.sshfs');
  });

  it('classes the types', () => {
    for (const t of ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'tmpfs', 'zfs', 'f2fs']) expect(classOfType(t)).toBe('local');
    for (const t of ['lustre', 'gpfs', 'beegfs']) expect(classOfType(t)).toBe('coherent');
    for (const t of ['nfs', 'nfs4', 'fuse.sshfs', 'fuse.s3fs', 'fuse', 'cifs', 'smb3', 'ceph', '9p', 'something-new']) expect(classOfType(t)).toBe('uncertain');
  });
});

describe('classifyFileSystem on this machine', () => {
  let dir: string;
  let spaced: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h5stitch-fsclass-'));
    // A real mount whose point has a space in it: the kernel lists it as \040.
    spaced = path.join(dir, 'with space');
    fs.mkdirSync(spaced);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'h5stitch-fsclass', spaced], { encoding: 'utf8' });
    if (mount.status !== 0) throw new Error(`cannot mount a tmpfs for the test (needs root): ${mount.stderr.trim()}`);
  });

  afterAll(() => {
    spawnSync('umount', [spaced]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('agrees with findmnt on the temporary directory, the repository and /dev/shm', () => {
    for (const target of [dir, process.cwd(), '/dev/shm']) {
      const info = classifyFileSystem(target);
      const [type, point] = findmnt(target);
      expect([info.type, info.mountPoint]).toEqual([type, point]);
      expect(info.class).toBe(classOfType(type));
    }
    expect(classifyFileSystem('/dev/shm')).toMatchObject({ type: 'tmpfs', class: 'local' });
  });

  it('finds the mount behind an escaped mount point', () => {
    const info = classifyFileSystem(path.join(spaced, 'out.h5'));
    expect(info).toMatchObject({ type: 'tmpfs', mountPoint: fs.realpathSync(spaced), class: 'local' });
    expect(info.options).toContain('rw');
  });

  it('classifies an output that does not exist yet by its nearest existing directory', () => {
    const info = classifyFileSystem(path.join(dir, 'not', 'yet', 'out.h5'));
    expect(info.path).toBe(fs.realpathSync(dir));
    expect(info.type).toBe(findmnt(dir)[0]);
  });

  it('trusts statfs when the mount table disagrees with it', () => {
    const lying = path.join(dir, 'mounts');
    fs.writeFileSync(lying, 'server:/ / nfs4 rw 0 0\n');
    const info = classifyFileSystem('/dev/shm', { mountsFile: lying });
    expect(info).toMatchObject({ type: 'tmpfs', class: 'local', mountPoint: null });
    expect(info.reason).toMatch(/mount table says nfs4/);
  });
});

#!/usr/bin/env node
// Corrupted-input fuzzing: for a fixed seed, corrupts one input at a time (random byte flips, a
// truncation at a random offset, a zeroed block) and stitches it with 2 ranks, collective and
// independent writes in turn. Every run must end
// one of two ways:
//   - exit 0, and `verify` (against what the input holds now) says OK; or
//   - exit 2, with exactly one `h5stitch:` line on stderr and no output file left behind;
// and never: a signal, a hang (bounded time), a JavaScript stack on stderr, or a changed input.
// Targets: the HDF5 tile file anywhere (plain, and gzip-compressed) and in its metadata, its
// /tile_array layout dataset, the /stage_yx positions
// of a positions file, a JSON layout file, one file of a directory of .npy tiles.
//
//   node scripts/fuzz.mjs [--runs 420] [--seed 1] [--quick] [--keep] [--verbose]
// Prints outcome counts per target and mutation; exit 1 if any run broke a rule (each is
// reported with its reproduction: the corrupted file is kept under the work directory).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const stitch = path.join(root, 'dist', 'stitch.js');
const { openFile } = require(path.join(root, 'dist', 'runtime', 'hdf5.js'));

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const quick = argv.includes('--quick');
const runs = Number(opt('runs', quick ? '21' : '420'));
const seed = Number(opt('seed', '1'));
const keep = argv.includes('--keep');
const verbose = argv.includes('--verbose');
// A run that takes longer than this hangs (a normal one takes 1-3 s, more on a loaded machine).
const TIMEOUT_S = 90;

// mulberry32, as test/helpers/prng.ts
function prng(s) {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(seed);
const int = (n) => Math.floor(random() * n);

const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OMPI_|PMIX_|ORTE_|OPAL_|PMI_|HYDRA_)/.test(k))),
  OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_rmaps_base_oversubscribe: '1', OMPI_MCA_mpi_yield_when_idle: '1', NO_COLOR: '1',
};
// timeout(1) sends TERM first, so mpirun takes its ranks down with it; KILL 5 s later if not.
const launch = (args) => spawnSync('timeout', ['--kill-after=5', String(TIMEOUT_S), 'mpirun', '-n', '2', process.execPath, stitch, ...args],
  { env, encoding: 'utf8', maxBuffer: 64 << 20 });
// On a machine crowded with other MPI jobs, mpirun now and then fails to start a job: exit 1 and
// not a byte of output. h5stitch never ends like that (every failure prints a line), so such a
// job is started once more, and counted.
let relaunched = 0;
const mpirun = (args) => {
  const job = launch(args);
  if (job.status !== 1 || job.stdout !== '' || job.stderr !== '') return job;
  relaunched++;
  return launch(args);
};

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'h5stitch-fuzz-'));
// Outputs go to a small tmpfs when we may mount one: a corrupted position can ask for a canvas of
// tens of GB, which h5stitch then (rightly) refuses for want of space instead of writing it.
const outDir = path.join(work, 'out');
fs.mkdirSync(outDir);
const tmpfs = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', outDir]).status === 0;

// Clean inputs: 2x3 float32 tiles of 24x32 (overlap 4) with a layout and an overlap attribute (plain
// and compressed); the same tiles with stage positions; a JSON layout; a directory of .npy tiles.
const clean = path.join(work, 'clean');
fs.mkdirSync(clean);
const [N, H, W, OVERLAP] = [6, 24, 32, 4];
const layout = [[0, 1, 2], [3, 4, 5]];
const tiles = Float32Array.from({ length: N * H * W }, (_, k) => {
  const i = Math.floor(k / (H * W)), y = Math.floor((k % (H * W)) / W) + Math.floor(i / 3) * (H - OVERLAP), x = (k % W) + (i % 3) * (W - OVERLAP);
  return 100 + 40 * Math.sin(y / 5) * Math.cos(x / 7);
});
{
  const f = openFile(path.join(clean, 'tiles.h5'), { mode: 'create', overwrite: true });
  const ds = f.createDataset('/tiles', { shape: [N, H, W], dtype: 'float32' });
  ds.write([0, 0, 0], [N, H, W], tiles);
  ds.setAttr('overlap', OVERLAP);
  f.createDataset('/tile_array', { shape: [2, 3], dtype: 'int32' }).write([0, 0], [2, 3], Int32Array.from(layout.flat()));
  f.close();
  // The same tiles compressed, one chunk per tile: corrupt chunks fail in the middle of a read.
  const z = openFile(path.join(clean, 'tiles-gzip.h5'), { mode: 'create', overwrite: true });
  const zs = z.createDataset('/tiles', { shape: [N, H, W], dtype: 'float32', chunk: [1, H, W], gzip: 6 });
  zs.write([0, 0, 0], [N, H, W], tiles);
  zs.setAttr('overlap', OVERLAP);
  z.createDataset('/tile_array', { shape: [2, 3], dtype: 'int32' }).write([0, 0], [2, 3], Int32Array.from(layout.flat()));
  z.close();
  const p = openFile(path.join(clean, 'positions.h5'), { mode: 'create', overwrite: true });
  p.createDataset('/tiles', { shape: [N, H, W], dtype: 'float32' }).write([0, 0, 0], [N, H, W], tiles);
  const pos = Float64Array.from({ length: 2 * N }, (_, k) => (k % 2 === 0 ? Math.floor(k / 6) * (H - OVERLAP) + 10.3 : ((k >> 1) % 3) * (W - OVERLAP) - 5.6));
  p.createDataset('/stage_yx', { shape: [N, 2], dtype: 'float64' }).write([0, 0], [N, 2], pos);
  p.close();
  fs.writeFileSync(path.join(clean, 'layout.json'), JSON.stringify(layout));
  fs.mkdirSync(path.join(clean, 'npy'));
  for (let i = 0; i < N; i++) {
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${H}, ${W}), }`;
    while ((10 + header.length + 1) % 64) header += ' ';
    header += '\n';
    const pre = Buffer.alloc(10);
    Buffer.from('\x93NUMPY', 'latin1').copy(pre);
    pre[6] = 1;
    pre.writeUInt16LE(header.length, 8);
    const data = Buffer.from(tiles.buffer, i * H * W * 4, H * W * 4);
    fs.writeFileSync(path.join(clean, 'npy', `${i}.npy`), Buffer.concat([pre, Buffer.from(header, 'latin1'), data]));
  }
}
/** Byte range of a contiguous dataset's data in its file. */
function dataRange(file, name, bytes) {
  const f = openFile(file);
  const offset = f.openDataset(name).fileOffset;
  f.close();
  return [offset, offset + bytes];
}

// Each target: which file to corrupt (relative to the run's input directory), where in it, and the
// stitch's arguments. A range limits flips and zeroed blocks to one dataset's bytes.
const targets = [
  { name: 'hdf5-tiles', file: 'tiles.h5', args: (d) => [path.join(d, 'tiles.h5')], input: (d) => path.join(d, 'tiles.h5') },
  // The superblock, object headers and heaps sit before the first dataset's data.
  { name: 'hdf5-metadata', file: 'tiles.h5', range: [0, dataRange(path.join(clean, 'tiles.h5'), '/tiles', 0)[0]],
    args: (d) => [path.join(d, 'tiles.h5')], input: (d) => path.join(d, 'tiles.h5') },
  { name: 'hdf5-gzip-tiles', file: 'tiles-gzip.h5', args: (d) => [path.join(d, 'tiles-gzip.h5')], input: (d) => path.join(d, 'tiles-gzip.h5') },
  { name: 'hdf5-layout', file: 'tiles.h5', range: dataRange(path.join(clean, 'tiles.h5'), '/tile_array', 2 * 3 * 4),
    args: (d) => [path.join(d, 'tiles.h5')], input: (d) => path.join(d, 'tiles.h5') },
  { name: 'hdf5-positions', file: 'positions.h5', range: dataRange(path.join(clean, 'positions.h5'), '/stage_yx', N * 2 * 8),
    args: (d) => [path.join(d, 'positions.h5'), '--positions', '/stage_yx'], input: (d) => path.join(d, 'positions.h5') },
  { name: 'json-layout', file: 'layout.json', args: (d) => [path.join(d, 'tiles.h5'), '--layout', path.join(d, 'layout.json')], input: (d) => path.join(d, 'tiles.h5') },
  { name: 'npy', file: () => `npy/${int(N)}.npy`, args: (d) => [path.join(d, 'npy'), '--layout', path.join(d, 'layout.json'), '--overlap', String(OVERLAP)],
    input: (d) => path.join(d, 'npy') },
];
const mutations = ['flip', 'truncate', 'zero'];

/** Corrupts `file` in place; returns a description. */
function mutate(file, kind, range) {
  const bytes = fs.readFileSync(file);
  const [lo, hi] = range ?? [0, bytes.length];
  const at = lo + int(hi - lo);
  if (kind === 'truncate') {
    // Inside the range when there is one (the dataset's bytes and all after them go).
    fs.truncateSync(file, at);
    return `truncated to ${at} of ${bytes.length} bytes`;
  }
  if (kind === 'zero') {
    const length = 1 + int(Math.min(512, hi - at));
    bytes.fill(0, at, Math.min(hi, at + length));
    fs.writeFileSync(file, bytes);
    return `zeroed ${length} bytes at ${at}`;
  }
  const flips = 1 + int(8);
  const where = [];
  for (let k = 0; k < flips; k++) {
    const p = lo + int(hi - lo);
    bytes[p] ^= 1 << int(8);
    where.push(p);
  }
  fs.writeFileSync(file, bytes);
  return `flipped bits at ${where.join(',')}`;
}

function hashTree(dir) {
  const h = createHash('sha256');
  for (const name of fs.readdirSync(dir, { recursive: true }).sort()) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isFile()) h.update(name).update(fs.readFileSync(p));
  }
  return h.digest('hex');
}

const JS_STACK = /\n\s+at .+(:\d+:\d+\)?|\(node:)/;
const counts = new Map();
const failures = [];
const count = (key, outcome) => {
  const row = counts.get(key) ?? { runs: 0, verified: 0, refused: 0, midRun: 0, aborted: 0, failed: 0 };
  row.runs++;
  row[outcome]++;
  counts.set(key, row);
};

const started = Date.now();
for (let k = 0; k < runs; k++) {
  const target = targets[k % targets.length];
  const kind = mutations[Math.floor(k / targets.length) % mutations.length];
  const dir = path.join(work, `run-${k}`);
  fs.cpSync(clean, dir, { recursive: true });
  const rel = typeof target.file === 'function' ? target.file() : target.file;
  const what = `${target.name} ${kind} ${rel}: ${mutate(path.join(dir, rel), kind, target.range)}`;
  const before = hashTree(dir);
  const out = path.join(outDir, 'out.h5');
  fs.rmSync(out, { force: true });
  // Every other run writes independently: no per-band agreement, so a read that fails mid-run
  // ends the job from its rank (MPI_Abort) instead of from all ranks together.
  const io = k % 2 === 1 ? ['--io', 'independent'] : [];
  const job = mpirun([...target.args(dir), '--out', out, ...io]);
  const problems = [];
  const lines = job.stderr.split('\n').filter((l) => l.startsWith('h5stitch:'));
  if (job.status === 124 || job.status === 137) problems.push(`hung (no end within ${TIMEOUT_S} s)`);
  else if (job.signal) problems.push(`ended by signal ${job.signal}`);
  if (JS_STACK.test(job.stderr)) problems.push('JavaScript stack on stderr');
  if (/uncaught error|Segmentation fault|core dumped|signal \d+|SIGSEGV|SIGABRT|SIGBUS/i.test(job.stderr)) problems.push('crash reported on stderr');
  let outcome = 'failed';
  if (job.status === 0 && problems.length === 0) {
    const verify = mpirun(['verify', out, '--input', target.input(dir), '--json']);
    const report = JSON.parse(verify.stdout.trim().split('\n').pop() || '{}');
    if (verify.status === 0 && report.ok) outcome = 'verified';
    else problems.push(`stitched (exit 0) but verify says ${verify.status === 0 ? 'OK?' : `exit ${verify.status}`}: ${verify.stdout.trim().split('\n').pop()} ${verify.stderr.trim()}`);
  } else if (job.status === 2) {
    if (lines.length !== 1) problems.push(`exit 2 with ${lines.length} h5stitch: lines`);
    if (fs.existsSync(out)) problems.push('exit 2 but an output file exists');
    // Refused after the stitch began: a tile that failed to read, a file that changed, a NaN for an integer output.
    const midRun = /cannot read tile \d+ from|changed during the run|blends to NaN|ended after \d+ bytes/.test(lines[0] ?? '');
    if (problems.length === 0) outcome = /^h5stitch: \[rank \d+\] error:/.test(lines[0]) ? 'aborted' : midRun ? 'midRun' : 'refused';
  } else if (problems.length === 0) {
    problems.push(`exit ${job.status}`);
  }
  if (fs.readdirSync(outDir).some((f) => f.includes('h5stitch-partial') || f.includes('h5stitch-scratch'))) problems.push('a partial output was left behind');
  if (hashTree(dir) !== before) problems.push('the input changed');
  if (problems.length) {
    outcome = 'failed';
    failures.push(`run ${k} (${what}${io.length ? ', --io independent' : ''}): ${problems.join('; ')}\n  stderr: ${job.stderr.trim().split('\n').slice(0, 6).join('\n          ')}`);
  } else if (!keep) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  count(`${target.name}/${kind}`, outcome);
  if (verbose) console.log(`run ${k} ${what}${io.length ? ' (--io independent)' : ''}: ${outcome}${lines[0] ? `: ${lines[0]}` : ''}`);
  if (process.stderr.isTTY) process.stderr.write(`\rfuzz: ${k + 1}/${runs} runs, ${failures.length} failed`);
  for (const f of fs.readdirSync(outDir)) fs.rmSync(path.join(outDir, f), { force: true });
}
if (process.stderr.isTTY) process.stderr.write('\n');
if (tmpfs) spawnSync('umount', [outDir]);

const header = ['target/mutation', 'runs', 'verified', 'refused', 'mid-run', 'aborted', 'failed'];
const rows = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, r]) => [key, r.runs, r.verified, r.refused, r.midRun, r.aborted, r.failed]);
const total = rows.reduce((t, r) => t.map((v, i) => (i === 0 ? 'total' : v + r[i])), ['total', 0, 0, 0, 0, 0, 0]);
const widths = header.map((h, i) => Math.max(h.length, ...[...rows, total].map((r) => String(r[i]).length)));
const line = (r) => r.map((v, i) => (i === 0 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join('  ');
console.log(`fuzz: seed ${seed}, ${runs} runs in ${((Date.now() - started) / 1000).toFixed(0)} s (verified: exit 0 and verify OK; ` +
  'refused: exit 2, one line agreed by all ranks before anything was written; mid-run: the same, agreed after the stitch began ' +
  '(a tile that failed to read); aborted: exit 2, one line from a rank that ended the job with MPI_Abort)');
console.log([line(header), ...rows.map(line), line(total)].join('\n'));
for (const f of failures) console.log(`FAILED ${f}`);
if (relaunched) console.log(`fuzz: ${relaunched} jobs mpirun failed to start (exit 1, no output) were started again`);
console.log(`fuzz: ${failures.length} runs broke a rule`);
if (failures.length === 0 && !keep) fs.rmSync(work, { recursive: true, force: true });
else console.log(`fuzz: inputs of failed runs kept in ${work}`);
process.exitCode = failures.length ? 1 : 0;

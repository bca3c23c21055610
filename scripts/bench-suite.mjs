#!/usr/bin/env node
// The benchmark suite: h5stitch against the classic h5py + mpi4py recipe (bench/classic_stitch.py)
// and against the write floor (one process writing the same bytes into a new file + fsync), at
// several sizes and rank counts, in ONE run, the jobs interleaved.
//
//   node scripts/bench-suite.mjs [--suite classic|scale|register] [--cases a,b] [--ranks 1,2,4] [--repeat 3]
//                                [--variants LIST] [--dir DIR] [--out FILE.json [--append]] [--mpirun-args "..."]
//   node scripts/bench-suite.mjs --merge A.json B.json ... --out ALL.json   (cases run separately, one document)
//
// Why a plain Node parent and not `bench` inside mpirun: every job here is its own `mpirun`
// (h5stitch and the classic recipe each start MPI as users do, and a rank of an MPI job must not
// spawn mpirun). This process never initialises MPI; it only launches jobs, one at a time.
//
// Design: for each case and rank count, `repeat` rounds; each round runs every variant once
// (h5stitch default, h5stitch --blend none, --io collective / --io independent, classic recipe,
// raw write), the order rotated by one each round so no variant always runs after the same one.
// The machine is shared and noisy, so every figure is a median over the rounds of one run, and
// every ratio is the median of the per-round ratios of jobs that ran side by side (paired).
// Times: "wall" is from after MPI start-up (all ranks past a barrier) to the closed file on both
// sides (h5stitch: the report's wallSeconds; classic: its wall_s; raw: dd's process time);
// "job" is the whole mpirun job (start-up, input checks, exit) as the shell sees it.
// After the rounds every output is checked (see checkOutputs: `verify` once per blend and case,
// pixel digests for the rest), and the classic output must equal h5stitch --blend none (plain sum).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// --suite register (MIST's reference grid: register + stitch) is its own script; it takes the rest.
const suiteAt = process.argv.findIndex((a) => a === '--suite' || a === '--suite=register');
if (suiteAt > 0 && (process.argv[suiteAt] === '--suite=register' || process.argv[suiteAt + 1] === 'register')) {
  await import('./bench-register.mjs');
  process.exit(0);
}
const CASES = {
  // name: grid, tile, overlap; maxRanks: the rank counts worth their time on a 2-core VM.
  'small-224MB': { tiles: [8, 8], tile: 1024, overlap: 102 },
  '476MiB': { tiles: [12, 12], tile: 1024, overlap: 102 },
  '3.3GiB': { tiles: [16, 16], tile: 2048, overlap: 205 },
  '90k-tiles': { tiles: [300, 300], tile: 16, overlap: 2 },
};
const SUITES = { classic: ['small-224MB'], scale: ['476MiB', '3.3GiB', '90k-tiles'] };
const VARIANTS = {
  h5stitch: [],
  'h5stitch-none': ['--blend', 'none'],
  'h5stitch-collective': ['--io', 'collective'],
  'h5stitch-independent': ['--io', 'independent'],
  // Leaves writing to the final sync instead of starting it band by band (--writeback early).
  'h5stitch-writeback-end': ['--writeback', 'end'],
  // The multiscale pyramid in the same pass (docs/pyramid.md); its cost is its time ÷ h5stitch's.
  'h5stitch-pyramid': ['--pyramid'],
};
const ALL_VARIANTS = [...Object.keys(VARIANTS), 'classic', 'raw'];
// Opt-in variants (--variants): not part of the default comparison.
const DEFAULT_VARIANTS = ALL_VARIANTS.filter((v) => v !== 'h5stitch-pyramid');

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    suite: { type: 'string', default: 'classic' },
    cases: { type: 'string' },
    ranks: { type: 'string', default: '1,2,4' },
    repeat: { type: 'string', default: '3' },
    variants: { type: 'string', default: DEFAULT_VARIANTS.join(',') },
    dir: { type: 'string', default: path.join(os.tmpdir(), 'h5stitch-suite') },
    out: { type: 'string' },
    'mpirun-args': { type: 'string', default: '' },
    'skip-verify': { type: 'boolean', default: false },
    // Blends whose first output `verify` checks (minutes at GiB sizes here); --blend none outputs
    // not verified are still compared with the classic recipe's (an independent implementation).
    'verify-blends': { type: 'string', default: 'linear,none' },
    // Adds this run's cases to an existing --out document (cases that need other ranks or repeats).
    append: { type: 'boolean', default: false },
    // Only merges finished suite documents (positionals) into --out and renders its Markdown.
    merge: { type: 'boolean', default: false },
    // Leaves the last rank count's outputs in --dir (to verify them later by hand).
    keep: { type: 'boolean', default: false },
  },
});
function usage(message) {
  console.error(`bench-suite: ${message}`);
  process.exit(2);
}
if (!SUITES[opt.suite] && !opt.cases) usage(`Expected one of ${Object.keys(SUITES).join(' | ')} for --suite but received "${opt.suite}"`);
const caseNames = opt.cases ? opt.cases.split(',') : SUITES[opt.suite];
for (const c of caseNames) if (!CASES[c]) usage(`Expected cases of ${Object.keys(CASES).join(', ')} for --cases but received "${c}"`);
const ranksList = opt.ranks.split(',').map(Number);
if (!ranksList.every((n) => Number.isInteger(n) && n >= 1)) usage(`Expected rank counts like 1,2,4 for --ranks but received "${opt.ranks}"`);
const repeat = Number(opt.repeat);
if (!Number.isInteger(repeat) || repeat < 1) usage(`Expected an integer >= 1 for --repeat but received "${opt.repeat}"`);
const variants = opt.variants.split(',');
for (const v of variants) if (!ALL_VARIANTS.includes(v)) usage(`Expected variants of ${ALL_VARIANTS.join(', ')} for --variants but received "${v}"`);

const dir = path.resolve(opt.dir);
fs.mkdirSync(dir, { recursive: true });
const env = { ...process.env, NO_COLOR: '1', OMPI_MCA_rmaps_base_oversubscribe: '1', OMPI_MCA_mpi_yield_when_idle: '1' };
if (process.getuid?.() === 0) Object.assign(env, { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' });
const mpirunArgs = opt['mpirun-args'].split(/\s+/).filter(Boolean);
const stitchJs = path.join(root, 'dist', 'stitch.js');
const classicPy = path.join(root, 'bench', 'classic_stitch.py');
const digestPy = path.join(root, 'bench', 'dataset_digest.py');
const log = (s) => process.stderr.write(`bench-suite: ${s}\n`);

/** Runs one job; returns its stdout, stderr, whole-job seconds. Throws (naming the job) when it fails. */
function run(cmd, args, what) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
  return { stdout: r.stdout, stderr: r.stderr, seconds };
}
const lastJson = (text) => JSON.parse(text.trim().split('\n').filter((l) => l.startsWith('{')).pop());
/** Each rank runs under GNU time, which prints its peak RSS (KiB) on stderr. */
const rssOf = (stderr) => [...stderr.matchAll(/^suite-rss (\d+)$/gm)].map((m) => Number(m[1]));
const mpirun = (n, argv) => ['mpirun', [...mpirunArgs, '-n', String(n), '/usr/bin/time', '-f', 'suite-rss %M', ...argv]];

function tileSet(name) {
  const c = CASES[name];
  const file = path.join(dir, `tiles-${c.tiles.join('x')}-${c.tile}-o${c.overlap}-float32.h5`);
  // The marker is written after generate succeeded: a half-written file from an interrupted run is redone.
  if (fs.existsSync(`${file}.done`)) return file;
  log(`generating ${file}`);
  const [cmd, args] = ['mpirun', ['-n', '1', 'node', stitchJs, 'generate', file, '--tiles', c.tiles.join('x'), '--tile', String(c.tile), '--overlap', String(c.overlap), '--force']];
  const r = run(cmd, args, `generate ${name}`);
  log(`generated in ${r.seconds.toFixed(1)} s`);
  fs.writeFileSync(`${file}.done`, '');
  return file;
}

// Named by case too: suites of different cases may share --dir (and run at the same time).
const outFile = (v) => path.join(dir, `out-${currentCase}-${v}.h5`);
let currentCase = '';
function runVariant(v, n, input, bytes) {
  const out = outFile(v);
  fs.rmSync(out, { force: true });
  if (v === 'raw') {
    // One process, the same byte count, a new file, fsync: the floor for writing this output here.
    const r = run('dd', ['if=/dev/zero', `of=${out}`, 'bs=16M', `count=${bytes}`, 'iflag=count_bytes', 'conv=fsync', 'status=none'], 'raw write');
    fs.rmSync(out, { force: true });
    return { wall: r.seconds, job: r.seconds };
  }
  if (v === 'classic') {
    const [cmd, args] = mpirun(n, ['/usr/bin/python3', classicPy, input, '--out', out]);
    const r = run(cmd, args, `classic (${n} ranks)`);
    const j = lastJson(r.stdout);
    return { wall: j.wall_s, job: r.seconds, phases: j.phases, rss: rssOf(r.stderr) };
  }
  const [cmd, args] = mpirun(n, ['node', stitchJs, input, '--out', out, '--force', '--json', ...VARIANTS[v]]);
  const r = run(cmd, args, `${v} (${n} ranks)`);
  const j = lastJson(r.stdout);
  return { wall: j.wallSeconds, job: r.seconds, phases: j.phases, rss: rssOf(r.stderr), io: j.io, pipeline: j.pipeline, memory: j.memory, bytes: j.bytes, pyramid: j.pyramid };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** SHA-256 of an output's /stitched values (bench/dataset_digest.py): same pixels, bit for bit. */
function digest(file) {
  return lastJson(run('/usr/bin/python3', [digestPy, file, '/stitched'], `digest of ${file}`).stdout).sha256;
}

/**
 * Checks every output of one rank count. Per case, the first h5stitch output of each blend is
 * checked by `verify` (every tile against its pixels: timed, for the verify / stitch ratio); every
 * other output must equal a verified one bit for bit (a digest of its pixels), which is as strong
 * and takes seconds instead of minutes. The classic output must equal h5stitch --blend none.
 */
function checkOutputs(n, input, runs, verified) {
  const checks = {};
  const digests = {};
  for (const v of [...Object.keys(VARIANTS), 'classic']) if (runs[v]) digests[v] = digest(outFile(v));
  for (const v of Object.keys(VARIANTS)) {
    if (!runs[v]) continue;
    const blend = v === 'h5stitch-none' ? 'none' : 'linear';
    if (verified[blend] === undefined && !opt['verify-blends'].split(',').includes(blend)) {
      // Unverified, but every output of a blend must still hold the same pixels as the first one.
      const first = (verified.unverifiedFirst ??= {});
      first[blend] ??= digests[v];
      checks[v] = { verified: undefined, verifiedBy: 'not run', sameAsFirst: digests[v] === first[blend] };
    } else if (verified[blend] === undefined) {
      const [cmd, args] = ['mpirun', [...mpirunArgs, '-n', String(n), 'node', stitchJs, 'verify', outFile(v), '--input', input, '--json']];
      const t0 = process.hrtime.bigint();
      const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      let ok = false;
      try { ok = r.status === 0 && lastJson(r.stdout).ok === true; } catch { /* no report: not verified */ }
      log(`verify ${v} (${n} ranks): ${ok ? 'ok' : 'FAILED'} in ${seconds.toFixed(1)} s`);
      if (ok) verified[blend] = digests[v];
      checks[v] = { verified: ok, verifiedBy: 'verify', verifyJobSeconds: seconds };
    } else {
      checks[v] = { verified: digests[v] === verified[blend], verifiedBy: 'same pixels as a verified output' };
    }
  }
  // Same arithmetic (plain sum of float32 tiles): identical pixels expected.
  if (runs.classic && runs['h5stitch-none']) checks.classic = { identicalToBlendNone: digests.classic === digests['h5stitch-none'] };
  return checks;
}

function runCase(name, save) {
  currentCase = name;
  const input = tileSet(name);
  const c = CASES[name];
  const canvas = [0, 1].map((a) => (c.tiles[a] - 1) * (c.tile - c.overlap) + c.tile);
  const bytes = canvas[0] * canvas[1] * 4;
  const perRanks = [];
  const verified = {};
  for (const n of ranksList) {
    // One rank: slab always writes independently, so the --io variants repeat the default.
    const vs = variants.filter((v) => !(n === 1 && (v === 'h5stitch-collective' || v === 'h5stitch-independent')));
    const runs = Object.fromEntries(vs.map((v) => [v, []]));
    for (let i = 0; i < repeat; i++) {
      const order = vs.map((_, k) => vs[(k + i) % vs.length]);
      for (const v of order) {
        const r = runVariant(v, n, input, bytes);
        runs[v].push(r);
        log(`${name} n=${n} round ${i + 1}/${repeat} ${v}: ${r.wall.toFixed(3)} s (job ${r.job.toFixed(2)} s)`);
      }
    }
    const checks = opt['skip-verify'] ? {} : checkOutputs(n, input, runs, verified);
    const summary = {};
    for (const v of vs) {
      const rs = runs[v];
      const walls = rs.map((r) => r.wall);
      const mid = rs[walls.indexOf([...walls].sort((a, b) => a - b)[Math.floor((walls.length - 1) / 2)])];
      const paired = (other) => (runs[other] ? median(rs.map((r, i) => r.wall / runs[other][i].wall)) : undefined);
      summary[v] = {
        runs: walls, median: median(walls), jobMedian: median(rs.map((r) => r.job)),
        phases: mid.phases, io: mid.io, pipeline: mid.pipeline, memory: mid.memory,
        // A pyramid's own seconds (kernel, level writes; max over ranks), per round.
        ...(mid.pyramid ? { pyramid: rs.map((r) => r.pyramid) } : {}),
        peakRssKiB: rs[0].rss ? Math.max(...rs.flatMap((r) => r.rss)) : undefined,
        toRaw: paired('raw'), toDefault: v === 'h5stitch' ? undefined : paired('h5stitch'), classicOver: runs.classic ? median(rs.map((r, i) => runs.classic[i].wall / r.wall)) : undefined,
        verifySeconds: checks[v]?.verifyJobSeconds, verifyOverStitch: checks[v] ? checks[v].verifyJobSeconds / median(rs.map((r) => r.job)) : undefined,
        ...checks[v],
      };
    }
    perRanks.push({ ranks: n, variants: summary });
    save({ case: name, ...c, canvas, bytes, input, results: perRanks, partial: true });
    if (opt.keep && n === ranksList[ranksList.length - 1]) continue;
    for (const v of Object.keys(VARIANTS)) fs.rmSync(outFile(v), { force: true });
    fs.rmSync(outFile('classic'), { force: true });
  }
  return { case: name, ...c, canvas, bytes, input, results: perRanks };
}

function machine() {
  const mpi = spawnSync('mpirun', ['--version'], { encoding: 'utf8', env }).stdout.split('\n')[0];
  const h5 = spawnSync('h5dump', ['-V'], { encoding: 'utf8' }).stdout?.match(/Version (\S+)/)?.[1];
  const fsType = spawnSync('findmnt', ['-n', '-o', 'FSTYPE', '--target', dir], { encoding: 'utf8' }).stdout?.trim();
  return { host: os.hostname(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), mpi, hdf5: h5, dir, fileSystem: fsType, load: os.loadavg() };
}

const f = (v, d = 3) => (v === undefined || Number.isNaN(v) ? '' : Number(v).toFixed(d));
function markdown(doc) {
  const m = doc.machine;
  const lines = [`# h5stitch bench suite "${doc.suite}": ${m.host}`, '',
    `${m.cpus} CPUs (${m.cpuModel}), ${m.memGiB} GiB, ${m.mpi}, HDF5 ${m.hdf5}, output on ${m.fileSystem} (${m.dir}); ` +
    `load average at start ${m.load.map((x) => x.toFixed(1)).join(' ')}. Interleaved rounds (each case says how many); medians; ratios are medians of per-round ratios.`, ''];
  for (const c of doc.cases) {
    lines.push(`## ${c.case}: ${c.tiles.join('x')} tiles of ${c.tile}² float32, overlap ${c.overlap} → ${c.canvas.join('x')} (${(c.bytes / 2 ** 20).toFixed(0)} MiB); ${c.repeat ?? doc.repeat} rounds` +
      (c.date ? `, finished ${c.date.slice(11, 16)} UTC, load average then ${c.loadAtEnd.map((x) => x.toFixed(1)).join(' ')}` : ''), '');
    lines.push('| ranks | variant | wall s | job s | read | compute | convert | write | sync | plan | io | pipelined | peak RSS MiB (max rank) | bound MiB | time ÷ raw write | classic time ÷ this | verify s | verified |');
    lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---|');
    const pyramidLines = [];
    for (const r of c.results) {
      for (const [v, s] of Object.entries(r.variants)) {
        const p = s.phases ?? {};
        const cl = v === 'classic';
        const bound = s.memory?.boundKiB ? Math.max(...s.memory.boundKiB) / 1024 : undefined;
        const verified = cl ? (s.identicalToBlendNone === undefined ? '' : s.identicalToBlendNone ? '= --blend none' : 'DIFFERS') : v === 'raw' ? '' : s.verified === undefined ? (s.sameAsFirst === false ? 'DIFFERS from the first output' : s.verifiedBy ? 'not run (= first output)' : '') : s.verified ? (s.verifiedBy === 'verify' ? 'yes (verify)' : 'yes (= verified pixels)') : 'NO';
        if (s.toDefault !== undefined && v === 'h5stitch-pyramid') pyramidLines.push(`- ${r.ranks} rank${r.ranks === 1 ? '' : 's'}: h5stitch-pyramid ÷ h5stitch (paired, same rounds) = ${f(s.toDefault)}`);
        lines.push(`| ${r.ranks} | ${v} | ${f(s.median)} | ${f(s.jobMedian, 2)} | ${cl ? f(p.read_tiles_s) : f(p.read)} | ${f(p.compute)} | ${f(p.convert)} | ${cl ? f(p.add_write_s) : f(p.write)} | ${cl ? f(p.flush_s + p.close_s) : f(p.sync)} | ${f(p.plan)} | ${s.io ?? (cl ? 'indep. (atomic)' : '')} | ${s.pipeline === undefined ? '' : s.pipeline ? 'yes' : 'no'} | ${s.peakRssKiB ? f(s.peakRssKiB / 1024, 0) : ''} | ${f(bound, 0)} | ${f(s.toRaw, 2)} | ${v === 'raw' || cl ? '' : f(s.classicOver, 2)} | ${f(s.verifySeconds, 2)} | ${verified} |`);
      }
    }
    if (pyramidLines.length > 0) lines.push('', ...pyramidLines);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

if (opt.merge) {
  if (!opt.out || positionals.length === 0) usage('--merge needs suite documents and --out');
  const docs = positionals.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const merged = { ...docs[0], suite: 'merged', runs: docs.flatMap((d) => d.runs ?? []), cases: docs.flatMap((d) => d.cases) };
  fs.writeFileSync(opt.out, `${JSON.stringify(merged, null, 1)}\n`);
  fs.writeFileSync(opt.out.replace(/\.json$/, '.md'), markdown(merged));
  process.stdout.write(markdown(merged));
  process.exit(0);
}

const doc = { command: 'bench-suite', suite: opt.cases ? 'custom' : opt.suite, date: new Date().toISOString(), repeat, ranks: ranksList, variants, mpirunArgs, machine: machine(), cases: [] };
const out = path.resolve(opt.out ?? path.join(root, 'bench', 'results', `${doc.date.slice(0, 10)}-${os.hostname().split('.')[0]}-suite-${doc.suite}.json`));
if (opt.append && fs.existsSync(out)) {
  const before = JSON.parse(fs.readFileSync(out, 'utf8'));
  doc.cases = before.cases;
  doc.runs = [...(before.runs ?? [{ date: before.date, suite: before.suite, repeat: before.repeat, ranks: before.ranks, variants: before.variants, machine: before.machine }])];
}
(doc.runs ??= []).push({ date: doc.date, cases: caseNames, repeat, ranks: ranksList, variants, machine: doc.machine });
for (const name of caseNames) {
  const result = runCase(name, (partial) => {
    // Each finished rank count is kept: a long run stopped later keeps what it measured.
    const kept = { ...doc, cases: [...doc.cases, partial] };
    fs.writeFileSync(out, `${JSON.stringify(kept, null, 1)}\n`);
    fs.writeFileSync(out.replace(/\.json$/, '.md'), markdown(kept));
  });
  Object.assign(result, { repeat, date: new Date().toISOString(), loadAtEnd: os.loadavg() });
  doc.cases.push(result);
  // Written after each case: a long run interrupted later keeps what it measured.
  fs.writeFileSync(out, `${JSON.stringify(doc, null, 1)}\n`);
  fs.writeFileSync(out.replace(/\.json$/, '.md'), markdown(doc));
}
log(`wrote ${out} and ${out.replace(/\.json$/, '.md')}`);
process.stdout.write(markdown(doc));
const bad = doc.cases.flatMap((c) => c.results.flatMap((r) => Object.entries(r.variants)
  .filter(([v, s]) => s.verified === false || s.identicalToBlendNone === false || s.sameAsFirst === false).map(([v]) => `${c.case} n=${r.ranks} ${v}`)));
if (bad.length) {
  log(`outputs that failed their checks: ${bad.join(', ')}`);
  process.exit(1);
}

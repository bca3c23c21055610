#!/usr/bin/env node
// The benchmark suite: h5stitch against the classic h5py + mpi4py recipe (bench/classic_stitch.py)
// and against the write floor (one process writing the same bytes into a new file + fsync), at
// several sizes and rank counts, in ONE run, the jobs interleaved.
//
//   node scripts/bench-suite.mjs [--suite classic|scale|register] [--cases a,b] [--ranks 1,2,4] [--repeat 3]
//                                [--variants LIST] [--dir DIR] [--out FILE.json [--append]] [--mpirun-args "..."]
//                                [--verify-rounds 0|1] [--verify-blends linear,none] [--skip-verify] [--keep]
//   node scripts/bench-suite.mjs --merge A.json B.json ... --out ALL.json   (cases run separately, one document)
//
// Why a plain Node parent and not `bench` inside mpirun: every job here is its own `mpirun`
// (h5stitch and the classic recipe each start MPI as users do, and a rank of an MPI job must not
// spawn mpirun). This process never initialises MPI; it only launches jobs, one at a time.
//
// Design: for each case and rank count (or all rank counts together: interleaveRanks), `repeat`
// rounds; each round runs every variant once
// (h5stitch default, h5stitch --blend none, --io collective / --io independent, classic recipe,
// raw write), the order rotated by one each round so no variant always runs after the same one.
// The machine is shared and noisy, so every figure is a median over the rounds of one run, and
// every ratio is the median of the per-round ratios of jobs that ran side by side (paired).
// Times: "wall" is from after MPI start-up (all ranks past a barrier) to the closed file on both
// sides (h5stitch: the report's wallSeconds; classic: its wall_s; raw: dd's process time);
// "job" is the whole mpirun job (start-up, input checks, exit) as the shell sees it.
// `verify` runs after every default h5stitch job (the verify / stitch ratio is paired too). After
// the rounds every output is checked (see checkOutputs: verified, or pixel digests equal to a
// verified output and to the first rank count's), and the classic output must equal h5stitch
// --blend none (plain sum). Each run writes FILE.json, FILE.md and its chart (FILE.vl.json, FILE.svg).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { jobEnv, lastJson, runJob } from './bench-jobs.mjs';

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
  // The issue's verify row (a 49152² uint8 output of 576 tiles, 2 ranks) and its generate row
  // (24x24 tiles of 2048² uint8, generated in parallel: generateRanks): uint8 tiles, uint8 output.
  '2.3GiB-uint8': { tiles: [24, 24], tile: 2048, overlap: 0, dtype: 'uint8', stitchArgs: ['--dtype', 'uint8'], generateRanks: 2 },
  // Compression throughput against the rank count: only h5stitch (the classic recipe writes no
  // filtered chunks, and the raw write is no floor for compressed bytes). The rank counts run in
  // the same rounds (interleaveRanks), so "speed-up over the first rank count" is a paired ratio;
  // --bind-to none so that neither a lone rank nor two ranks are held to one core each by Open MPI.
  '476MiB-gzip': {
    tiles: [12, 12], tile: 1024, overlap: 102, stitchArgs: ['--chunk', '1024x1024', '--compress', 'gzip:4'],
    variants: ['h5stitch'], mpirunArgs: ['--bind-to', 'none'], interleaveRanks: true,
  },
};
const SUITES = { classic: ['small-224MB'], scale: ['476MiB', '3.3GiB', '90k-tiles', '476MiB-gzip', '2.3GiB-uint8'] };
const BYTES_PER_PIXEL = { uint8: 1, float32: 4 };
// Seconds `generate` took for a case's tile set in this run (absent when the set was already there).
const generateSeconds = {};
const VARIANTS = {
  h5stitch: [],
  'h5stitch-none': ['--blend', 'none'],
  'h5stitch-collective': ['--io', 'collective'],
  'h5stitch-independent': ['--io', 'independent'],
  // Leaves writing to the final sync instead of starting it band by band (--writeback early).
  'h5stitch-writeback-end': ['--writeback', 'end'],
  // The multiscale pyramid in the same pass (docs/pyramid.md); its cost is its time ÷ h5stitch's.
  'h5stitch-pyramid': ['--pyramid'],
  // The blend on a second thread even without a spare CPU per rank (the default pipelines only with one).
  'h5stitch-pipeline-on': ['--pipeline', 'on'],
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
    // verify runs right after each default h5stitch job, on its output, in every round (paired:
    // the verify / stitch ratio is a median of per-round ratios of adjacent jobs); 0 turns it off.
    'verify-rounds': { type: 'string', default: '1' },
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
const env = jobEnv();
const mpirunArgs = opt['mpirun-args'].split(/\s+/).filter(Boolean);
const stitchJs = path.join(root, 'dist', 'stitch.js');
const classicPy = path.join(root, 'bench', 'classic_stitch.py');
const digestPy = path.join(root, 'bench', 'dataset_digest.py');
const log = (s) => process.stderr.write(`bench-suite: ${s}\n`);

const run = (cmd, args, what) => runJob(env, cmd, args, what);
/** Each rank runs under GNU time, which prints its peak RSS (KiB) on stderr. */
const rssOf = (stderr) => [...stderr.matchAll(/^suite-rss (\d+)$/gm)].map((m) => Number(m[1]));
const mpirun = (n, argv) => ['mpirun', [...mpirunArgs, ...(CASES[currentCase]?.mpirunArgs ?? []), '-n', String(n), '/usr/bin/time', '-f', 'suite-rss %M', ...argv]];

function tileSet(name) {
  const c = CASES[name];
  const file = path.join(dir, `tiles-${c.tiles.join('x')}-${c.tile}-o${c.overlap}-${c.dtype ?? 'float32'}.h5`);
  // The marker is written after generate succeeded: a half-written file from an interrupted run is redone.
  if (fs.existsSync(`${file}.done`)) return file;
  log(`generating ${file}`);
  const [cmd, args] = ['mpirun', ['-n', String(c.generateRanks ?? 1), 'node', stitchJs, 'generate', file, '--tiles', c.tiles.join('x'), '--tile', String(c.tile),
    '--overlap', String(c.overlap), ...(c.dtype ? ['--dtype', c.dtype] : []), '--force']];
  const r = run(cmd, args, `generate ${name}`);
  generateSeconds[name] = r.seconds;
  log(`generated in ${r.seconds.toFixed(1)} s (${c.generateRanks ?? 1} ranks)`);
  fs.writeFileSync(`${file}.done`, '');
  return file;
}

// Named by case and rank count too: suites of different cases may share --dir (and run at the
// same time), and a case may interleave its rank counts.
const outFile = (v, n) => path.join(dir, `out-${currentCase}-n${n}-${v}.h5`);
let currentCase = '';
function runVariant(v, n, input, bytes) {
  const out = outFile(v, n);
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
  const [cmd, args] = mpirun(n, ['node', stitchJs, input, '--out', out, '--force', '--json', ...(CASES[currentCase].stitchArgs ?? []), ...VARIANTS[v]]);
  const r = run(cmd, args, `${v} (${n} ranks)`);
  const j = lastJson(r.stdout);
  const result = { wall: j.wallSeconds, job: r.seconds, phases: j.phases, rss: rssOf(r.stderr), io: j.io, pipeline: j.pipeline, memory: j.memory, bytes: j.bytes, pyramid: j.pyramid };
  if (v === 'h5stitch' && opt['verify-rounds'] !== '0' && !opt['skip-verify']) result.verify = verifyJob(n, out, input);
  return result;
}

/** `verify` of one output on n ranks: its whole-job seconds and verdict. */
function verifyJob(n, file, input) {
  const [cmd, args] = mpirun(n, ['node', stitchJs, 'verify', file, '--input', input, '--json']);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let ok = false;
  try {
    ok = r.status === 0 && lastJson(r.stdout).ok === true;
  } catch { /* no report: not verified */ }
  log(`verify (${n} ranks): ${ok ? 'ok' : 'FAILED'} in ${seconds.toFixed(1)} s`);
  return { ok, seconds };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** SHA-256 of an output's /stitched values (bench/dataset_digest.py): same pixels, bit for bit. */
function digest(file) {
  return lastJson(run('/usr/bin/python3', [digestPy, file, '/stitched'], `digest of ${file}`).stdout);
}

/**
 * Checks every output of one rank count. Per blend, the first h5stitch output is checked by
 * `verify` on the same ranks (every tile against its pixels; timed, for the verify / stitch
 * ratio); every other output must equal it bit for bit (a digest of its pixels), which is as
 * strong and takes seconds. Each blend's pixels must also equal those of the first rank count
 * (`firstDigests`), and the classic output must equal h5stitch --blend none.
 */
function checkOutputs(n, input, runs, firstDigests) {
  const checks = {};
  const digests = {};
  const verified = {};
  for (const v of [...Object.keys(VARIANTS), 'classic']) {
    if (!runs[v]) continue;
    const d = digest(outFile(v, n));
    digests[v] = d.sha256;
    checks[v] = { fileBytes: d.fileBytes, storageBytes: d.storageBytes };
  }
  for (const v of Object.keys(VARIANTS)) {
    if (!runs[v]) continue;
    const blend = v === 'h5stitch-none' ? 'none' : 'linear';
    const sameAcrossRanks = (firstDigests[blend] ??= digests[v]) === digests[v];
    if (verified[blend] === undefined && !opt['verify-blends'].split(',').includes(blend)) {
      // Unverified, but every output of a blend must still hold the same pixels as the first one.
      verified[blend] = null;
      Object.assign(checks[v], { verified: undefined, verifiedBy: 'not run', sameAsFirst: sameAcrossRanks });
    } else if (verified[blend] === null) {
      Object.assign(checks[v], { verified: undefined, verifiedBy: 'not run', sameAsFirst: digests[v] === firstDigests[blend] });
    } else if (verified[blend] === undefined && runs[v].every((r) => r.verify)) {
      // Verified in every round, right after each stitch (the last output is the one kept).
      const ok = runs[v].every((r) => r.verify.ok);
      if (ok) verified[blend] = digests[v];
      Object.assign(checks[v], { verified: ok && sameAcrossRanks, verifiedBy: 'verify', verifyRounds: runs[v].length, sameAcrossRanks });
    } else if (verified[blend] === undefined) {
      const { ok, seconds } = verifyJob(n, outFile(v, n), input);
      if (ok) verified[blend] = digests[v];
      Object.assign(checks[v], { verified: ok && sameAcrossRanks, verifiedBy: 'verify', verifyJobSeconds: seconds, sameAcrossRanks });
    } else {
      Object.assign(checks[v], { verified: digests[v] === verified[blend] && sameAcrossRanks, verifiedBy: 'same pixels as a verified output', sameAcrossRanks });
    }
  }
  // Same arithmetic (plain sum of float32 tiles): identical pixels expected.
  if (runs.classic && runs['h5stitch-none']) checks.classic.identicalToBlendNone = digests.classic === digests['h5stitch-none'];
  return checks;
}

/**
 * Empties the page cache before a case (root only): a case then does not start with the previous
 * case's files (or a just-generated 21.7 GB tile set) filling memory, which took the 3.3 GiB case's
 * one-rank jobs from 3.2-4.3 s to 5-11 s in one run. Returns whether it could.
 */
function dropPageCache() {
  try {
    spawnSync('sync');
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

function runCase(name, save) {
  currentCase = name;
  const input = tileSet(name);
  const cachesDropped = dropPageCache();
  log(cachesDropped ? 'page cache dropped' : 'page cache not dropped (needs root)');
  const c = CASES[name];
  const canvas = [0, 1].map((a) => (c.tiles[a] - 1) * (c.tile - c.overlap) + c.tile);
  const bytes = canvas[0] * canvas[1] * BYTES_PER_PIXEL[c.dtype ?? 'float32'];
  const perRanks = [];
  const firstDigests = {};
  const caseVariants = variants.filter((v) => !c.variants || c.variants.includes(v));
  // One rank: slab always writes independently, so the --io variants repeat the default.
  const variantsAt = (n) => caseVariants.filter((v) => !(n === 1 && (v === 'h5stitch-collective' || v === 'h5stitch-independent')));
  // Rank counts one after the other (each its own rounds), or all in the same rounds.
  const groups = c.interleaveRanks ? [ranksList] : ranksList.map((n) => [n]);
  for (const group of groups) {
    const jobs = group.flatMap((n) => variantsAt(n).map((v) => ({ n, v })));
    const runs = Object.fromEntries(group.map((n) => [n, Object.fromEntries(variantsAt(n).map((v) => [v, []]))]));
    const load = { start: os.loadavg(), startedAt: new Date().toISOString() };
    for (let i = 0; i < repeat; i++) {
      const order = jobs.map((_, k) => jobs[(k + i) % jobs.length]);
      for (const { n, v } of order) {
        const r = runVariant(v, n, input, bytes);
        runs[n][v].push(r);
        log(`${name} n=${n} round ${i + 1}/${repeat} ${v}: ${r.wall.toFixed(3)} s (job ${r.job.toFixed(2)} s)`);
      }
    }
    load.end = os.loadavg();
    load.endedAt = new Date().toISOString();
    for (const n of group) {
      const checks = opt['skip-verify'] ? {} : checkOutputs(n, input, runs[n], firstDigests);
      const summary = {};
      for (const v of variantsAt(n)) {
        const rs = runs[n][v];
        const walls = rs.map((r) => r.wall);
        const mid = rs[walls.indexOf([...walls].sort((a, b) => a - b)[Math.floor((walls.length - 1) / 2)])];
        const paired = (other) => (runs[n][other] ? median(rs.map((r, i) => r.wall / runs[n][other][i].wall)) : undefined);
        const pairedJob = (other) => (runs[n][other] ? median(rs.map((r, i) => runs[n][other][i].job / r.job)) : undefined);
        summary[v] = {
          runs: walls, jobRuns: rs.map((r) => r.job), median: median(walls), jobMedian: median(rs.map((r) => r.job)),
          phases: mid.phases, io: mid.io, pipeline: mid.pipeline, memory: mid.memory,
          // A pyramid's own seconds (kernel, level writes; max over ranks), per round.
          ...(mid.pyramid ? { pyramid: rs.map((r) => r.pyramid) } : {}),
          peakRssKiB: rs[0].rss ? Math.max(...rs.flatMap((r) => r.rss)) : undefined,
          toRaw: paired('raw'), toDefault: v === 'h5stitch' ? undefined : paired('h5stitch'), classicOver: runs[n].classic ? median(rs.map((r, i) => runs[n].classic[i].wall / r.wall)) : undefined,
          classicOverJob: v === 'classic' || v === 'raw' ? undefined : pairedJob('classic'),
          // Interleaved rank counts: the first rank count's time over this one's, round by round.
          overFirstRanks: c.interleaveRanks && n !== group[0] ? median(rs.map((r, i) => runs[group[0]][v][i].wall / r.wall)) : undefined,
          ...(rs.every((r) => r.verify)
            ? { verifySeconds: median(rs.map((r) => r.verify.seconds)), verifyOverStitch: median(rs.map((r) => r.verify.seconds / r.job)) }
            : { verifySeconds: checks[v]?.verifyJobSeconds, verifyOverStitch: checks[v]?.verifyJobSeconds ? checks[v].verifyJobSeconds / median(rs.map((r) => r.job)) : undefined }),
          ...checks[v],
        };
      }
      perRanks.push({ ranks: n, load, variants: summary });
    }
    save({ case: name, ...c, canvas, bytes, input, results: perRanks, partial: true });
    if (opt.keep && group === groups[groups.length - 1]) continue;
    for (const n of group) for (const v of [...Object.keys(VARIANTS), 'classic']) fs.rmSync(outFile(v, n), { force: true });
  }
  return { case: name, ...c, canvas, bytes, input, cachesDropped, results: perRanks, ...(generateSeconds[name] ? { generateSeconds: generateSeconds[name] } : {}) };
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
    `load average at start ${m.load.map((x) => x.toFixed(1)).join(' ')}. Interleaved rounds (each case says how many); medians; ratios are medians of per-round ratios ` +
    '(in brackets: the lowest and highest per-round ratio).', ''];
  const loadText = (l) => (l ? `${l.start.map((x) => x.toFixed(1)).join(' ')} → ${l.end.map((x) => x.toFixed(1)).join(' ')}` : '');
  for (const c of doc.cases) {
    lines.push(`## ${c.case}: ${c.tiles.join('x')} tiles of ${c.tile}² ${c.dtype ?? 'float32'}, overlap ${c.overlap} → ${c.canvas.join('x')} (${(c.bytes / 2 ** 20).toFixed(0)} MiB)` +
      `${c.stitchArgs ? `, \`${c.stitchArgs.join(' ')}\`` : ''}${c.mpirunArgs ? `, \`mpirun ${c.mpirunArgs.join(' ')}\`` : ''}; ${c.repeat ?? doc.repeat} rounds` +
      (c.date ? `, finished ${c.date.slice(0, 16).replace('T', ' ')} UTC` : '') +
      (c.generateSeconds ? `; \`generate\` of the tiles took ${c.generateSeconds.toFixed(1)} s (job, ${c.generateRanks ?? 1} rank${(c.generateRanks ?? 1) > 1 ? 's' : ''})` : '') +
      (c.cachesDropped ? '; page cache dropped before the case' : ''), '');
    if (c.note) lines.push(c.note, '');
    const extra = c.interleaveRanks || c.stitchArgs;
    lines.push('| ranks | variant | wall s | job s | plan | read | compute | convert | write | sync | io | pipelined | peak RSS MiB (max rank) | bound MiB | time ÷ raw write | classic ÷ this (wall) | classic ÷ this (job) |' +
      (extra ? ' speed-up over first ranks | file MB | dataset stored MB | file ÷ stored |' : '') + ' verify s | verify ÷ stitch job | verified |');
    lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|' + (extra ? '---:|---:|---:|---:|' : '') + '---:|---:|---|');
    const pyramidLines = [];
    for (const r of c.results) {
      for (const [v, s] of Object.entries(r.variants)) {
        const p = s.phases ?? {};
        const cl = v === 'classic';
        const bound = s.memory?.boundKiB ? Math.max(...s.memory.boundKiB) / 1024 : undefined;
        const verified = cl ? (s.identicalToBlendNone === undefined ? '' : s.identicalToBlendNone ? '= --blend none' : 'DIFFERS') : v === 'raw' ? '' : s.verified === undefined ? (s.sameAsFirst === false ? 'DIFFERS from the first output' : s.verifiedBy ? 'not run (= first output)' : '') : s.verified ? (s.verifiedBy === 'verify' ? 'yes (verify)' : 'yes (= verified pixels)') : 'NO';
        // The spread of the per-round ratios (round by round: the runs arrays are in round order).
        const spread = (num, den) => {
          if (!num || !den || num.length !== den.length) return '';
          const rs = num.map((x, i) => x / den[i]);
          return ` (${f(Math.min(...rs), 2)}–${f(Math.max(...rs), 2)})`;
        };
        const rawSpread = v === 'raw' ? '' : spread(s.runs, r.variants.raw?.runs);
        const classicSpread = v === 'raw' || cl ? '' : spread(r.variants.classic?.runs, s.runs);
        const ext = extra ? ` ${f(s.overFirstRanks, 2)} | ${f(s.fileBytes / 1e6, 1)} | ${f(s.storageBytes / 1e6, 1)} | ${f(s.fileBytes / s.storageBytes, 4)} |` : '';
        if (s.toDefault !== undefined && v === 'h5stitch-pyramid') pyramidLines.push(`- ${r.ranks} rank${r.ranks === 1 ? '' : 's'}: h5stitch-pyramid ÷ h5stitch (paired, same rounds) = ${f(s.toDefault)}`);
        lines.push(`| ${r.ranks} | ${v} | ${f(s.median)} | ${f(s.jobMedian, 2)} | ${cl ? '' : f(p.plan)} | ${cl ? f(p.read_tiles_s) : f(p.read)} | ${f(p.compute)} | ${f(p.convert)} | ${cl ? f(p.add_write_s) : f(p.write)} | ${cl ? f(p.flush_s + p.close_s) : f(p.sync)} | ${s.io ?? (cl ? 'indep. (atomic)' : '')} | ${s.pipeline === undefined ? '' : s.pipeline ? 'yes' : 'no'} | ${s.peakRssKiB ? f(s.peakRssKiB / 1024, 0) : ''} | ${f(bound, 0)} | ${f(s.toRaw, 2)}${s.toRaw === undefined ? '' : rawSpread} | ${v === 'raw' || cl ? '' : f(s.classicOver, 2) + (s.classicOver === undefined ? '' : classicSpread)} | ${f(s.classicOverJob, 2)} |${ext} ${f(s.verifySeconds, 2)} | ${f(s.verifyOverStitch, 2)} | ${verified} |`);
      }
    }
    if (pyramidLines.length > 0) lines.push('', ...pyramidLines);
    lines.push('', 'Load average (1, 5, 15 min) at the start → end of each rank count\'s rounds: ' +
      [...new Map(c.results.map((r) => [JSON.stringify(r.load), r])).values()].map((r) => `${r.load?.startedAt?.slice(11, 16) ?? ''} UTC n=${c.interleaveRanks ? ranksOf(c) : r.ranks}: ${loadText(r.load)}`).join('; ') + '.', '');
  }
  return `${lines.join('\n')}\n`;
}
const ranksOf = (c) => c.results.map((r) => r.ranks).join(',');

/**
 * The suite's chart: same-run ratios only (medians of per-round ratios), per case and rank count:
 * h5stitch's time over the raw write's (target <= 1.25) and the classic recipe's time over
 * h5stitch's (target >= 2), plus verify over stitch. Written as a vega-lite spec (FILE.vl.json,
 * data inline) and rendered offline to FILE.svg with the vega / vega-lite devDependencies.
 */
function chartSpec(doc) {
  const values = [];
  for (const c of doc.cases) {
    for (const r of c.results) {
      // chartVariant: the variant that is the current default (set on runs made before a default changed; see note).
      const s = r.variants[c.chartVariant] ?? r.variants.h5stitch;
      if (!s) continue;
      const ranks = `${r.ranks} rank${r.ranks > 1 ? 's' : ''}`;
      // The write floor is the target for big outputs only (90,000 tiles of 16²: 67 MiB in 90,000 reads).
      if (s.toRaw !== undefined && c.bytes >= 100 * 2 ** 20) values.push({ case: c.case, ranks, measure: 'h5stitch ÷ raw write (target ≤ 1.25)', ratio: s.toRaw });
      if (s.classicOver !== undefined) values.push({ case: c.case, ranks, measure: 'classic ÷ h5stitch (target ≥ 2)', ratio: s.classicOver });
      if (s.verifyOverStitch !== undefined) values.push({ case: c.case, ranks, measure: 'verify ÷ stitch, jobs (target ≤ 1.5)', ratio: s.verifyOverStitch });
      if (s.overFirstRanks !== undefined) values.push({ case: c.case, ranks, measure: `time at ${c.results[0].ranks} rank ÷ this (target ≥ 1.7)`, ratio: s.overFirstRanks });
    }
  }
  const targets = [
    { measure: 'h5stitch ÷ raw write (target ≤ 1.25)', target: 1.25 },
    { measure: 'classic ÷ h5stitch (target ≥ 2)', target: 2 },
    { measure: 'verify ÷ stitch, jobs (target ≤ 1.5)', target: 1.5 },
    ...[...new Set(values.map((v) => v.measure).filter((m) => m.includes('≥ 1.7')))].map((measure) => ({ measure, target: 1.7 })),
  ].filter((t) => values.some((v) => v.measure === t.measure));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `h5stitch bench suite, ${doc.machine.host} (${doc.machine.cpus} CPUs, shared): same-run ratios`, subtitle: 'medians of per-round ratios of interleaved jobs; black line: the target' },
    data: { values: [...values.map((v) => ({ ...v, kind: 'ratio' })), ...targets.map((t) => ({ ...t, kind: 'target' }))] },
    facet: { row: { field: 'measure', type: 'nominal', title: null, sort: targets.map((t) => t.measure), header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelFontWeight: 'bold' } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 480,
      height: 130,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'ratio'" }],
          mark: 'bar',
          encoding: {
            x: { field: 'case', type: 'nominal', title: null, sort: doc.cases.map((c) => c.case), axis: { labelAngle: -20 } },
            xOffset: { field: 'ranks', type: 'nominal' },
            y: { field: 'ratio', type: 'quantitative', title: 'ratio' },
            color: { field: 'ranks', type: 'nominal', title: 'MPI ranks' },
            tooltip: [{ field: 'case' }, { field: 'ranks' }, { field: 'ratio', format: '.2f' }],
          },
        },
        {
          transform: [{ filter: "datum.kind === 'ratio'" }],
          mark: { type: 'text', dy: -6, fontSize: 9 },
          encoding: {
            x: { field: 'case', type: 'nominal', sort: doc.cases.map((c) => c.case) },
            xOffset: { field: 'ranks', type: 'nominal' },
            y: { field: 'ratio', type: 'quantitative' },
            text: { field: 'ratio', format: '.2f' },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'target'" }],
          mark: { type: 'rule', color: 'black', strokeDash: [6, 3], strokeWidth: 1.5 },
          encoding: { y: { field: 'target', type: 'quantitative' } },
        },
      ],
    },
  };
}

/** Writes FILE.vl.json and, when the vega packages are installed (devDependencies), FILE.svg. */
async function writeChart(file, doc) {
  const base = file.replace(/\.json$/, '');
  const spec = chartSpec(doc);
  fs.writeFileSync(`${base}.vl.json`, `${JSON.stringify(spec, null, 1)}\n`);
  try {
    const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
    const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
    fs.writeFileSync(`${base}.svg`, await view.toSVG());
    view.finalize();
  } catch (error) {
    log(`chart: wrote ${base}.vl.json; no SVG (${error.message})`);
  }
}

if (opt.merge) {
  if (!opt.out || positionals.length === 0) usage('--merge needs suite documents and --out');
  const docs = positionals.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  // A case run again in another run joins the first when its rank counts are new (e.g. one rank
  // count per run), else stays apart, named by the time it finished (e.g. an A/B of one rank count).
  const cases = [];
  for (const c of docs.flatMap((d) => d.cases)) {
    const same = cases.filter((k) => k.case === c.case);
    const joinable = same.find((k) => !k.results.some((r) => c.results.some((q) => q.ranks === r.ranks)));
    if (joinable) joinable.results = [...joinable.results, ...c.results].sort((a, b) => a.ranks - b.ranks);
    else cases.push({ ...c, case: same.length ? `${c.case} (${c.date?.slice(11, 16) ?? 'again'})` : c.case });
  }
  const merged = { ...docs[0], suite: 'merged', runs: docs.flatMap((d) => d.runs ?? [{ date: d.date, cases: d.cases.map((c) => c.case), repeat: d.repeat, ranks: d.ranks, variants: d.variants, machine: d.machine }]), cases };
  fs.writeFileSync(opt.out, `${JSON.stringify(merged, null, 1)}\n`);
  fs.writeFileSync(opt.out.replace(/\.json$/, '.md'), markdown(merged));
  await writeChart(opt.out, merged);
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
await writeChart(out, doc);
log(`wrote ${out}, ${out.replace(/\.json$/, '.md')} and the chart (.vl.json, .svg)`);
process.stdout.write(markdown(doc));
const bad = doc.cases.flatMap((c) => c.results.flatMap((r) => Object.entries(r.variants)
  .filter(([v, s]) => s.verified === false || s.identicalToBlendNone === false || s.sameAsFirst === false).map(([v]) => `${c.case} n=${r.ranks} ${v}`)));
if (bad.length) {
  log(`outputs that failed their checks: ${bad.join(', ')}`);
  process.exit(1);
}

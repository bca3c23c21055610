#!/usr/bin/env node
// The registration benchmark (issue 14): MIST's reference grid, 42 x 59 tiles of 1392 x 1040
// uint16 with 10% overlap (2,478 tiles, 7.2 GB), registered and then stitched at the registered
// positions, at each rank count, interleaved. Run as `node scripts/bench-suite.mjs --suite register`
// or directly:
//
//   node scripts/bench-register.mjs [--tiles 42x59] [--tile 1040x1392] [--overlap-y 104 --overlap-x 139]
//        [--drift 30] [--jitter 1] [--blank 10] [--max-shift PX] [--ranks 1,2] [--repeat 2]
//        [--dir DIR] [--out FILE.json] [--mpirun-args "..."] [--no-stitch]
//
// Like bench-suite.mjs this parent never initialises MPI: each register and each stitch is its
// own mpirun job, as a user runs them. The tile set is generated once (every rank renders its
// share of the tiles natively) and kept in --dir. Reported per run: the register job's own
// figures (pairs, pairs/s per rank, the busiest rank's read / FFT / NCC seconds, the solve), the
// stitch's wall time, the whole jobs' times, and the positions' error against the true positions.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { jobEnv, lastJson, runJob } from './bench-jobs.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values: opt } = parseArgs({
  options: {
    suite: { type: 'string', default: 'register' },
    tiles: { type: 'string', default: '42x59' },
    tile: { type: 'string', default: '1040x1392' },
    'overlap-y': { type: 'string', default: '104' },
    'overlap-x': { type: 'string', default: '139' },
    drift: { type: 'string', default: '30' },
    jitter: { type: 'string', default: '1' },
    blank: { type: 'string', default: '10' },
    'max-shift': { type: 'string' },
    ranks: { type: 'string', default: '1,2' },
    repeat: { type: 'string', default: '2' },
    'gen-ranks': { type: 'string', default: '2' },
    dir: { type: 'string', default: path.join(os.tmpdir(), 'h5stitch-register-bench') },
    out: { type: 'string' },
    'mpirun-args': { type: 'string', default: '--bind-to none' },
    'no-stitch': { type: 'boolean', default: false },
  },
});
const usage = (message) => { console.error(`bench-register: ${message}`); process.exit(2); };
const ranksList = opt.ranks.split(',').map(Number);
if (!ranksList.every((n) => Number.isInteger(n) && n >= 1)) usage(`Expected rank counts like 1,2 for --ranks but received "${opt.ranks}"`);
const repeat = Number(opt.repeat);
if (!Number.isInteger(repeat) || repeat < 1) usage(`Expected an integer >= 1 for --repeat but received "${opt.repeat}"`);
const dir = path.resolve(opt.dir);
fs.mkdirSync(dir, { recursive: true });
const env = jobEnv();
const mpirunArgs = opt['mpirun-args'].split(/\s+/).filter(Boolean);
const stitchJs = path.join(root, 'dist', 'stitch.js');
const log = (s) => process.stderr.write(`bench-register: ${s}\n`);

const run = (cmd, args, what) => runJob(env, cmd, args, what, 256 << 20);
// Each rank under GNU time: its CPU seconds (user + system). On a shared machine the wall time
// mostly measures the neighbours; the busiest rank's CPU time is what free cores would take.
const mpirun = (n, argv) => ['mpirun', [...mpirunArgs, '-n', String(n), '/usr/bin/time', '-f', 'bench-cpu %U %S', 'node', stitchJs, ...argv]];
const cpuOf = (stderr) => Math.max(0, ...[...stderr.matchAll(/^bench-cpu ([\d.]+) ([\d.]+)$/gm)].map((m) => Number(m[1]) + Number(m[2])));

const set = {
  tiles: opt.tiles, tile: opt.tile, overlapY: Number(opt['overlap-y']), overlapX: Number(opt['overlap-x']),
  drift: Number(opt.drift), jitter: Number(opt.jitter), blank: Number(opt.blank),
};
const input = path.join(dir, `reg-${set.tiles}-${set.tile}-o${set.overlapY}x${set.overlapX}-uint16-d${set.drift}-j${set.jitter}-b${set.blank}.h5`);
let generation;
if (!fs.existsSync(`${input}.done`)) {
  log(`generating ${input}`);
  const [cmd, args] = mpirun(Number(opt['gen-ranks']), ['generate', input, '--tiles', set.tiles, '--tile', set.tile, '--overlap-y', String(set.overlapY),
    '--overlap-x', String(set.overlapX), '--drift', String(set.drift), '--jitter', String(set.jitter), '--blank', String(set.blank), '--dtype', 'uint16', '--force', '--json']);
  const r = run(cmd, args, 'generate');
  generation = { ranks: Number(opt['gen-ranks']), seconds: r.seconds, bytes: fs.statSync(input).size };
  fs.writeFileSync(`${input}.done`, JSON.stringify(generation));
  log(`generated in ${r.seconds.toFixed(1)} s (${(generation.bytes / 1e9).toFixed(2)} GB)`);
} else generation = JSON.parse(fs.readFileSync(`${input}.done`, 'utf8') || '{}');

/** Position errors against /true_positions (Python, h5py: not this code's reader). */
function errors(positions) {
  const py = 'import sys, json, h5py, numpy as np\n' +
    't = h5py.File(sys.argv[1], "r")["true_positions"][:]; p = h5py.File(sys.argv[2], "r")["positions"][:]\n' +
    'b = [int(v) for v in h5py.File(sys.argv[1], "r")["blank_tiles"][:] if v >= 0]\n' +
    'tex = np.array([i for i in range(len(t)) if i not in b])\n' +
    'off = (p[tex] - t[tex]).mean(0); e = np.hypot(*(p - t - off).T)\n' +
    'print(json.dumps({"texturedMedian": float(np.median(e[tex])), "texturedMax": float(e[tex].max()), "blankMax": float(e[b].max()) if b else None}))\n';
  return lastJson(run('/usr/bin/python3', ['-c', py, input, positions], 'position errors').stdout);
}

const positionsFile = (n) => path.join(dir, `positions-${n}.h5`);
const outFile = path.join(dir, 'stitched.h5');
const results = Object.fromEntries(ranksList.map((n) => [n, []]));
const shift = opt['max-shift'] ? ['--max-shift', opt['max-shift']] : [];
for (let round = 0; round < repeat; round++) {
  // Rotated each round: no rank count always runs first (page cache, neighbours' load).
  const order = ranksList.map((_, k) => ranksList[(k + round) % ranksList.length]);
  for (const n of order) {
    const load = os.loadavg()[0];
    const [rc, ra] = mpirun(n, ['register', input, '--out', positionsFile(n), '--force', '--json', ...shift]);
    const reg = run(rc, ra, `register (${n} ranks)`);
    const report = lastJson(reg.stdout);
    let stitch;
    if (!opt['no-stitch']) {
      fs.rmSync(outFile, { force: true });
      const [sc, sa] = mpirun(n, [input, '--out', outFile, '--positions', `${positionsFile(n)}:/positions`, '--dtype', 'uint16', '--force', '--json']);
      const s = run(sc, sa, `stitch (${n} ranks)`);
      const j = lastJson(s.stdout);
      stitch = { wallSeconds: j.wallSeconds, jobSeconds: s.seconds, cpuSeconds: cpuOf(s.stderr), canvas: j.canvas, outputBytes: j.bytes?.output, phases: j.phases };
      fs.rmSync(outFile, { force: true });
    }
    const r = { round: round + 1, ranks: n, loadBefore: load, register: { jobSeconds: reg.seconds, cpuSeconds: cpuOf(reg.stderr), seconds: report.seconds, jobs: report.jobs, pairs: report.pairs,
      status: report.status, pairsPerSecondPerRank: report.pairsPerSecondPerRank, maxShift: report.maxShift, predictionRms: report.model.predictionRms }, stitch };
    results[n].push(r);
    log(`round ${round + 1}/${repeat}, ${n} ranks (load ${load.toFixed(1)}): register ${report.seconds.total.toFixed(1)} s ` +
      `(read ${report.seconds.read.toFixed(1)}, fft ${report.seconds.fft.toFixed(1)}, ncc ${report.seconds.ncc.toFixed(1)}, solve ${report.seconds.solve.toFixed(2)}; ` +
      `${report.pairsPerSecondPerRank.toFixed(1)} pairs/s per rank)${stitch ? `, stitch ${stitch.wallSeconds.toFixed(1)} s` : ''}`);
  }
}
const bits = ranksList.map((n) => fs.readFileSync(positionsFile(n)));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const summary = ranksList.map((n) => {
  const rs = results[n];
  const m = (f) => median(rs.map(f));
  return {
    ranks: n, runs: rs.length,
    registerSeconds: m((r) => r.register.seconds.total), readSeconds: m((r) => r.register.seconds.read), fftSeconds: m((r) => r.register.seconds.fft),
    nccSeconds: m((r) => r.register.seconds.ncc), solveSeconds: m((r) => r.register.seconds.solve), pairsPerSecondPerRank: m((r) => r.register.pairsPerSecondPerRank),
    stitchSeconds: rs[0].stitch ? m((r) => r.stitch.wallSeconds) : undefined,
    totalSeconds: rs[0].stitch ? m((r) => r.register.seconds.total + r.stitch.wallSeconds) : undefined,
    jobSeconds: m((r) => r.register.jobSeconds + (r.stitch?.jobSeconds ?? 0)),
    registerCpuSeconds: m((r) => r.register.cpuSeconds), stitchCpuSeconds: rs[0].stitch ? m((r) => r.stitch.cpuSeconds) : undefined,
    loadBefore: m((r) => r.loadBefore),
    errors: errors(positionsFile(n)),
  };
});
// Positions files hold the same /positions bits at every rank count? (compared as datasets: the
// file's summary attribute records the rank count and times, so the files differ).
const sameBits = lastJson(run('/usr/bin/python3', ['-c', 'import sys, json, h5py\nv = [h5py.File(f, "r")["positions"][:].tobytes() for f in sys.argv[1:]]\nprint(json.dumps({"same": all(x == v[0] for x in v)}))\n',
  ...ranksList.map(positionsFile)], 'compare positions').stdout).same;
void bits;
const doc = {
  command: 'bench-register', date: new Date().toISOString(), set: { ...set, input, generation }, repeat, ranks: ranksList, mpirunArgs, maxShift: opt['max-shift'] ?? 'default',
  machine: { host: os.hostname(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), loadAtEnd: os.loadavg() },
  pairs: results[ranksList[0]][0].register.pairs, jobs: results[ranksList[0]][0].register.jobs, status: results[ranksList[0]][0].register.status,
  positionsBitIdenticalAcrossRanks: sameBits, summary, runs: results,
};
const f = (v, d = 1) => (v === undefined ? '' : Number(v).toFixed(d));
const md = [`# h5stitch registration bench: ${set.tiles} tiles of ${set.tile} uint16, overlap ${set.overlapY}x${set.overlapX}; ${doc.machine.host}`, '',
  `${doc.machine.cpus} CPUs (${doc.machine.cpuModel}), ${doc.machine.memGiB} GiB; ${repeat} interleaved rounds, medians; --max-shift ${doc.maxShift}; ` +
  `${doc.jobs.real} real + ${doc.jobs.null} null pairs; ${doc.pairs.kept}/${doc.pairs.total} kept; tiles ${doc.status.registered} registered, ${doc.status.modelled} modelled; ` +
  `positions bit-identical across rank counts: ${sameBits ? 'yes' : 'NO'}.`, '',
  '| ranks | register s | read s | FFT s | NCC s | solve s | pairs/s per rank | stitch s | register + stitch s | whole jobs s | CPU s, busiest rank: register / stitch | load before | textured median / max px | blank max px |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...summary.map((s) => `| ${s.ranks} | ${f(s.registerSeconds)} | ${f(s.readSeconds)} | ${f(s.fftSeconds)} | ${f(s.nccSeconds)} | ${f(s.solveSeconds, 2)} | ${f(s.pairsPerSecondPerRank)} | ${f(s.stitchSeconds)} | ${f(s.totalSeconds)} | ${f(s.jobSeconds)} | ${f(s.registerCpuSeconds)} / ${f(s.stitchCpuSeconds)} | ${f(s.loadBefore)} | ${f(s.errors.texturedMedian, 3)} / ${f(s.errors.texturedMax, 3)} | ${f(s.errors.blankMax, 2)} |`), ''].join('\n');
const out = path.resolve(opt.out ?? path.join(root, 'bench', 'results', `${doc.date.slice(0, 10)}-${os.hostname().split('.')[0]}-suite-register.json`));
fs.writeFileSync(out, `${JSON.stringify(doc, null, 1)}\n`);
fs.writeFileSync(out.replace(/\.json$/, '.md'), `${md}\n`);
log(`wrote ${out} and ${out.replace(/\.json$/, '.md')}`);
process.stdout.write(`${md}\n`);

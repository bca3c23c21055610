#!/usr/bin/env node
// Times the global solve (lib/register/solve.ts) on a large grid: R x C tiles (default 316 x 317,
// 100,172 tiles), links measured from true positions (a systematic stage error plus random
// jitter) with 0.1 px Gaussian noise, 1% of the links rejected (low NCC), a few tiles unlinked
// (modelled). Pure JavaScript, no MPI: the solve runs on rank 0 alone in `register`.
//   node scripts/solve-scale.mjs [--rows 316] [--cols 317] [--repeat 3]
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { solvePositions } = require(path.join(root, 'dist', 'register', 'solve.js'));
const { values: opt } = parseArgs({ options: { rows: { type: 'string', default: '316' }, cols: { type: 'string', default: '317' }, repeat: { type: 'string', default: '3' } } });
const rows = Number(opt.rows), cols = Number(opt.cols), n = rows * cols, step = [936, 1253];
let seed = 12345;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const nominal = [], truth = [];
for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
  nominal.push([r * step[0], c * step[1]]);
  const u = c / (cols - 1) - 0.5, v = r / (rows - 1) - 0.5;
  truth.push([r * step[0] + 30 * v + 10 * u + (2 * random() - 1), c * step[1] + 30 * u - 8 * v + (2 * random() - 1)]);
}
function links() {
  const out = [];
  for (let i = 0; i < n; i++) for (const j of [i % cols < cols - 1 ? i + 1 : -1, i + cols < n ? i + cols : -1]) {
    if (j < 0) continue;
    const dy = truth[j][0] - truth[i][0] - (nominal[j][0] - nominal[i][0]) + 0.1 * gaussian();
    const dx = truth[j][1] - truth[i][1] - (nominal[j][1] - nominal[i][1]) + 0.1 * gaussian();
    out.push({ a: i, b: j, dy, dx, ncc: 0.8 + 0.15 * random(), residual: 0, status: random() < 0.01 ? 'low-ncc' : 'kept' });
  }
  // Ten blank tiles: every link of theirs rejected.
  for (let k = 1; k <= 10; k++) { const t = Math.floor((k * n) / 11); for (const l of out) if (l.a === t || l.b === t) l.status = 'low-ncc'; }
  return out;
}
const times = [], cpu = [];
let last;
for (let k = 0; k < Number(opt.repeat); k++) {
  const l = links();
  const t0 = performance.now(), c0 = process.cpuUsage();
  last = solvePositions(nominal, l);
  times.push((performance.now() - t0) / 1000);
  // CPU time too: on a shared machine the wall time mostly measures the neighbours.
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1e6);
}
let worst = 0, sum = 0, count = 0;
const oy = last.tiles[0].y - truth[0][0], ox = last.tiles[0].x - truth[0][1];
for (let i = 0; i < n; i++) if (last.tiles[i].status === 'registered') {
  const e = Math.hypot(last.tiles[i].y - truth[i][0] - oy, last.tiles[i].x - truth[i][1] - ox);
  worst = Math.max(worst, e); sum += e; count++;
}
const statuses = {};
for (const t of last.tiles) statuses[t.status] = (statuses[t.status] ?? 0) + 1;
console.log(JSON.stringify({ tiles: n, links: 2 * n - rows - cols, seconds: times, median: [...times].sort((a, b) => a - b)[times.length >> 1],
  cpuSeconds: cpu, cpuMedian: [...cpu].sort((a, b) => a - b)[cpu.length >> 1], load: (await import('node:os')).loadavg()[0], statuses,
  outliersRemoved: last.outliersRemoved, meanError: sum / count, maxError: worst, predictionRms: last.model.predictionRms }));

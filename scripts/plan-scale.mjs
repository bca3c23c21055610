#!/usr/bin/env node
// Seconds to plan (place, rounds, canonical order, covering lists, one band lookup) square-ish grids of
// 10k, 100k and 1M tiles on one core, without MPI: `node scripts/plan-scale.mjs [TILES...]` after `npm run build`.
import { planStitch } from '../dist/core/plan.js';
import { tilesInBand } from '../dist/core/bands.js';

const counts = process.argv.slice(2).map(Number);
for (const tiles of counts.length ? counts : [10_000, 100_000, 1_000_000]) {
  const rows = Math.round(Math.sqrt(tiles)), cols = Math.ceil(tiles / rows);
  const layout = Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => r * cols + c));
  const cpu0 = process.cpuUsage(), start = performance.now();
  const plan = planStitch({ count: rows * cols, height: 4, width: 4, layout, overlap: [1, 1] }, { blend: 'linear' });
  const planned = performance.now(), cpu = process.cpuUsage(cpu0);
  const inBand = tilesInBand(plan.planned, { y0: 0, y1: 16 }).length;
  const band = performance.now(), bandCpu = process.cpuUsage(cpu0);
  console.log(`${rows}x${cols} = ${plan.planned.length} tiles: plan ${((planned - start) / 1000).toFixed(3)} s ` +
    `(CPU ${((cpu.user + cpu.system) / 1e6).toFixed(3)} s), ` +
    `first band lookup (${inBand} tiles, builds the y index) ${((band - planned) / 1000).toFixed(3)} s ` +
    `(CPU ${((bandCpu.user + bandCpu.system - cpu.user - cpu.system) / 1e6).toFixed(3)} s), heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
}

#!/usr/bin/env node
// Turns a bench JSON document (one `bench --json` report, or {machine, runs: [report, ...]} from
// scripts/bench.sh) into a Markdown table (.md) and an SVG chart (.svg) next to it.
//   node scripts/bench-report.mjs bench/results/DATE-HOST.json
import * as fs from 'node:fs';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/bench-report.mjs RESULTS.json');
  process.exit(2);
}
const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
const runs = Array.isArray(doc.runs) ? doc.runs : [doc];
if (runs.length === 0 || !runs.every((r) => Array.isArray(r.strategies) && r.raw)) {
  console.error(`bench-report: ${file} holds no bench reports`);
  process.exit(1);
}
const base = file.replace(/\.json$/, '');
const first = runs[0];
const machine = doc.machine ?? first.machine;
const c = first.config;
// Results from before a column existed (e.g. the plan phase) show an empty cell.
const f = (v, d = 3) => (v === undefined ? '' : Number(v).toFixed(d));

const lines = [
  `# h5stitch bench: ${machine.host}`,
  '',
  `${machine.cpus} cpus, ${machine.mpiLibrary}, HDF5 ${machine.hdf5 ?? '?'}; ` +
    `${c.tileCount} tiles of ${c.tile.join('x')} ${c.dtype} (${c.tiles.join('x')} grid, overlap ${c.overlap}) -> ` +
    `${c.canvas.join('x')} canvas, ${(first.raw.bytes / 1e6).toFixed(1)} MB output; ${c.repeat} runs per strategy (median shown).`,
  '',
  'ratio = raw-write median / strategy median (1.00 = as fast as writing the same bytes with one collective MPI-IO write + sync).',
  'read/written MB: bytes each strategy moved (tiles and output read, output written), summed over ranks.',
  'Peak RSS: the peak (max over ranks) during the strategy\'s runs; bound = mem-per-rank (band, or two half bands when pipelined) + cb_buffer_size (MPI-IO aggregation)',
  '+ tiles in flight (2 tiles, or the tile parts of two bands when pipelined)',
  '+ baseline (the peak of warm-up stitches of the same grid of 32x32 tiles, or the RSS when the strategy started if higher).',
  'pipelined: the blend ran on a second thread (the rank had a spare CPU), so compute overlaps read and write.',
  'The raw write runs once after each stitch run (fresh file each time, like the outputs); its median is the reference.',
  '',
  '| ranks | strategy | median s | min s | max s | plan s | read s | compute s | write s | sync s | read MB | written MB | MB/s | ratio | peak RSS MiB | bound MiB | verified |',
  '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
];
const mb = (bytes) => f(bytes / 1e6, 0);
const targets = [];
const points = [];
const rules = [];
for (const r of runs) {
  const n = r.config.ranks;
  for (const s of r.strategies) {
    lines.push(`| ${n} | ${s.name}${s.pipeline ? ' (pipelined)' : ''} | ${f(s.median)} | ${f(s.min)} | ${f(s.max)} | ${f(s.phases.plan)} | ${f(s.phases.read)} | ${f(s.phases.compute)} | ` +
      `${f(s.phases.write)} | ${f(s.phases.sync)} | ${mb(s.bytes.read)} | ${mb(s.bytes.written)} | ${f(s.outputMBps, 1)} | ${f(s.ratio, 2)} | ${f(s.peakRssKiB / 1024, 0)} | ` +
      `${f(s.rssBoundKiB / 1024, 0)} | ${s.verified && s.identical ? 'yes' : 'NO'} |`);
    points.push({ ranks: String(n), strategy: s.name, seconds: s.median, min: s.min, max: s.max });
  }
  lines.push(`| ${n} | raw write | ${f(r.raw.median)} | ${f(r.raw.min)} | ${f(r.raw.max)} | | | | | | 0 | ${mb(r.raw.bytes)} | ${f(r.raw.outputMBps, 1)} | 1.00 | | | |`);
  for (const t of r.targets ?? []) targets.push(`| ${n} | ${t.name} | ${t.goal} | ${f(t.value, 2)} | ${t.met ? 'met' : '**not met**'} |`);
  rules.push({ ranks: String(n), seconds: r.raw.median, label: 'raw write' });
}
if (targets.length > 0) {
  lines.push('', '## Targets', '', '| ranks | target | goal | measured | |', '|---:|---|---|---:|---|', ...targets);
}
lines.push('');
fs.writeFileSync(`${base}.md`, lines.join('\n'));

const spec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title: `h5stitch: median seconds per strategy (${c.canvas.join('x')} ${c.dtype}, ${machine.host}); line = raw write`,
  width: 140,
  height: 240,
  facet: { column: { field: 'ranks', type: 'ordinal', title: 'MPI ranks' } },
  data: { values: [...points.map((p) => ({ ...p, kind: 'strategy' })), ...rules.map((p) => ({ ...p, kind: 'raw' }))] },
  spec: {
    layer: [
      {
        transform: [{ filter: "datum.kind === 'strategy'" }],
        mark: 'bar',
        encoding: {
          x: { field: 'strategy', type: 'nominal', sort: null, title: null, axis: { labelAngle: -40 } },
          y: { field: 'seconds', type: 'quantitative', title: 'seconds (median)' },
          color: { field: 'strategy', type: 'nominal', sort: null },
          tooltip: [{ field: 'strategy' }, { field: 'seconds' }],
        },
      },
      {
        transform: [{ filter: "datum.kind === 'strategy'" }],
        mark: { type: 'rule', color: 'black' },
        encoding: {
          x: { field: 'strategy', type: 'nominal', sort: null },
          y: { field: 'min', type: 'quantitative' },
          y2: { field: 'max' },
        },
      },
      {
        transform: [{ filter: "datum.kind === 'raw'" }],
        mark: { type: 'rule', color: 'red', strokeDash: [6, 3], strokeWidth: 2 },
        encoding: { y: { field: 'seconds', type: 'quantitative' } },
      },
    ],
  },
};
const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
const svg = await view.toSVG();
view.finalize();
fs.writeFileSync(`${base}.svg`, svg);
console.log(`bench-report: wrote ${base}.md and ${base}.svg`);

#!/usr/bin/env node
// Counts the tiles whose rectangle differs between a stitched output and a reference stitch
// of the same input: a tile is wrong if any of its pixels differs bit for bit. For outputs
// without h5stitch's provenance (the classic recipe, bench/classic_stitch.py), which `verify`
// cannot check; the reference is a run of the same program where caches cannot disagree
// (one process, or the local path).
//
//   node scripts/compare-tiles.mjs OUT.h5[:/stitched] REFERENCE.h5[:/stitched] --input TILES.h5 [--overlap P|OY,OX] [--json]
//
// Tile rectangles come from the input's /tile_array and its overlap (the `overlap` attribute on
// /tiles or /, unless --overlap). Prints "compare-tiles: W of N tiles wrong" (or one JSON line
// with --json: tiles, wrong, wrongTiles [{index, row, col, mismatched, zeroed}]; zeroed: pixels
// that are 0 in the output but not in the reference, i.e. contributions lost outright). Exit 0 when none is
// wrong, 1 when some are, 2 on bad input.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function fail(message) {
  process.stderr.write(`compare-tiles: error: ${message}\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const value = argv[i + 1];
  if (value === undefined || value.startsWith('--')) fail(`--${name} needs a value`);
  argv.splice(i, 2);
  return value;
};
const json = argv.includes('--json');
if (json) argv.splice(argv.indexOf('--json'), 1);
const input = flag('input');
const overlapArg = flag('overlap');
if (argv.length !== 2 || !input) fail('usage: compare-tiles.mjs OUT.h5[:/ds] REFERENCE.h5[:/ds] --input TILES.h5 [--overlap P|OY,OX] [--json]');

let hdf5;
try {
  hdf5 = require(path.join(root, 'dist', 'runtime', 'hdf5.js'));
} catch (e) {
  fail(`cannot load ${path.join(root, 'dist', 'runtime', 'hdf5.js')} (run bash scripts/setup.sh): ${e.message}`);
}

function withFile(file, body) {
  if (!fs.existsSync(file)) fail(`${file} not found`);
  let h5;
  try {
    h5 = hdf5.openFile(file, { mode: 'r' });
  } catch (e) {
    fail(`cannot open ${file}: ${e.message}`);
  }
  try {
    return body(h5);
  } finally {
    h5.close();
  }
}

function readImage(spec) {
  const [file, dataset = '/stitched'] = spec.split(/:(?=\/)/);
  return withFile(file, (h5) => {
    if (h5.objectType(dataset) !== 'dataset') fail(`${file} has no dataset ${dataset}`);
    const ds = h5.openDataset(dataset);
    if (ds.shape.length !== 2) fail(`${file}:${dataset} is not 2-D`);
    const data = hdf5.readAll(ds);
    const [height, width] = ds.shape;
    ds.close();
    return { height, width, dtype: ds.dtype, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  });
}

function overlapPair(value, where) {
  const values = typeof value === 'number' ? [value, value] : Array.from(value ?? []);
  if (values.length === 1) values.push(values[0]);
  if (values.length !== 2 || !values.every((v) => Number.isInteger(v) && v >= 0)) fail(`overlap ${where} must be P or OY,OX (integers >= 0)`);
  return values;
}

const grid = withFile(input, (h5) => {
  if (h5.objectType('/tiles') !== 'dataset') fail(`${input} has no /tiles dataset`);
  if (h5.objectType('/tile_array') !== 'dataset') fail(`${input} has no /tile_array dataset`);
  const tiles = h5.openDataset('/tiles');
  const [, tileHeight, tileWidth] = tiles.shape;
  tiles.close();
  const layoutDs = h5.openDataset('/tile_array');
  const [rows, cols] = layoutDs.shape;
  const layout = Array.from(hdf5.readAll(layoutDs), Number);
  layoutDs.close();
  const overlap = overlapArg !== undefined ? overlapPair(overlapArg.split(',').map(Number), '--overlap')
    : overlapPair(h5.getAttr('/tiles', 'overlap') ?? h5.getAttr('/', 'overlap') ?? fail(`${input} has no overlap attribute; give --overlap`), 'attribute');
  return { tileHeight, tileWidth, rows, cols, layout, overlap };
});

const out = readImage(argv[0]);
const reference = readImage(argv[1]);
if (out.height !== reference.height || out.width !== reference.width || out.dtype !== reference.dtype)
  fail(`${argv[0]} is ${out.height}x${out.width} ${out.dtype} but the reference is ${reference.height}x${reference.width} ${reference.dtype}`);
const itemSize = out.bytes.length / (out.height * out.width);

const wrongTiles = [];
let count = 0;
const [oy, ox] = grid.overlap;
for (let r = 0; r < grid.rows; r++) {
  for (let c = 0; c < grid.cols; c++) {
    const index = grid.layout[r * grid.cols + c];
    if (index === -1) continue;
    count++;
    const y0 = r * (grid.tileHeight - oy), x0 = c * (grid.tileWidth - ox);
    if (y0 + grid.tileHeight > out.height || x0 + grid.tileWidth > out.width) fail(`tile ${index} at (${y0}, ${x0}) lies outside the ${out.height}x${out.width} image: wrong overlap?`);
    let mismatched = 0, zeroed = 0;
    for (let y = y0; y < y0 + grid.tileHeight; y++) {
      const start = (y * out.width + x0) * itemSize, end = start + grid.tileWidth * itemSize;
      for (let b = start; b < end; b += itemSize) {
        let differs = false, outZero = true;
        for (let k = 0; k < itemSize; k++) {
          if (out.bytes[b + k] !== reference.bytes[b + k]) differs = true;
          if (out.bytes[b + k] !== 0) outZero = false;
        }
        if (differs) { mismatched++; if (outZero) zeroed++; }
      }
    }
    if (mismatched > 0) wrongTiles.push({ index, row: r, col: c, mismatched, zeroed });
  }
}

if (json) console.log(JSON.stringify({ tiles: count, wrong: wrongTiles.length, wrongTiles }));
else {
  console.log(`compare-tiles: ${wrongTiles.length} of ${count} tiles wrong`);
  for (const t of wrongTiles) console.log(`  tile ${t.index} at [${t.row}, ${t.col}]: ${t.mismatched} pixels differ, ${t.zeroed} of them zero`);
}
process.exit(wrongTiles.length > 0 ? 1 : 0);

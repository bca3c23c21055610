#!/usr/bin/env node
// Read rate of a tile set through h5stitch's tile sources, as the slab engine reads (bands of 128
// rows, whole tile width), in one process: `node bench/tiff-read.js INPUT [--cold]`. INPUT is
// anything `stitch` takes (tiles.h5, 'dir/tile_r{row}_c{col}.tif', TileConfiguration.txt).
// --cold first asks the kernel to drop its cached pages of the input files.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { openTileSource } = require('../dist/io/sources');
const { native } = require('../dist/runtime/addon');

const input = process.argv[2];
if (!input) {
  console.error('usage: node bench/tiff-read.js INPUT [--cold]');
  process.exit(2);
}
if (process.argv.includes('--cold')) {
  const dir = input.includes('{') ? path.dirname(input) : null;
  const files = dir ? fs.readdirSync(dir).map((n) => path.join(dir, n)) : [input];
  for (const f of files) native().dropCachedPages(path.resolve(f));
}
const source = openTileSource(input);
const band = 128;
const out = new (source.dtype === 'float64' ? Float64Array : source.dtype === 'float32' ? Float32Array
  : source.dtype === 'uint16' ? Uint16Array : source.dtype === 'int16' ? Int16Array : source.dtype === 'uint8' ? Uint8Array
  : source.dtype === 'int32' ? Int32Array : Uint32Array)(band * source.width);
const started = process.hrtime.bigint();
for (let i = 0; i < source.count; i++) {
  for (let y = 0; y < source.height; y += band) {
    const y1 = Math.min(source.height, y + band);
    source.readRegion(i, y, y1, 0, source.width, out.subarray(0, (y1 - y) * source.width));
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
source.close();
const mb = (source.count * source.height * source.width * out.BYTES_PER_ELEMENT) / 1e6;
console.log(`${input}: ${source.count} tiles, ${mb.toFixed(0)} MB in ${seconds.toFixed(2)} s = ${(mb / seconds).toFixed(0)} MB/s`);

// bench --inputs: the same tiles read and stitched from HDF5 and from TIFF series, every output
// verified and bit-identical to the HDF5 one. Speeds are only reported (docs/performance.md).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTileSource } from '../lib/io/sources';
import { native } from '../lib/runtime/addon';
import { mpirun, node, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir('h5stitch-bench-inputs-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('bench --inputs', () => {
  it('reports the read rate and stitch time of each TIFF series against HDF5, verified and bit-identical', () => {
    const job = mpirun(2, [stitchJs, 'bench', '--inputs', 'tiff,tiff-deflate,tiff-deflate-tiled', '--tiles', '2x3', '--tile', '100x300',
      '--overlap', '12', '--dtype', 'uint16', '--repeat', '2', '--dir', dir, '--json'], { timeoutMs: 60_000 });
    expect(job.code, job.stderr).toBe(0);
    const report = JSON.parse(job.stdout.trim());
    expect(report.mode).toBe('inputs');
    expect(report.verified).toBe(true);
    expect(report.config).toMatchObject({ ranks: 2, tileCount: 6, tileBytes: 100 * 300 * 2, canvas: [188, 876] });
    expect(report.inputs.map((i: { input: string }) => i.input)).toEqual(['hdf5', 'tiff', 'tiff-deflate', 'tiff-deflate-tiled']);
    for (const i of report.inputs) {
      expect(i.read.runs).toHaveLength(2);
      expect(i.stitch.runs).toHaveLength(2);
      for (const v of [...i.read.runs, ...i.stitch.runs, i.readRatio, i.stitchRatio]) expect(v).toBeGreaterThan(0);
      expect(i.verified && i.identical, i.input).toBe(true);
    }
    expect(report.inputs[0].readRatio).toBe(1);
    expect(report.inputs[1].fileBytes).toBeGreaterThanOrEqual(6 * 100 * 300 * 2);
    expect(report.inputs[2].fileBytes).toBeLessThan(report.inputs[1].fileBytes);
    // The series hold the HDF5 set's tiles, as libtiff wrote them: strips, deflate strips, 256x256 deflate tiles.
    const h5 = openTileSource(path.join(dir, 'tiles-2x3-100x300-o12-uint16.h5'));
    try {
      for (const [input, compression, tiled] of [['tiff', 'none', false], ['tiff-deflate', 'deflate', false], ['tiff-deflate-tiled', 'deflate', true]] as const) {
        const series = openTileSource(report.inputs.find((i: { input: string }) => i.input === input).path);
        expect(series.count).toBe(6);
        for (let t = 0; t < 6; t++) expect(Array.from(series.readRegion(t, 0, 100, 0, 300) as ArrayLike<number>)).toEqual(Array.from(h5.readRegion(t, 0, 100, 0, 300) as ArrayLike<number>));
        series.close();
        const file = path.join(path.dirname(report.inputs.find((i: { input: string }) => i.input === input).path), 'tile_r01_c02.tif');
        const tiff = new (native().TiffFile)(file);
        expect(tiff.pages[0]).toMatchObject({ compression, tiled, dtype: 'uint16', height: 100, width: 300 });
        tiff.close();
      }
    } finally {
      h5.close();
    }
  });

  it('an unknown input, or --inputs with --strategies, is one line, exit 2', () => {
    let job = node([stitchJs, 'bench', '--inputs', 'tiff,png', '--dir', dir]);
    expect(job.code).toBe(2);
    expect(job.stderr.trim()).toBe('h5stitch: error: Expected a comma-separated list of hdf5 | tiff | tiff-deflate | tiff-deflate-tiled for --inputs but received "png"');
    job = node([stitchJs, 'bench', '--inputs', 'tiff', '--strategies', 'slab', '--dir', dir]);
    expect(job.code).toBe(2);
    expect(job.stderr).toMatch(/give --inputs or --strategies, not both/);
  });
});

/**
 * Recomputes the expected canvas band by band (the same kernel and order as
 * stitching), compares it with the output and reports per tile: ok | missing | wrong.
 */
import { rawWeight, type BlendMode } from './blend';
import { UsageError } from './errors';
import type { PlacedTile } from './geometry';
import { openFile, reusedArray } from './hdf5';
import type { Mpi } from './mpi';
import type { Dtype, NumericArray } from './native';
import { planFromPlacement } from './plan';
import { accDtypeOf, blendBands, convertInto } from './strategies';
import { openTileSource } from './tiles';

export type TileStatus = 'ok' | 'missing' | 'wrong';
export interface TileVerdict { index: number; status: TileStatus; mismatched: number; worst: number; worstAt: [number, number] | null }
export interface VerifyReport { ok: boolean; tiles: TileVerdict[]; failed: TileVerdict[]; complete: boolean; pixels: number }

export interface VerifyOptions {
  output: string;
  dataset: string;
  input: string;
  tilesPath?: string;
  memPerRank: number;
}

/** Provenance h5stitch stores on every output dataset. */
export interface Provenance {
  tiles: PlacedTile[];
  blend: BlendMode;
  complete: boolean;
  input: string;
}

export function readProvenance(get: (name: string) => unknown, tileShape?: [number, number]): Provenance {
  const arr = (name: string) => {
    const v = get(name);
    if (!(v instanceof Float64Array)) throw new UsageError(`output has no '${name}' attribute: not written by h5stitch`);
    return v;
  };
  const index = arr('tile_index'), ys = arr('tile_y'), xs = arr('tile_x'), rows = arr('tile_grid_row'), cols = arr('tile_grid_col');
  const shape = tileShape ?? (Array.from(arr('tile_shape')) as [number, number]);
  const tiles = Array.from(index, (idx, i) => ({
    index: idx, y: ys[i], x: xs[i], height: shape[0], width: shape[1], gridRow: rows[i], gridCol: cols[i],
  }));
  return { tiles, blend: String(get('blend')) as BlendMode, complete: get('complete') === 1, input: String(get('input') ?? '') };
}

export function verifyOutput(mpi: Mpi, o: VerifyOptions): VerifyReport {
  const file = openFile(o.output, { mode: 'r', parallel: true });
  const out = file.openDataset(o.dataset);
  const source = openTileSource(o.input, { tilesPath: o.tilesPath });
  try {
    const prov = readProvenance((n) => out.getAttr(n));
    const outDtype = out.dtype as Dtype;
    const plan = planFromPlacement(prov.tiles, { height: out.shape[0], width: out.shape[1] }, null, prov.blend);
    const planned = plan.planned;
    const n = planned.length;
    // Per tile (by canonical order): worst error, mismatched pixels, mismatched zeros, owned pixels, worst y, worst x.
    const stats = new Float64Array(6 * n);
    for (let k = 0; k < n; k++) stats[6 * k + 4] = -1;
    const width = plan.canvas.width;
    const integer = !outDtype.startsWith('float');
    const ctx = { mpi, source, plan, memPerRank: o.memPerRank, times: { read: 0, compute: 0, write: 0, sync: 0 }, bytes: { read: 0, written: 0, tilesHeld: 0 } };
    blendBands(ctx, accDtypeOf(outDtype), (band, acc) => {
      const rows = band ? band.y1 - band.y0 : 0;
      const got = reusedArray('verify-output', outDtype, acc.length) as Float64Array;
      const expected = reusedArray('verify-expected', outDtype, acc.length) as Float64Array;
      out.read([band?.y0 ?? 0, 0], [rows, width], got, { transfer: 'collective' });
      if (!band) return;
      convertInto(acc, expected, outDtype);
      const inBand = planned.filter((t) => t.y < band.y1 && t.y + t.height > band.y0);
      for (let y = band.y0; y < band.y1; y++) {
        const rowTiles = inBand.filter((t) => y >= t.y && y < t.y + t.height);
        for (let x = 0; x < width; x++) {
          // The pixel belongs to the covering tile with the largest feather weight.
          let owner = -1, best = 0;
          for (const t of rowTiles) {
            const w = rawWeight(t, y, x);
            if (w > best) { best = w; owner = t.order; }
          }
          if (owner < 0) continue;
          const i = (y - band.y0) * width + x;
          const e = expected[i], g = got[i];
          const error = Math.abs(g - e);
          const s = 6 * owner;
          stats[s + 3]++;
          if (integer ? error === 0 : error <= 1e-6 * Math.max(1, Math.abs(e))) continue;
          stats[s + 1]++;
          if (g === 0) stats[s + 2]++;
          if (error > stats[s]) { stats[s] = error; stats[s + 4] = y; stats[s + 5] = x; }
        }
      }
    });
    const all = mpi.allgather(stats);
    const tiles: TileVerdict[] = planned.map((t, k) => {
      let worst = 0, mismatched = 0, zeros = 0, owned = 0, at: [number, number] | null = null;
      for (let r = 0; r < mpi.size; r++) {
        const s = r * 6 * n + 6 * k;
        mismatched += all[s + 1]; zeros += all[s + 2]; owned += all[s + 3];
        if (all[s + 1] > 0 && (at === null || all[s] > worst)) { worst = all[s]; at = [all[s + 4], all[s + 5]]; }
      }
      const status: TileStatus = mismatched === 0 ? 'ok' : zeros >= owned / 2 ? 'missing' : 'wrong';
      return { index: t.index, status, mismatched, worst, worstAt: at };
    }).sort((a, b) => a.index - b.index);
    const failed = tiles.filter((t) => t.status !== 'ok');
    return { ok: failed.length === 0 && prov.complete, tiles, failed, complete: prov.complete, pixels: out.shape[0] * out.shape[1] };
  } finally {
    source.close();
    out.close();
    file.close();
  }
}

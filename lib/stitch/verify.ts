/**
 * Recomputes the expected canvas band by band (the same kernel and order as stitching), compares
 * it with the output and reports per tile: ok | missing | wrong.
 */
import { accDtypeOf, type Dtype } from '../core/dtype';
import { planFromPlacement } from '../core/plan';
import { rawWeight } from '../core/weights';
import { readProvenance } from '../io/provenance';
import { openTileSource, type TileSource } from '../io/sources';
import { reusedArray } from '../runtime/buffers';
import { openFile } from '../runtime/hdf5';
import { convertInto } from '../runtime/kernel';
import { initMpi, type Mpi } from '../runtime/mpi';
import { NO_HOOKS } from '../testing/hooks';
import { blendBands } from './engine';
import { Meter } from './meter';
import { DEFAULT_MEM_PER_RANK } from './options';

export type TileStatus = 'ok' | 'missing' | 'wrong';
export interface TileVerdict { index: number; status: TileStatus; mismatched: number; worst: number; worstAt: [number, number] | null }
export interface VerifyReport { ok: boolean; tiles: TileVerdict[]; failed: TileVerdict[]; complete: boolean; pixels: number }

/** Options of {@link verify}. */
export interface VerifyOptions {
  /** The stitched HDF5 file. */
  output: string;
  /** Its dataset. Default `/stitched`. */
  dataset?: string;
  /** The tiles it was stitched from. Default: the input recorded in the output's provenance. */
  input?: string;
  /** Tiles dataset or group in an HDF5 input. Default `/tiles`. */
  tilesPath?: string;
  /** Band memory per rank in bytes (default 16 MiB). */
  memPerRank?: number;
}

/**
 * Checks a stitched output against its tiles. Collective: every rank calls it with the same
 * options; initialises MPI if needed. Returns the same report on every rank.
 */
export function verify(options: VerifyOptions): VerifyReport {
  return verifyOutput(initMpi(), options);
}

export function verifyOutput(mpi: Mpi, o: VerifyOptions): VerifyReport {
  const file = openFile(o.output, { mode: 'r', parallel: true });
  let source: TileSource | undefined;
  try {
    const out = file.openDataset(o.dataset ?? '/stitched');
    const prov = readProvenance(file, out);
    source = openTileSource(o.input ?? prov.input, { tilesPath: o.tilesPath });
    const outDtype = out.dtype as Dtype;
    const plan = planFromPlacement(prov.tiles, { height: out.shape[0], width: out.shape[1] }, null, prov.blend);
    const planned = plan.planned;
    const n = planned.length;
    // Per tile (by canonical order): worst error, mismatched pixels, mismatched zeros, owned pixels, worst y, worst x.
    const stats = new Float64Array(6 * n);
    for (let k = 0; k < n; k++) stats[6 * k + 4] = -1;
    const width = plan.canvas.width;
    const integer = !outDtype.startsWith('float');
    const ctx = { mpi, source: source!, plan, memPerRank: o.memPerRank ?? DEFAULT_MEM_PER_RANK, meter: new Meter(), hooks: NO_HOOKS };
    blendBands(ctx, accDtypeOf(outDtype), (band, acc) => {
      const rows = band ? band.y1 - band.y0 : 0;
      const got = reusedArray('verify-output', outDtype, acc.length) as Float64Array;
      const expected = reusedArray('verify-expected', outDtype, acc.length) as Float64Array;
      out.read([band?.y0 ?? 0, 0], [rows, width], got, { transfer: 'collective' });
      if (!band) return;
      convertInto(acc, expected);
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
    source?.close();
    file.close(); // closes `out` too
  }
}

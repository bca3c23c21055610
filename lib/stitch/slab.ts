/**
 * Owner computes: each rank blends its slab of rows in memory and writes it, one call per band:
 * collective (every rank calls, empty when out of rows) or independent (no rank waits for another;
 * safe because a band is whole rows, one contiguous run of bytes no other rank touches). Nothing is
 * read back from the output, so no cache or lock can hand a rank stale bytes.
 */
import { accDtypeOf, type NumericArray } from '../core/dtype';
import { reusedArray } from '../runtime/buffers';
import { agreeing, blendBands, convertRows } from './engine';
import type { StrategyContext } from './strategy';

export function runSlab(ctx: StrategyContext): void {
  if (ctx.agreeEachBand) {
    blendAndWrite(ctx);
    return;
  }
  // Independent writes: no rank waits for another between bands. A rank whose input fails to
  // read stops there and waits for the others to finish theirs; then all agree and end together.
  agreeing({ mpi: ctx.mpi, agreeEachBand: true }, () => blendAndWrite(ctx));
}

function blendAndWrite(ctx: StrategyContext): void {
  const accDtype = accDtypeOf(ctx.outDtype);
  blendBands(ctx, accDtype, (band, acc) => {
    let data: NumericArray = acc;
    if (accDtype !== ctx.outDtype) {
      data = reusedArray('band-out', ctx.outDtype, acc.length);
      // A NaN bound for an integer output: agreed like a failed read when bands are collective.
      agreeing(ctx, () => ctx.meter.timed('convert', () => convertRows(ctx, acc, data, ctx.outDtype, band)));
    }
    // A rank out of rows still takes part in a collective write, with nothing selected (a
    // pyramid's levels may be written collectively under an independent canvas).
    if (!band && ctx.io === 'independent' && !ctx.sink.pyramidCollective) return;
    const rows = band ? band.y1 - band.y0 : 0;
    // A chunk row shared with another rank: this rank's chunks of it (core/bands).
    const columns = band?.x0 !== undefined ? { x0: band.x0, x1: band.x1! } : undefined;
    ctx.meter.timed('write', () => ctx.sink.writeRows(band?.y0 ?? 0, rows, data, ctx.io, 0, columns));
    ctx.meter.written(data.byteLength);
  });
  // A pyramid's last level rows of this rank (collective: every rank calls).
  if (ctx.sink.endRows) ctx.meter.timed('write', () => ctx.sink.endRows!(ctx.io));
}

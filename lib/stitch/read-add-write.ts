/**
 * Read-add-write per tile into a canvas that starts at zero through HDF5's fill at allocation.
 * `rounds`: tiles of one round never overlap and are split over the ranks; sync-barrier-sync
 * between rounds. `serial`: rank 0 does every tile. Both read back output bytes other ranks wrote,
 * so they are only as safe as the file system's coherence.
 */
import { accDtypeOf, newArray, type AccArray, type AccDtype, type NumericArray } from '../core/dtype';
import type { PlannedTile } from '../core/geometry';
import { arraySplit, roundsOf } from '../core/rounds';
import type { Transfer } from '../runtime/addon';
import { reusedArray } from '../runtime/buffers';
import type { Dataset } from '../runtime/hdf5';
import { addTile, agreeing, convertRows, slabOf } from './engine';
import type { StrategyContext } from './strategy';

export function runReadAddWrite(ctx: StrategyContext, serial: boolean): void {
  const { mpi, plan, sink } = ctx;
  const accDtype = accDtypeOf(ctx.outDtype);
  // Integer outputs accumulate in a float scratch canvas, converted once at the end.
  const scratch = accDtype !== ctx.outDtype ? sink.openScratch(accDtype) : undefined;
  const canvas = scratch?.canvas ?? sink.canvas;
  const flush = () => (scratch ? scratch.flush() : sink.flush());
  const tileBuffer = reusedArray('tile', accDtype, plan.planned[0].height * plan.planned[0].width) as AccArray;
  const empty = newArray(accDtype, 0);
  const rounds = serial ? [plan.planned] : roundsOf(plan.planned);
  const transfer: Transfer = serial ? 'independent' : ctx.io;
  let done = 0;
  /** This rank's tiles of a round, read-add-written in `calls` steps (collective: every rank as many). */
  const addRound = (mine: PlannedTile[], calls: number) => {
    for (let k = 0; k < calls; k++) {
      const tile = mine[k];
      if (!tile) {
        if (transfer === 'collective') {
          ctx.meter.timed('read', () => canvas.read([0, 0], [0, 0], empty, { transfer }));
          if (ctx.agreeEachBand) mpi.agree();
          ctx.meter.timed('write', () => canvas.write([0, 0], [0, 0], empty, { transfer }));
        }
        continue;
      }
      ctx.hooks.skew();
      const acc = tileBuffer.subarray(0, tile.height * tile.width);
      ctx.meter.timed('read', () => canvas.read([tile.y, tile.x], [tile.height, tile.width], acc, { transfer }));
      ctx.meter.read(acc.byteLength);
      // Collective: every rank learns of a failed tile read before the write (see agreeEachBand).
      agreeing(ctx, () => addTile(ctx, tile, tile, acc, tile.y, tile.x, tile.width));
      ctx.meter.timed('write', () => canvas.write([tile.y, tile.x], [tile.height, tile.width], acc, { transfer }));
      ctx.meter.written(acc.byteLength);
    }
  };
  for (const round of rounds) {
    const mine = serial ? (mpi.rank === 0 ? round : []) : arraySplit(round, mpi.size)[mpi.rank];
    // Collective calls need every rank the same number of times: the largest share.
    const calls = serial ? mine.length : Math.ceil(round.length / mpi.size);
    // Without per-tile agreement (independent transfers, serial), a rank whose input fails stops
    // its round there; all ranks agree before the round's (collective) flush and end together.
    agreeing({ mpi, agreeEachBand: !ctx.agreeEachBand }, () => addRound(mine, calls));
    done += round.length;
    // sync-barrier-sync: every rank's writes of this round are on disk and visible
    // before any rank reads pixels of the next round.
    ctx.meter.timed('sync', () => {
      flush();
      mpi.barrier();
      flush();
    });
    if (mpi.rank === 0) ctx.progress?.(done, plan.planned.length);
  }
  if (scratch) {
    convertScratch(ctx, scratch.canvas, accDtype);
    scratch.close();
  }
}

/** Integer outputs of serial/rounds: round and clip the float accumulator once, band by band. */
function convertScratch(ctx: StrategyContext, accDataset: Dataset, accDtype: AccDtype): void {
  const width = ctx.plan.canvas.width;
  const { bands, bandCount, maxRows } = slabOf(ctx, 'float32');
  const accBuffer = reusedArray('band', accDtype, maxRows * width) as AccArray;
  const dataBuffer = reusedArray('band-out', ctx.outDtype, maxRows * width);
  for (let b = 0; b < bandCount; b++) {
    const band = bands[b];
    const rows = band ? band.y1 - band.y0 : 0;
    const acc = accBuffer.subarray(0, rows * width);
    const data = dataBuffer.subarray(0, rows * width) as NumericArray;
    ctx.meter.timed('read', () => accDataset.read([band?.y0 ?? 0, 0], [rows, width], acc, { transfer: 'collective' }));
    // The writes below are collective.
    agreeing({ mpi: ctx.mpi, agreeEachBand: true }, () => ctx.meter.timed('convert', () => convertRows(ctx, acc, data, ctx.outDtype, band)));
    ctx.meter.timed('write', () => ctx.sink.writeRows(band?.y0 ?? 0, rows, data, 'collective'));
    ctx.meter.read(acc.byteLength);
    ctx.meter.written(data.byteLength);
  }
}

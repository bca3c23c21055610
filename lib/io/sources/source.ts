/** What every tile source offers: the tile set's description and region reads. */
import { TILE_DTYPES, type Dtype, type NumericArray } from '../../core/dtype';
import type { TileSetInfo } from '../../core/plan';
import { UsageError } from '../../errors';

export interface TileSource extends TileSetInfo {
  readonly dtype: Dtype;
  /**
   * Reads rows [y0,y1) × cols [x0,x1) of tile `index` into `into` (of the tiles' dtype, exactly
   * that many elements) or else into a reused buffer (valid until the next call).
   */
  readRegion(index: number, y0: number, y1: number, x0: number, x1: number, into?: NumericArray): NumericArray;
  close(): void;
}

export interface TileSourceOptions {
  tilesPath?: string;
  layoutPath?: string;
  positionsPath?: string;
}

/** The tiles' dtype, or a UsageError naming `where` when h5stitch does not stitch it. */
export function checkTileDtype(dtype: Dtype | null, where: string): Dtype {
  if (!dtype || !TILE_DTYPES.includes(dtype)) {
    throw new UsageError(`tiles in ${where} have dtype ${dtype ?? 'unsupported'}; expected one of ${TILE_DTYPES.join(', ')}`);
  }
  return dtype;
}

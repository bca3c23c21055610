/** Tile placement on the output canvas. Pure geometry: no I/O, no MPI. */

export interface Rect { y: number; x: number; height: number; width: number }

export interface PlannedTile extends Rect {
  /** tile index in the input */
  index: number;
  /** grid position; -1 when the tile came from explicit positions */
  gridRow: number;
  gridCol: number;
  /** write round (tiles in one round never overlap) */
  round: number;
  /** canonical order: sorted by (round, input order within round); filled in by planRounds */
  order: number;
}

export type PlacedTile = Omit<PlannedTile, 'round' | 'order'>;

export interface Canvas { height: number; width: number }

export interface Placement { tiles: PlacedTile[]; canvas: Canvas }

export interface GridOptions {
  /** layout[r][c] = tile index, or -1 for an empty cell */
  layout: number[][];
  /** number of input tiles; when given, indices must be < tileCount */
  tileCount?: number;
  tileHeight: number;
  tileWidth: number;
  overlapY: number;
  overlapX: number;
}

function checkTileSize(tileHeight: number, tileWidth: number): void {
  for (const [name, v] of [['tileHeight', tileHeight], ['tileWidth', tileWidth]] as const)
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
}

/** Place tiles on a regular grid; tiles are returned sorted by index (the input order). */
export function gridPositions(o: GridOptions): Placement {
  const { layout, tileCount, tileHeight: H, tileWidth: W, overlapY, overlapX } = o;
  checkTileSize(H, W);
  if (!Array.isArray(layout) || layout.length === 0 || !Array.isArray(layout[0]) || layout[0].length === 0 ||
      layout.some((row) => !Array.isArray(row) || row.length !== layout[0].length))
    throw new Error('layout must be a non-empty 2-D array of equal-length rows');
  for (const [name, v, size] of [['overlapY', overlapY, H], ['overlapX', overlapX, W]] as const)
    if (!Number.isInteger(v) || v < 0 || v >= size)
      throw new Error(`${name} must be an integer in [0, ${size}) (tile size), got ${v}`);

  const rows = layout.length, cols = layout[0].length;
  // Where each index was seen (flat cell + 1): a flat array when the indices are bounded, else a map.
  const seenAt = tileCount !== undefined ? new Float64Array(tileCount) : undefined;
  const seenMap = seenAt ? undefined : new Map<number, number>();
  const tiles: PlacedTile[] = [];
  let sorted = true;
  for (let r = 0; r < rows; r++) {
    const row = layout[r];
    for (let c = 0; c < cols; c++) {
      const index = row[c];
      if (index === -1) continue;
      if (!Number.isInteger(index) || index < 0 || (tileCount !== undefined && index >= tileCount))
        throw new Error(`layout[${r}][${c}] = ${index} is not a valid tile index` +
          (tileCount !== undefined ? ` (expected -1 or 0..${tileCount - 1})` : ''));
      const prev = seenAt ? seenAt[index] : seenMap!.get(index) ?? 0;
      if (prev) throw new Error(`tile index ${index} appears twice in layout: at [${Math.floor((prev - 1) / cols)}][${(prev - 1) % cols}] and [${r}][${c}]`);
      if (seenAt) seenAt[index] = r * cols + c + 1;
      else seenMap!.set(index, r * cols + c + 1);
      if (tiles.length > 0 && tiles[tiles.length - 1].index > index) sorted = false;
      tiles.push({ index, y: r * (H - overlapY), x: c * (W - overlapX), height: H, width: W, gridRow: r, gridCol: c });
    }
  }
  if (tiles.length === 0) throw new Error('layout contains no tiles (all cells are -1)');
  if (!sorted) tiles.sort((a, b) => a.index - b.index);
  return { tiles, canvas: { height: (rows - 1) * (H - overlapY) + H, width: (cols - 1) * (W - overlapX) + W } };
}

/**
 * Place tile i at positions[i] = (y, x), rounded to the nearest pixel, then shift so the
 * bounding box starts at (0, 0). Accepts pairs or a flat interleaved [y0, x0, y1, x1, ...] array.
 */
export function explicitPositions(positions: ArrayLike<readonly [number, number]> | ArrayLike<number>,
                                  tileHeight: number, tileWidth: number): Placement {
  checkTileSize(tileHeight, tileWidth);
  const flat = positions.length > 0 && typeof positions[0] === 'number';
  if (flat && positions.length % 2 !== 0) throw new Error('flat positions array must have an even length (y, x pairs)');
  const n = flat ? positions.length / 2 : positions.length;
  if (n === 0) throw new Error('positions must contain at least one tile');
  const ys: number[] = [], xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = flat ? [(positions as ArrayLike<number>)[2 * i], (positions as ArrayLike<number>)[2 * i + 1]]
                   : (positions as ArrayLike<readonly [number, number]>)[i];
    if (!p || p.length < 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1]))
      throw new Error(`position of tile ${i} must be two finite numbers, got ${p ? `(${p[0]}, ${p[1]})` : p}`);
    ys.push(Math.round(p[0]));
    xs.push(Math.round(p[1]));
  }
  // reduce, not Math.min(...ys): spreading a huge array overflows the call stack
  const min = (a: number[]) => a.reduce((m, v) => Math.min(m, v)), max = (a: number[]) => a.reduce((m, v) => Math.max(m, v));
  const minY = min(ys), minX = min(xs);
  const tiles: PlacedTile[] = ys.map((y, i) => ({
    index: i, y: y - minY, x: xs[i] - minX, height: tileHeight, width: tileWidth, gridRow: -1, gridCol: -1,
  }));
  return {
    tiles,
    canvas: { height: max(ys) - minY + tileHeight, width: max(xs) - minX + tileWidth },
  };
}

/** True when the rectangles share a region of positive area (touching edges do not count). */
export function overlaps(a: Rect, b: Rect): boolean {
  return a.y < b.y + b.height && b.y < a.y + a.height && a.x < b.x + b.width && b.x < a.x + a.width;
}

export function intersect(a: Rect, b: Rect): Rect | null {
  const y0 = Math.max(a.y, b.y), x0 = Math.max(a.x, b.x);
  const y1 = Math.min(a.y + a.height, b.y + b.height), x1 = Math.min(a.x + a.width, b.x + b.width);
  return y1 > y0 && x1 > x0 ? { y: y0, x: x0, height: y1 - y0, width: x1 - x0 } : null;
}

/**
 * Synthetic tile sets cut from a known smooth-but-nonrepeating image, with the
 * ground truth stored next to them, so a stitch can be checked end to end.
 */
import { newArray, type Dtype } from '../core/dtype';
import { gridPositions } from '../core/geometry';
import { openFile } from '../runtime/hdf5';

export interface GenerateOptions {
  rows: number;
  cols: number;
  tileHeight: number;
  tileWidth: number;
  overlapY: number;
  overlapX: number;
  dtype: Dtype;
  /** Shuffle which tile index sits at which grid position. */
  permute?: boolean;
  /** Grid positions left empty (-1). */
  holes?: Array<[number, number]>;
  seed?: number;
}

const SCALE: Partial<Record<Dtype, number>> = { uint8: 250, uint16: 60000, int16: 30000, int32: 1e6, uint32: 1e6 };

/** The image all tiles are cut from: smooth, in [0, 1], with no period that lines up with a tile grid. */
export function imageAt(y: number, x: number): number {
  return 0.5 + 0.2 * Math.sin(x * 0.031 + 1.3 * Math.sin(y * 0.0071)) + 0.2 * Math.cos(y * 0.027 + 0.9 * Math.sin(x * 0.0053)) +
    0.1 * Math.sin((x + y) * 0.011);
}

/** The image value as stored in a tile of `dtype` (integers are scaled and rounded). */
export function quantized(y: number, x: number, dtype: Dtype): number {
  const scale = SCALE[dtype];
  return scale ? Math.round(imageAt(y, x) * scale) : dtype === 'float32' ? Math.fround(imageAt(y, x)) : imageAt(y, x);
}

function shuffle(values: number[], seed: number): number[] {
  let s = seed >>> 0 || 1;
  const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  return values;
}

/** Writes /tiles [N,H,W], /tile_array, the overlap attribute and /ground_truth (0 where no tile covers). */
export function generateTiles(path: string, o: GenerateOptions, overwrite = false): { tiles: number; canvas: [number, number] } {
  const holes = new Set((o.holes ?? []).map(([r, c]) => `${r},${c}`));
  const cells: Array<[number, number]> = [];
  for (let r = 0; r < o.rows; r++) for (let c = 0; c < o.cols; c++) if (!holes.has(`${r},${c}`)) cells.push([r, c]);
  const indices = cells.map((_, i) => i);
  if (o.permute) shuffle(indices, o.seed ?? 1);
  const layout = Array.from({ length: o.rows }, () => new Array<number>(o.cols).fill(-1));
  cells.forEach(([r, c], i) => (layout[r][c] = indices[i]));
  const { tiles, canvas } = gridPositions({ layout, tileHeight: o.tileHeight, tileWidth: o.tileWidth, overlapY: o.overlapY, overlapX: o.overlapX });

  const file = openFile(path, { mode: 'create', overwrite });
  try {
    const ds = file.createDataset('/tiles', { shape: [tiles.length, o.tileHeight, o.tileWidth], dtype: o.dtype });
    ds.setAttr('overlap', [o.overlapY, o.overlapX]);
    const buffer = newArray(o.dtype, o.tileHeight * o.tileWidth) as Float64Array;
    for (const t of tiles) {
      for (let y = 0; y < o.tileHeight; y++)
        for (let x = 0; x < o.tileWidth; x++) buffer[y * o.tileWidth + x] = quantized(t.y + y, t.x + x, o.dtype);
      ds.write([t.index, 0, 0], [1, o.tileHeight, o.tileWidth], buffer);
    }
    ds.close();
    const flatLayout = Int32Array.from(layout.flat());
    const layoutDs = file.createDataset('/tile_array', { shape: [o.rows, o.cols], dtype: 'int32' });
    layoutDs.write([0, 0], [o.rows, o.cols], flatLayout);
    layoutDs.close();

    const truth = new Float64Array(canvas.width);
    const truthDs = file.createDataset('/ground_truth', { shape: [canvas.height, canvas.width], dtype: 'float64' });
    for (let y = 0; y < canvas.height; y++) {
      truth.fill(0);
      for (const t of tiles) {
        if (y < t.y || y >= t.y + t.height) continue;
        for (let x = t.x; x < t.x + t.width; x++) truth[x] = quantized(y, x, o.dtype);
      }
      truthDs.write([y, 0], [1, canvas.width], truth);
    }
    truthDs.setAttr('description', 'the image the tiles were cut from; 0 where no tile covers');
    truthDs.close();
  } finally {
    file.close();
  }
  return { tiles: tiles.length, canvas: [canvas.height, canvas.width] };
}

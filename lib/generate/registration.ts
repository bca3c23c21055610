/**
 * Registration test sets: tiles cut at known sub-pixel positions from a textured specimen (cells,
 * fibres, fine noise; a continuous function of the position, rendered natively by
 * native/generate/texture.cc), each with its own uneven illumination and sensor noise; blank tiles
 * hold only background and noise. The true positions are stored with the tiles (/true_positions).
 *
 * Where the tiles really are (the stage error) has two parts, as on a real stage:
 * - systematic (`drift`, `stageScale`): a smooth function of the grid position, the same for
 *   neighbours up to a small step: per-axis step (scale) error, skew between the stage axes and the
 *   camera, and a slow thermal drift over the acquisition (raster order). `drift` is the largest
 *   deviation it causes from the grid, per axis.
 * - random (`jitter`): the stage's repeatability, independent per tile, uniform ±jitter per axis.
 * A blank tile's systematic part can be learnt from its neighbours; its random part cannot.
 *
 * Collective: every rank draws the same positions and looks, and renders and writes its share of
 * the tiles (independent writes).
 */
import { newArray, type Dtype } from '../core/dtype';
import { gridPositions } from '../core/geometry';
import { arraySplit } from '../core/rounds';
import { native } from '../runtime/addon';
import type { Mpi } from '../runtime/mpi';
import { createGeneratedFile, type GridSetShape } from './tiles';

export interface RegistrationSetOptions extends GridSetShape {
  /** Random stage repeatability: largest |offset| of a tile from its systematic position, per axis (uniform, sub-pixel). */
  jitter: number;
  /** Systematic stage error (scale, skew, thermal drift): its largest deviation from the grid, per axis, in pixels. */
  drift: number;
  /** A further systematic step error: each grid step is (1 + stageScale) times the nominal one. */
  stageScale: number;
  /** Tiles holding no specimen (background + noise only); placed with the same stage error as the others. */
  blank: number;
  /** Sensor noise: standard deviation relative to the texture's range (about 1). */
  noise: number;
  seed: number;
}

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCALE: Partial<Record<Dtype, number>> = { uint8: 120, uint16: 20000, int16: 12000, int32: 20000, uint32: 20000 };
const MAX: Partial<Record<Dtype, number>> = { uint8: 255, uint16: 65535, int16: 32767, int32: 2 ** 31 - 1, uint32: 2 ** 32 - 1 };

export interface StageError {
  /** Each tile's true (y, x), by tile index (row-major grid). */
  truth: Float64Array;
  /** The systematic part alone (deviation from the grid), by tile index. */
  systematic: Float64Array;
  /** Grid position plus the systematic part: where a perfect stage model puts each tile. */
  modelled: Float64Array;
  blank: number[];
  /** Illumination per tile: [gradientY, gradientX, gain]. */
  light: Float64Array;
  /** Largest difference of two edge neighbours' deviations along the axis they share an overlap on (bound: systematic + 2·jitter). */
  neighbourShift: number;
}

/** The stage error and looks of every tile: a pure function of the options (every rank gets the same). */
export function stageError(o: RegistrationSetOptions): StageError {
  const layout = Array.from({ length: o.rows }, (_, r) => Array.from({ length: o.cols }, (_, c) => r * o.cols + c));
  const { tiles } = gridPositions({ layout, tileHeight: o.tileHeight, tileWidth: o.tileWidth, overlapY: o.overlapY, overlapX: o.overlapX });
  const n = tiles.length;
  const random = mulberry32(o.seed * 7919 + 17);
  const blank = new Set<number>();
  while (blank.size < Math.min(o.blank, n - 2)) blank.add(Math.floor(random() * n));
  // Systematic: per axis a scale term, a skew term and a thermal drift that settles over the
  // raster acquisition time (1 - e^(-3t)), with random weights, scaled so the largest deviation is
  // `drift`. Smooth: neighbours share it up to a fraction of a pixel's second difference.
  const w = Array.from({ length: 6 }, () => 2 * random() - 1);
  const systematic = new Float64Array(2 * n);
  for (const t of tiles) {
    const u = o.cols > 1 ? (2 * t.gridCol) / (o.cols - 1) - 1 : 0, v = o.rows > 1 ? (2 * t.gridRow) / (o.rows - 1) - 1 : 0;
    const time = n > 1 ? t.index / (n - 1) : 0, thermal = (1 - Math.exp(-3 * time)) / (1 - Math.exp(-3));
    systematic[2 * t.index] = w[0] * v + 0.5 * w[1] * u + 0.5 * w[2] * thermal;
    systematic[2 * t.index + 1] = w[3] * u + 0.5 * w[4] * v + 0.5 * w[5] * thermal;
  }
  for (const axis of [0, 1]) {
    let max = 0;
    for (let i = axis; i < 2 * n; i += 2) max = Math.max(max, Math.abs(systematic[i]));
    for (let i = axis; i < 2 * n; i += 2) systematic[i] = max > 0 ? (systematic[i] * o.drift) / max : 0;
  }
  const truth = new Float64Array(2 * n), modelled = new Float64Array(2 * n);
  for (const t of tiles) {
    modelled[2 * t.index] = t.y * (1 + o.stageScale) + systematic[2 * t.index];
    modelled[2 * t.index + 1] = t.x * (1 + o.stageScale) + systematic[2 * t.index + 1];
    truth[2 * t.index] = modelled[2 * t.index] + o.jitter * (2 * random() - 1);
    truth[2 * t.index + 1] = modelled[2 * t.index + 1] + o.jitter * (2 * random() - 1);
  }
  const light = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) light.set([0.4 * (random() - 0.5), 0.4 * (random() - 0.5), 0.8 + 0.4 * random()], 3 * i);
  let neighbourShift = 0;
  for (const t of tiles) {
    const right = t.gridCol + 1 < o.cols ? t.index + 1 : -1, below = t.gridRow + 1 < o.rows ? t.index + o.cols : -1;
    if (right >= 0) neighbourShift = Math.max(neighbourShift, Math.abs(systematic[2 * right + 1] - systematic[2 * t.index + 1]) + o.stageScale * (o.tileWidth - o.overlapX));
    if (below >= 0) neighbourShift = Math.max(neighbourShift, Math.abs(systematic[2 * below] - systematic[2 * t.index]) + o.stageScale * (o.tileHeight - o.overlapY));
  }
  return { truth, systematic, modelled, blank: [...blank].sort((a, b) => a - b), light, neighbourShift: neighbourShift + 2 * o.jitter };
}

/** One tile as stored: rendered natively into a typed array of the set's dtype. */
export function renderRegistrationTile(o: RegistrationSetOptions, e: StageError, index: number, out = newArray(o.dtype, o.tileHeight * o.tileWidth)) {
  const scale = SCALE[o.dtype];
  return native().renderTile(out, [o.tileHeight, o.tileWidth], {
    y: e.truth[2 * index], x: e.truth[2 * index + 1], seed: o.seed, blank: e.blank.includes(index),
    gradientY: e.light[3 * index], gradientX: e.light[3 * index + 1], gain: e.light[3 * index + 2],
    noise: o.noise, noiseSeed: (o.seed * 1000003 + index) % Number.MAX_SAFE_INTEGER,
    ...(scale ? { scale, base: 0.05 * scale, max: MAX[o.dtype] } : {}),
  });
}

/**
 * Writes /tiles, /tile_array, the overlap attribute, /true_positions [N,2] (y, x), /systematic_positions
 * and /blank_tiles. Collective: each rank renders and writes its share of the tiles.
 */
export function generateRegistrationSet(mpi: Mpi, path: string, o: RegistrationSetOptions, overwrite = false): { tiles: number; blank: number[]; neighbourShift: number } {
  const e = stageError(o);
  const n = o.rows * o.cols;
  const file = createGeneratedFile(mpi, path, overwrite);
  try {
    const root = mpi.rank === 0;
    const collective = { transfer: 'collective' } as const;
    // Small datasets: rank 0 writes them all in collective calls where the others select nothing.
    const small = (name: string, shape: number[], dtype: 'int32' | 'float64', values: ArrayLike<number>, attrs: Record<string, string | number> = {}) => {
      const ds = file.createDataset(name, { shape, dtype });
      const count = root ? shape : shape.map((s, k) => (k === 0 ? 0 : s));
      const data = dtype === 'int32' ? Int32Array.from(root ? values : []) : Float64Array.from(root ? values : []);
      ds.write(shape.map(() => 0), count, data, collective);
      for (const [k, v] of Object.entries(attrs)) ds.setAttr(k, v);
      ds.close();
    };
    const tilesDs = file.createDataset('/tiles', { shape: [n, o.tileHeight, o.tileWidth], dtype: o.dtype, fillTime: 'never' });
    tilesDs.setAttr('overlap', [o.overlapY, o.overlapX]);
    small('/tile_array', [o.rows, o.cols], 'int32', Array.from({ length: n }, (_, i) => i));
    small('/true_positions', [n, 2], 'float64', e.truth, {
      description: "each tile's true (y, x) position in the specimen image: the grid position plus the systematic stage error plus the random jitter",
      jitter: o.jitter, drift: o.drift, stage_scale: o.stageScale,
    });
    small('/systematic_positions', [n, 2], 'float64', e.modelled, {
      description: "each tile's position without the random jitter: what a stage model can know",
    });
    // HDF5 has no empty simple dataspace here: an empty list is stored as [-1].
    small('/blank_tiles', [Math.max(e.blank.length, 1)], 'int32', e.blank.length ? e.blank : [-1]);
    const buffer = newArray(o.dtype, o.tileHeight * o.tileWidth);
    for (const index of arraySplit(Array.from({ length: n }, (_, i) => i), mpi.size)[mpi.rank]) {
      renderRegistrationTile(o, e, index, buffer);
      tilesDs.write([index, 0, 0], [1, o.tileHeight, o.tileWidth], buffer, { transfer: 'independent' });
    }
    tilesDs.close();
  } finally {
    file.close();
  }
  return { tiles: n, blank: e.blank, neighbourShift: e.neighbourShift };
}

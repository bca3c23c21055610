/**
 * Registration test sets: tiles cut at known, jittered, sub-pixel positions from a textured image
 * that is a continuous function of the position (cells, fibres, fine noise), so a tile can be
 * sampled anywhere. Each tile adds its own uneven illumination and sensor noise; blank tiles hold
 * only background and noise. The true positions are stored with the tiles (/true_positions).
 */
import { newArray, type Dtype } from '../core/dtype';
import { gridPositions } from '../core/geometry';
import type { GridSetShape } from './tiles';
import { openFile } from '../runtime/hdf5';

export interface RegistrationSetOptions extends GridSetShape {
  /** Largest |offset| of a tile from its grid position, per axis (uniform, sub-pixel). */
  jitter: number;
  /** Systematic stage error: each grid step is (1 + stageScale) times the nominal one. */
  stageScale: number;
  /** Tiles holding no specimen (background + noise only); they sit exactly where the stage model puts them (no random jitter), the only place any method can know. */
  blank: number;
  /** Sensor noise: standard deviation relative to the texture's range (about 1). */
  noise: number;
  seed: number;
}

/** A hash of integers to [0, 1): the texture is a pure function of position and seed. */
function hash(a: number, b: number, c: number, seed: number): number {
  let h = Math.imul(a | 0, 0x27d4eb2d) ^ Math.imul(b | 0, 0x165667b1) ^ Math.imul(c | 0, 0x9e3779b1) ^ Math.imul(seed | 0, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) / 4294967296;
}

const CELL = 24;
const FIBRE = 64;
const LATTICE = 3;

/** The specimen at canvas point (y, x), in about [0, 1.5]: cells, fibres and fine texture. */
export function textureAt(y: number, x: number, seed: number): number {
  let v = 0;
  // Cells: one Gaussian blob per CELL x CELL cell, sigma 2.5-6 px.
  const cy = Math.floor(y / CELL), cx = Math.floor(x / CELL);
  for (let i = cy - 1; i <= cy + 1; i++) for (let j = cx - 1; j <= cx + 1; j++) {
    const by = (i + hash(i, j, 1, seed)) * CELL, bx = (j + hash(i, j, 2, seed)) * CELL;
    const sigma = 2.5 + 3.5 * hash(i, j, 3, seed);
    const d2 = (y - by) ** 2 + (x - bx) ** 2;
    if (d2 < 9 * sigma * sigma) v += (0.3 + 0.7 * hash(i, j, 4, seed)) * Math.exp(-d2 / (2 * sigma * sigma));
  }
  // Fibres: one segment per FIBRE x FIBRE cell, 40-120 px long, sigma 1.3 px.
  const fy = Math.floor(y / FIBRE), fx = Math.floor(x / FIBRE);
  for (let i = fy - 1; i <= fy + 1; i++) for (let j = fx - 1; j <= fx + 1; j++) {
    const sy = (i + hash(i, j, 5, seed)) * FIBRE, sx = (j + hash(i, j, 6, seed)) * FIBRE;
    const angle = Math.PI * hash(i, j, 7, seed), half = 20 + 40 * hash(i, j, 8, seed);
    const uy = Math.sin(angle), ux = Math.cos(angle);
    const along = (y - sy) * uy + (x - sx) * ux;
    if (Math.abs(along) > half) continue;
    const across = -(y - sy) * ux + (x - sx) * uy;
    if (Math.abs(across) < 5) v += 0.6 * Math.exp(-(across * across) / (2 * 1.3 * 1.3));
  }
  // Fine texture: value noise on a LATTICE-px grid, smoothly (C1) interpolated.
  const gy = y / LATTICE, gx = x / LATTICE;
  const iy = Math.floor(gy), ix = Math.floor(gx);
  const ty = gy - iy, tx = gx - ix;
  const sy = ty * ty * (3 - 2 * ty), sx = tx * tx * (3 - 2 * tx);
  const n00 = hash(iy, ix, 9, seed), n01 = hash(iy, ix + 1, 9, seed), n10 = hash(iy + 1, ix, 9, seed), n11 = hash(iy + 1, ix + 1, 9, seed);
  v += 0.25 * ((n00 * (1 - sx) + n01 * sx) * (1 - sy) + (n10 * (1 - sx) + n11 * sx) * sy);
  return v;
}

/** Standard normal from two uniforms (Box-Muller). */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
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

/** Writes /tiles, /tile_array, the overlap attribute, /true_positions [N,2] (y, x) and /blank_tiles. */
export function generateRegistrationSet(path: string, o: RegistrationSetOptions, overwrite = false): { tiles: number; blank: number[] } {
  const layout = Array.from({ length: o.rows }, (_, r) => Array.from({ length: o.cols }, (_, c) => r * o.cols + c));
  const { tiles } = gridPositions({ layout, tileHeight: o.tileHeight, tileWidth: o.tileWidth, overlapY: o.overlapY, overlapX: o.overlapX });
  const random = mulberry32(o.seed * 7919 + 17);
  // Blank tiles: distinct indices drawn with the same generator.
  const blank = new Set<number>();
  while (blank.size < Math.min(o.blank, tiles.length - 2)) blank.add(Math.floor(random() * tiles.length));
  const truth = new Float64Array(tiles.length * 2);
  for (const t of tiles) {
    const jitter = blank.has(t.index) ? 0 : o.jitter;
    truth[2 * t.index] = t.y * (1 + o.stageScale) + jitter * (2 * random() - 1);
    truth[2 * t.index + 1] = t.x * (1 + o.stageScale) + jitter * (2 * random() - 1);
  }
  const scale = SCALE[o.dtype] ?? 1;
  const base = o.dtype in SCALE ? 0.05 * scale : 0;
  const file = openFile(path, { mode: 'create', overwrite });
  try {
    const ds = file.createDataset('/tiles', { shape: [tiles.length, o.tileHeight, o.tileWidth], dtype: o.dtype });
    ds.setAttr('overlap', [o.overlapY, o.overlapX]);
    const buffer = newArray(o.dtype, o.tileHeight * o.tileWidth) as Float64Array;
    const max = o.dtype === 'uint8' ? 255 : o.dtype === 'uint16' ? 65535 : o.dtype === 'int16' ? 32767 : Infinity;
    for (const t of tiles) {
      const [ty, tx] = [truth[2 * t.index], truth[2 * t.index + 1]];
      // Uneven illumination: a tilted plane times a vignette, different in every tile.
      const gy = 0.4 * (random() - 0.5), gx = 0.4 * (random() - 0.5), gain = 0.8 + 0.4 * random();
      const isBlank = blank.has(t.index);
      for (let y = 0; y < o.tileHeight; y++) {
        const v = y / o.tileHeight - 0.5;
        for (let x = 0; x < o.tileWidth; x++) {
          const u = x / o.tileWidth - 0.5;
          const light = gain * (1 + gy * v + gx * u) * (1 - 0.3 * (u * u + v * v));
          const signal = isBlank ? 0.1 : 0.1 + textureAt(ty + y, tx + x, o.seed);
          const value = signal * light + o.noise * gaussian(random);
          buffer[y * o.tileWidth + x] = o.dtype in SCALE ? Math.min(max, Math.max(0, Math.round(base + value * scale))) : value;
        }
      }
      ds.write([t.index, 0, 0], [1, o.tileHeight, o.tileWidth], buffer);
    }
    ds.close();
    const layoutDs = file.createDataset('/tile_array', { shape: [o.rows, o.cols], dtype: 'int32' });
    layoutDs.write([0, 0], [o.rows, o.cols], Int32Array.from(layout.flat()));
    layoutDs.close();
    const truthDs = file.createDataset('/true_positions', { shape: [tiles.length, 2], dtype: 'float64' });
    truthDs.write([0, 0], [tiles.length, 2], truth);
    truthDs.setAttr('description', "each tile's true (y, x) position in the specimen image; the grid position plus jitter");
    truthDs.setAttr('jitter', o.jitter);
    truthDs.setAttr('stage_scale', o.stageScale);
    truthDs.close();
    const blankList = [...blank].sort((a, b) => a - b);
    const blankDs = file.createDataset('/blank_tiles', { shape: [Math.max(blankList.length, 1)], dtype: 'int32' });
    // HDF5 has no empty simple dataspace here: an empty list is stored as [-1].
    blankDs.write([0], [Math.max(blankList.length, 1)], Int32Array.from(blankList.length ? blankList : [-1]));
    blankDs.close();
    return { tiles: tiles.length, blank: blankList };
  } finally {
    file.close();
  }
}

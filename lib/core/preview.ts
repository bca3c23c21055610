/**
 * The preview's arithmetic (docs/preview.md), pure: how much to shrink, the block mean, the
 * percentiles and the linear stretch to 8 bits. The reading lives in io/sinks/preview.ts.
 */
import quickselect from 'quickselect';

/** The longest side of a preview, in pixels. */
export const PREVIEW_MAX_SIDE = 2048;
/** The stretch's percentiles: values at or below the low one map to 0, at or above the high one to 255. */
export const PREVIEW_PERCENTILES = [0.1, 99.9] as const;

/** The smallest integer factor that brings the longer side of `height` x `width` within `max`. */
export function previewFactor(height: number, width: number, max = PREVIEW_MAX_SIDE): number {
  return Math.max(1, Math.ceil(Math.max(height, width) / max));
}

/** The preview of `height` x `width` shrunk `factor` times: ceil of each side (edge blocks are partial). */
export function previewShape(height: number, width: number, factor: number): [number, number] {
  return [Math.ceil(height / factor), Math.ceil(width / factor)];
}

/** The finest level (index) whose longer side is within `max`, or -1 when none is. */
export function levelThatFits(shapes: ReadonlyArray<readonly [number, number]>, max = PREVIEW_MAX_SIDE): number {
  let best = -1;
  shapes.forEach(([h, w], k) => {
    if (Math.max(h, w) <= max && (best < 0 || h * w > shapes[best][0] * shapes[best][1])) best = k;
  });
  return best;
}

/**
 * Adds canvas rows to block sums: `rows` x `width` pixels of canvas rows [y0, y0 + rows) into
 * `sums` (preview rows from `py0`, `width` / factor columns rounded up), each pixel to the block
 * (floor(y / factor), floor(x / factor)). A NaN pixel makes its block NaN, as in the pyramid's
 * means. Float64 sums: exact for every integer dtype up to a 2^53 total.
 */
export function addToBlockSums(sums: Float64Array, py0: number, factor: number, y0: number, rows: number, width: number,
  pixels: ArrayLike<number>): void {
  const previewWidth = Math.ceil(width / factor);
  for (let r = 0; r < rows; r++) {
    const base = (Math.floor((y0 + r) / factor) - py0) * previewWidth;
    const row = r * width;
    // Each block's pixels added one by one, left to right, as a running sum (the order the tests
    // recompute it in): a local accumulator, no division per pixel.
    for (let px = 0, x = 0; px < previewWidth; px++) {
      let sum = sums[base + px];
      const end = Math.min(x + factor, width);
      for (; x < end; x++) sum += pixels[row + x];
      sums[base + px] = sum;
    }
  }
}

/** Block sums to means, in place: each divided by the pixels its block covers (fewer at the right and bottom edges). */
export function blockSumsToMeans(sums: Float64Array, py0: number, factor: number, height: number, width: number): void {
  const previewWidth = Math.ceil(width / factor);
  const rows = sums.length / previewWidth;
  for (let r = 0; r < rows; r++) {
    const py = py0 + r;
    const blockRows = Math.min(height, (py + 1) * factor) - py * factor;
    for (let px = 0; px < previewWidth; px++) {
      const blockCols = Math.min(width, (px + 1) * factor) - px * factor;
      sums[r * previewWidth + px] /= blockRows * blockCols;
    }
  }
}

/**
 * Percentiles (0-100, ascending) of `finite` (finite values; reordered in place): with the values
 * sorted ascending as a[0..n-1], the q-th is a[k] + (a[k+1] - a[k]) * (i - k) at i = (q / 100) *
 * (n - 1), k = floor(i) (numpy's default, 'linear'). Each a[k] is found by selection (quickselect),
 * not a sort: O(n), where sorting 4 M float64 took 1.4 s here. NaN when `finite` is empty.
 */
export function percentiles(finite: Float64Array, qs: readonly number[]): number[] {
  const n = finite.length;
  let from = 0;
  return qs.map((q) => {
    if (n === 0) return NaN;
    const i = (q / 100) * (n - 1);
    const k = Math.min(Math.floor(i), n - 1);
    // Selections of increasing k: the earlier ones left [from, n) holding the larger values.
    if (k >= from) quickselect(finite, k, from, n - 1, (a: number, b: number) => a - b);
    from = k + 1;
    if (k === n - 1) return finite[k];
    let next = Infinity;
    for (let j = k + 1; j < n; j++) if (finite[j] < next) next = finite[j];
    return finite[k] + (next - finite[k]) * (i - k);
  });
}

/** The stretch's low and high values: the 0.1 and 99.9 percentiles of the finite values. */
export function stretchLimits(values: ArrayLike<number>): [number, number] {
  const finite = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite[n++] = values[i];
  const [lo, hi] = percentiles(finite.subarray(0, n), PREVIEW_PERCENTILES);
  return [lo, hi];
}

/**
 * The linear stretch to 8 bits: v8 = floor(255 * clamp((v - lo) / (hi - lo), 0, 1) + 0.5) (round
 * half up); NaN -> 0; +-Infinity clamp to 255 and 0. When hi <= lo (a flat image) every value
 * above lo is 255 and the rest 0.
 */
export function stretchTo8Bit(values: ArrayLike<number>, lo: number, hi: number): Uint8Array {
  const out = new Uint8Array(values.length);
  const span = hi - lo;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) continue;
    if (!(span > 0)) {
      out[i] = v > lo ? 255 : 0;
      continue;
    }
    let t = (v - lo) / span;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    out[i] = Math.floor(255 * t + 0.5);
  }
  return out;
}

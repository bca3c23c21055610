/** mulberry32: small seeded PRNG so random test cases are reproducible. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Seeded values for conversion tests: every magnitude up to 2^69, halves across every integer
 * range, values around the 16- and 8-bit ranges, and any bit pattern (subnormals, NaN payloads,
 * infinities).
 */
export function randomValues(seed: number, n: number): number[] {
  const rand = prng(seed);
  const bits = new Uint32Array(2);
  const asDouble = new Float64Array(bits.buffer);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    switch (i % 5) {
      case 0: out.push((rand() - 0.5) * 2 ** (rand() * 70)); break; // every magnitude up to 2^69
      case 1: out.push(Math.floor((rand() - 0.5) * 2 ** 34) + 0.5); break; // halves across every integer range
      case 2: out.push((rand() - 0.3) * 70000); break; // mostly inside the 16-bit ranges
      case 3: out.push(Math.floor((rand() - 0.5) * 600) / 4); break; // quarters around the 8-bit ranges
      default:
        bits[0] = rand() * 2 ** 32;
        bits[1] = rand() * 2 ** 32;
        out.push(asDouble[0]); // any bit pattern: subnormals, NaN payloads, infinities
    }
  }
  return out;
}

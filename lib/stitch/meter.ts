/** Per-rank time per phase and bytes moved during a stitch, as the report gives them. */

export interface PhaseTimes {
  /** Placing the tiles, rounds, canonical order and covering lists (every rank plans alike). */
  plan: number;
  read: number;
  compute: number;
  convert: number;
  write: number;
  sync: number;
}

export interface IoBytes {
  read: number;
  written: number;
  /** Most bytes of tile data this rank held in memory at once (the tiles in flight). */
  tilesHeld: number;
}

export class Meter {
  readonly times: PhaseTimes = { plan: 0, read: 0, compute: 0, convert: 0, write: 0, sync: 0 };
  readonly bytes: IoBytes = { read: 0, written: 0, tilesHeld: 0 };

  /** Runs `fn`, adding its wall time to `phase`. */
  timed<T>(phase: keyof PhaseTimes, fn: () => T): T {
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.times[phase] += (performance.now() - start) / 1000;
    }
  }

  read(bytes: number): void {
    this.bytes.read += bytes;
  }

  written(bytes: number): void {
    this.bytes.written += bytes;
  }

  held(bytes: number): void {
    this.bytes.tilesHeld = Math.max(this.bytes.tilesHeld, bytes);
  }
}

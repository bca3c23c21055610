/** Test hook: damage an output the way a lost write would, so tests can prove verify catches it. */
import { newArray } from '../core/dtype';
import { readProvenance } from '../io/provenance';
import { openFile } from '../runtime/hdf5';

/** Zeroes the central half of the middle tile (pixels only it owns) of an output; returns its index. Serial. */
export function corruptOneTile(file: string, dataset: string): number {
  const f = openFile(file, { mode: 'r+' });
  try {
    const ds = f.openDataset(dataset);
    if (ds.shape.length !== 2) throw new Error(`corruptOneTile damages 2-D outputs; ${file}:${dataset} is [${ds.shape.join(', ')}]`);
    const { tiles, tileShape: [h, w] } = readProvenance(f, ds);
    const tile = tiles[Math.floor(tiles.length / 2)];
    const y0 = tile.y + Math.floor(h / 4), x0 = tile.x + Math.floor(w / 4);
    const rows = Math.max(1, Math.floor(h / 2)), cols = Math.max(1, Math.floor(w / 2));
    ds.write([y0, x0], [rows, cols], newArray(ds.dtype ?? 'float32', rows * cols));
    return tile.index;
  } finally {
    f.close();
  }
}

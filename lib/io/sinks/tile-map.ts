/** Writes verify's tile map (core/tile-map.ts) as SVG text or as a PNG, by the file's extension. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tileMapRgb, tileMapSvg, type MapTile } from '../../core/tile-map';
import { writeRgbPng } from './png';

export const MAP_EXTENSIONS = ['.svg', '.png'] as const;

export function writeTileMap(file: string, tiles: readonly MapTile[], canvas: readonly [number, number], title: string): void {
  if (path.extname(file).toLowerCase() === '.png') {
    const { width, height, rgb } = tileMapRgb(tiles, canvas);
    writeRgbPng(file, width, height, rgb);
    return;
  }
  const final = path.resolve(file);
  const partial = path.join(path.dirname(final), `.${path.basename(final)}.h5stitch-partial`);
  try {
    fs.writeFileSync(partial, tileMapSvg(tiles, canvas, title));
    fs.renameSync(partial, final);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw new Error(`cannot write ${file}: ${(error as Error).message}`, { cause: error });
  }
}

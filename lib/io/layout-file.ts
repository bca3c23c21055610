/** A grid layout given as a JSON file: `[[0, 1, 2], [3, -1, 4]]` (-1 = empty cell). */
import * as fs from 'node:fs';
import { UsageError } from '../errors';

export function readLayoutFile(file: string): number[][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read layout ${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((row) => Array.isArray(row) && row.every((v) => Number.isInteger(v)))) {
    throw new UsageError(`layout ${file} must be a 2-D JSON array of integer tile indices (-1 = empty)`);
  }
  return parsed as number[][];
}

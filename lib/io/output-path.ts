/** Whether a new output may be written at a path: checked (on one rank) before any work starts. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../errors';

/**
 * UsageError unless `output`'s directory exists and is writable, and `output` is neither the
 * input nor an existing file (without `force`). Never touches the input.
 */
export function checkNewOutput(output: string, o: { force: boolean; input?: string }): void {
  const dir = path.dirname(path.resolve(output));
  if (!fs.existsSync(dir)) throw new UsageError(`output directory ${dir} does not exist`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new UsageError(`output directory ${dir} is not writable`);
  }
  if (!fs.existsSync(output)) return;
  if (o.input !== undefined && fs.existsSync(o.input) && fs.realpathSync(output) === fs.realpathSync(o.input)) {
    throw new UsageError(`output ${output} is the input file; choose another --out`);
  }
  if (!o.force) throw new UsageError(`output ${output} exists; pass --force to replace it`);
}

/** `preview OUT.h5[:/dataset] --out FILE.png`: the preview `stitch --preview` writes, of an existing output. */
import * as fs from 'node:fs';
import { UsageError } from '../../errors';
import { checkImagePath } from '../../io/sinks/png';
import { writePreview } from '../../io/sinks/preview';
import { defaultHints } from '../../runtime/hints';
import { DEFAULT_MEM_PER_RANK } from '../../stitch/options';
import { onePositional, optBytes, optInt, optString, splitTarget } from '../args';
import type { Command } from './command';
import { previewLine } from './stitch';

export const previewCommand: Command = {
  spec: {
    name: 'preview',
    summary: 'write an 8-bit greyscale PNG preview of an output (its pyramid level within 2048 px, or block means)',
    usage: ['preview OUT.h5[:/dataset] --out FILE.png [--channel C]'],
    options: {
      out: { value: 'FILE.png', help: 'the PNG to write (replaced when it exists)' },
      channel: { value: 'C', help: 'the channel of a multi-channel [C, H, W] output (default 0)' },
      'mem-per-rank': { value: 'SIZE', help: 'read-band memory per rank (default 16M)' },
    },
  },
  run(mpi, args) {
    const target = splitTarget(onePositional(args, 'OUT.h5[:/dataset] to preview'), '/stitched');
    const png = optString(args, 'out');
    if (!png) throw new UsageError('missing --out FILE.png');
    const channel = optInt(args, 'channel', 0);
    mpi.runOnRoot(() => {
      if (!fs.existsSync(target.file)) throw new UsageError(`output ${target.file} does not exist`);
      checkImagePath(png, ['.png'], '--out', [target.file]);
    });
    const report = writePreview(mpi, {
      output: target.file, dataset: target.dataset, png, channel, hints: defaultHints(false),
      memPerRank: optBytes(args, 'mem-per-rank') ?? DEFAULT_MEM_PER_RANK,
    });
    if (mpi.rank === 0) process.stdout.write(args.options.has('json') ? `${JSON.stringify({ command: 'preview', ...report })}\n` : `${previewLine(report)}\n`);
    return 0;
  },
};

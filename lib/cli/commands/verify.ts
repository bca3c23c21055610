/** `verify OUT.h5[:/dataset] [--input INPUT]`: per-tile ok | missing | wrong; exit 1 on any failure. */
import * as fs from 'node:fs';
import type { BlendMode } from '../../core/weights';
import { expected, UsageError } from '../../errors';
import { resolvePositions } from '../../io/positions-file';
import { BLENDS } from '../../stitch/options';
import { verifyOutput, type VerifyOptions, type VerifyReport } from '../../stitch/verify';
import { onePositional, optBytes, optFlag, optOverlap, optString, splitTarget, type ParsedArgs } from '../args';
import type { Command } from './command';
import { PLACEMENT_OPTIONS } from './stitch';

/** One line per pyramid level that is not the block mean of the level below. */
export function levelLines(levels: VerifyReport['levels']): string[] {
  return (levels ?? []).filter((l) => l.status !== 'ok').map((l) => {
    const below = `level ${l.level - 1}`;
    if (l.status === 'missing') return `level ${l.level} (${l.path}): missing, or not a 2-D dataset of the output's dtype`;
    if (l.status === 'shape') return `level ${l.level} (${l.path}): shape ${l.shape?.join('x')} is not half of ${below} (rounded up)`;
    return `level ${l.level} (${l.path}): wrong: ${l.mismatched} pixels differ from the 2x2 mean of ${below}; first at y=${l.firstAt?.[0]}, x=${l.firstAt?.[1]} ` +
      `(${l.got} stored, ${l.expected} expected)`;
  });
}

function printVerdict(report: VerifyReport): void {
  const inChannel = (c: number | undefined) => (c === undefined ? '' : `channel ${c} `);
  for (const t of report.failed) {
    console.log(`${inChannel(t.channel)}tile ${t.index}: ${t.status} (${t.mismatched} pixels differ; worst |error| ${t.worst.toPrecision(4)} at y=${t.worstAt?.[0]}, x=${t.worstAt?.[1]})`);
  }
  const u = report.uncovered;
  if (u.mismatched > 0) {
    console.log(`${u.mismatched} pixels no tile covers are not 0 (first at ${inChannel(u.channel)}y=${u.firstAt?.[0]}, x=${u.firstAt?.[1]})`);
  }
  if (!report.complete) console.log('output is not marked complete=1: the stitch did not finish');
  for (const line of levelLines(report.levels)) console.log(line);
  const ok = report.tiles.length - report.failed.length;
  const count = (status: string) => report.failed.filter((t) => t.status === status).length;
  const channels = report.channels ? ` (${report.channels.length} channel${report.channels.length > 1 ? 's' : ''} of ${report.tiles.length / report.channels.length} tiles)` : '';
  const levels = report.levels ? `; ${report.levels.filter((l) => l.status === 'ok').length}/${report.levels.length} pyramid levels ok` : '';
  console.log(`h5stitch verify: ${report.ok ? 'OK' : 'FAILED'}: ${ok}/${report.tiles.length} tiles ok${channels}, ${count('missing')} missing, ${count('wrong')} wrong${levels}`);
}

/** The placement options, when any is given: verify then places the tiles itself (no provenance needed). */
function placementFrom(args: ParsedArgs): VerifyOptions['placement'] {
  const names = ['overlap', 'overlap-y', 'overlap-x', 'layout', 'layout-path', 'positions', 'blend'];
  if (!names.some((n) => args.options.has(n))) return undefined;
  const positions = resolvePositions(optString(args, 'positions'));
  const blend = optString(args, 'blend');
  if (blend !== undefined && !BLENDS.includes(blend as BlendMode)) throw expected(`one of ${BLENDS.join(' | ')}`, '--blend', blend);
  return {
    overlap: optOverlap(args), layoutFile: optString(args, 'layout'), layoutPath: optString(args, 'layout-path'),
    positions: positions?.positions, positionsPath: positions?.positionsPath, blend: blend as BlendMode | undefined,
  };
}

export const verifyCommand: Command = {
  spec: {
    name: 'verify',
    summary: 'recompute the expected image from the tiles and compare it with an output, tile by tile',
    usage: ['verify OUT.h5[:/dataset] [--input INPUT]',
      'verify OUT.h5[:/dataset] --input INPUT [--overlap P | --layout FILE.json | --positions ...] [--blend B]   (an output h5stitch did not write)'],
    options: {
      input: { value: 'INPUT', help: "the tiles (default: the input recorded in the output's provenance)" },
      ...PLACEMENT_OPTIONS,
      blend: { value: 'B', help: 'linear (default) | none | max: with the placement options, for an output h5stitch did not write' },
      'mem-per-rank': { value: 'SIZE', help: 'band memory per rank (default 16M)' },
      map: { value: 'FILE.svg|FILE.png', help: 'draw the tile layout, each tile coloured ok / missing / wrong, with a legend' },
    },
  },
  run(mpi, args) {
    const target = splitTarget(onePositional(args, 'OUT.h5[:/dataset] to verify'), '/stitched');
    mpi.runOnAll(() => {
      if (!fs.existsSync(target.file)) throw new UsageError(`output ${target.file} does not exist`);
    });
    const placement = placementFrom(args);
    const report = verifyOutput(mpi, {
      output: target.file, dataset: target.dataset, input: optString(args, 'input'), tilesPath: optString(args, 'tiles-path'),
      memPerRank: optBytes(args, 'mem-per-rank'), placement, map: optString(args, 'map'),
    });
    if (mpi.rank === 0) {
      // On stderr whatever the output format: a verdict about other tiles than were stitched is easy to misread.
      if (report.inputChanged.length > 0) {
        process.stderr.write(`h5stitch: warning: the input changed since the stitch (${report.inputChanged.join('; ')}); ` +
          'verify compares the output with what the input holds now\n');
      } else if (!report.fingerprinted && !placement) {
        process.stderr.write('h5stitch: warning: the output records no input fingerprint (written before h5stitch 0.2): cannot tell whether the input changed since\n');
      }
      if (optFlag(args, 'json')) process.stdout.write(`${JSON.stringify({ command: 'verify', ...report })}\n`);
      else {
        printVerdict(report);
        const map = optString(args, 'map');
        if (map) console.log(`h5stitch verify: tile map in ${map}`);
      }
    }
    return report.ok ? 0 : 1;
  },
};

/** `register INPUT --out POSITIONS.h5`: every tile's position from its overlaps (lib/register). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expected, UsageError } from '../../errors';
import { resolvePositions } from '../../io/positions-file';
import { registrationPicture } from '../../register/picture';
import { runRegister, type RegisterReport } from '../../register/run';
import { onePositional, optFlag, optInt, optOverlap, optString, type ParsedArgs } from '../args';
import type { Command } from './command';
import { PLACEMENT_OPTIONS } from './stitch';

function minNcc(args: ParsedArgs): number | undefined {
  const raw = optString(args, 'min-ncc');
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !(v >= -1 && v <= 1)) throw expected('a number in [-1, 1]', '--min-ncc', raw);
  return v;
}

function summaryLine(r: RegisterReport): string {
  const p = r.pairs, s = r.status;
  return `h5stitch: registered ${r.tiles} tiles of ${r.input} into ${r.output}: ${s.registered} registered, ${s['registered-group']} in separate groups, ` +
    `${s.modelled} modelled; ${p.kept}/${p.total} pairs kept (${p.lowNcc} below NCC ${r.nccThreshold.value.toFixed(3)}, ${p.noCandidate} without a candidate, ` +
    `${p.outlier} outliers); ${r.ranks} ranks, ${r.seconds.total.toFixed(2)} s (${r.pairsPerSecondPerRank.toFixed(1)} pairs/s per rank)`;
}

export const registerCommand: Command = {
  spec: {
    name: 'register',
    summary: "find every tile's position from its overlaps (phase correlation + NCC, global least squares)",
    usage: ['register INPUT --out POSITIONS.h5 [--overlap P | --layout FILE.json | --positions ...] [--max-shift PX] [--json] [--report REPORT.json] [--picture REPORT.svg]'],
    options: {
      out: { value: 'FILE.h5', help: 'positions file to write: /positions [N,2] (y, x), /pairs, /tile_status' },
      'max-shift': { value: 'PX', help: 'largest deviation from the nominal position between two neighbours, per axis (default a tenth of the smaller tile side, at least 8)' },
      'min-ncc': { value: 'R', help: 'NCC a pair needs (default: 99th percentile of null pairs, at least 0.1)' },
      peaks: { value: 'K', help: 'correlation peaks examined per pair (default 5)' },
      report: { value: 'FILE.json', help: 'write the full report (every tile and pair) as JSON' },
      picture: { value: 'FILE.svg', help: 'draw the report: tiles at their positions, links coloured by residual, rejected links dashed, modelled tiles hatched' },
      ...PLACEMENT_OPTIONS,
      force: { flag: true, help: 'replace an existing output' },
    },
  },
  run(mpi, args) {
    const input = onePositional(args, 'INPUT (an HDF5 file of tiles or a directory of .npy tiles)');
    const out = optString(args, 'out');
    if (!out) throw new UsageError('missing --out POSITIONS.h5');
    const reportPath = optString(args, 'report'), picturePath = optString(args, 'picture');
    for (const [file, what] of [[reportPath, 'report'], [picturePath, 'picture']] as const) {
      if (file && !fs.existsSync(path.dirname(path.resolve(file)))) throw new UsageError(`${what} directory ${path.dirname(path.resolve(file))} does not exist`);
    }
    if (picturePath !== undefined && !picturePath.endsWith('.svg')) throw expected('a file name ending in .svg', '--picture', picturePath);
    const positions = resolvePositions(optString(args, 'positions'));
    const report = runRegister(mpi, {
      input, output: out, force: optFlag(args, 'force'),
      tilesPath: optString(args, 'tiles-path'), layoutPath: optString(args, 'layout-path'), layoutFile: optString(args, 'layout'),
      overlap: optOverlap(args), positionsPath: positions?.positionsPath, positions: positions?.positions,
      maxShift: optInt(args, 'max-shift', 0), peaks: optInt(args, 'peaks', 1), minNcc: minNcc(args),
    });
    if (mpi.rank === 0) {
      if (reportPath) fs.writeFileSync(reportPath, `${JSON.stringify(report, null, 1)}\n`);
      if (picturePath) fs.writeFileSync(picturePath, registrationPicture(report));
      const { tileTable, pairTable, ...summary } = report;
      void pairTable;
      const modelled = tileTable.filter((t) => t.status !== 'registered');
      if (optFlag(args, 'json')) process.stdout.write(`${JSON.stringify({ ...summary, unregistered: modelled })}\n`);
      else {
        console.log(summaryLine(report));
        for (const t of modelled.slice(0, 20)) console.log(`  tile ${t.index}: ${t.status}: ${t.reason}; placed by the stage model, uncertain by ±${(t.uncertainty ?? 0).toFixed(2)} px`);
        if (modelled.length > 20) console.log(`  ... and ${modelled.length - 20} more (see --report)`);
        const disagree = report.pairTable.filter((p) => p.status === 'kept' && p.residual > 1);
        if (disagree.length) {
          const worst = disagree.reduce((w, p) => (p.residual > w.residual ? p : w));
          console.log(`h5stitch: warning: ${disagree.length} kept pair(s) disagree with the solved positions by more than 1 px ` +
            `(worst ${worst.a}-${worst.b}: ${worst.residual.toFixed(2)} px): the tiles near them are uncertain (weak or periodic texture?)`);
        }
      }
    }
    return 0;
  },
};

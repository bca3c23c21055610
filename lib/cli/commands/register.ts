/** `register INPUT --out POSITIONS.h5`: every tile's position from its overlaps (lib/register). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expected, UsageError } from '../../errors';
import { resolvePositions } from '../../io/positions-file';
import { registrationPicture } from '../../register/picture';
import { runRegister } from '../../register/run';
import { onePositional, optFlag, optInt, optOverlap, optString, type ParsedArgs } from '../args';
import type { Command } from './command';
import { PLACEMENT_OPTIONS } from './stitch';
import { REGISTER_OPTIONS, registerOptionsFrom, reportLines } from './register-options';

export const registerCommand: Command = {
  spec: {
    name: 'register',
    summary: "find every tile's position from its overlaps (phase correlation + NCC, global least squares)",
    usage: ['register INPUT --out POSITIONS.h5 [--overlap P | --layout FILE.json | --positions ...] [--max-shift PX] [--json] [--report REPORT.json] [--picture REPORT.svg]'],
    options: {
      out: { value: 'FILE.h5', help: 'positions file to write: /positions [N,2] (y, x), /pairs, /tile_status' },
      ...REGISTER_OPTIONS,
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
      ...registerOptionsFrom(args),
    });
    if (mpi.rank === 0) {
      if (reportPath) fs.writeFileSync(reportPath, `${JSON.stringify(report, null, 1)}\n`);
      if (picturePath) fs.writeFileSync(picturePath, registrationPicture(report));
      const { tileTable, pairTable, ...summary } = report;
      void pairTable;
      const modelled = tileTable.filter((t) => t.status !== 'registered');
      if (optFlag(args, 'json')) process.stdout.write(`${JSON.stringify({ ...summary, unregistered: modelled })}\n`);
      else {
        for (const line of reportLines(report)) console.log(line);
      }
    }
    return 0;
  },
};

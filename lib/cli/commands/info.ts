/** `info [--out DIR]`: the MPI, MPI-IO layer, HDF5, hints and file system a run would use. */
import { defaultHints } from '../../runtime/hints';
import { collectInfo, formatInfo } from '../../runtime/info';
import { optFlag, optHints, optString } from '../args';
import type { Command } from './command';
import { MPIIO_OPTIONS } from './stitch';

export const infoCommand: Command = {
  spec: {
    name: 'info',
    summary: 'show the MPI, MPI-IO layer, HDF5, hints in force and file system of an output directory',
    usage: ['info [--out DIR]'],
    options: {
      out: { value: 'DIR', help: 'output directory to probe (default: the current directory)' },
      ...MPIIO_OPTIONS,
    },
  },
  run(mpi, args) {
    const dir = optString(args, 'out') ?? process.cwd();
    const info = collectInfo(mpi, dir, { ...defaultHints(optFlag(args, 'keep-data-sieving')), ...optHints(args) });
    if (mpi.rank === 0) process.stdout.write(optFlag(args, 'json') ? `${JSON.stringify(info)}\n` : formatInfo(info));
    return 0;
  },
};

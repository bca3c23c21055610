/** `info [--out DIR]`: the MPI, MPI-IO layer, HDF5, hints and file system a run would use. */
import { UsageError } from '../../errors';
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
    // `info OUT.h5` would print this machine's MPI and file system, not the file's contents.
    if (args.positional.length > 0) throw new UsageError(`info takes no file ("${args.positional[0]}"); to see what an output holds: inspect OUT.h5`);
    const dir = optString(args, 'out') ?? process.cwd();
    const info = collectInfo(mpi, dir, { ...defaultHints(optFlag(args, 'keep-data-sieving')), ...optHints(args) });
    if (mpi.rank === 0) process.stdout.write(optFlag(args, 'json') ? `${JSON.stringify(info)}\n` : formatInfo(info));
    return 0;
  },
};

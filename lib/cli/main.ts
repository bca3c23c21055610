/**
 * The command-line runner: `mpirun -n N node dist/stitch.js [command] ...`. It owns the job's
 * failure policy: errors every rank agreed on are reported once by rank 0 (exit 2 for bad input,
 * 1 otherwise); an error on one rank alone aborts the whole job (MPI_Abort), since the others may
 * be waiting in a collective call: with code 2 when it is an input that could not be read
 * (InputError), 1 otherwise.
 */
import { InputError, RankFailedError, UsageError } from '../errors';
import { initMpi, type Mpi } from '../runtime/mpi';
import { hooksFromEnv, installTestHooks } from '../testing/hooks';
import { VERSION } from '../version';
import { helpText, parseCommand } from './args';
import { benchCommand } from './commands/bench';
import type { Command } from './commands/command';
import { generateCommand } from './commands/generate';
import { infoCommand } from './commands/info';
import { inspectCommand } from './commands/inspect';
import { previewCommand } from './commands/preview';
import { registerCommand } from './commands/register';
import { stitchCommand } from './commands/stitch';
import { verifyCommand } from './commands/verify';

const COMMANDS: Record<string, Command> = {
  stitch: stitchCommand, verify: verifyCommand, generate: generateCommand, info: infoCommand, bench: benchCommand, register: registerCommand,
  preview: previewCommand, inspect: inspectCommand,
};
const LAUNCHER = 'mpirun -n N node dist/stitch.js';

function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${c.spec.name.padEnd(9)} ${c.spec.summary}`);
  return `h5stitch ${VERSION}: stitch overlapping tiles into one HDF5 dataset with MPI + parallel HDF5\n\n` +
    `usage: ${LAUNCHER} [command] ... (stitch when the first argument is not a command)\n\ncommands:\n${lines.join('\n')}\n\n` +
    `${LAUNCHER} COMMAND --help shows a command's options.\n`;
}

function isUsage(error: unknown): boolean {
  return error instanceof UsageError || (error instanceof RankFailedError && (error.reasonCode === 'ERR_USAGE' || error.reasonCode === 'ERR_INPUT'));
}

/** Reports an error: once (rank 0) when every rank has it, else from this rank and aborts the job. */
function fail(mpi: Mpi, error: unknown, debug: boolean): void {
  const stack = debug && error instanceof Error ? `${error.stack}\n` : '';
  if (isUsage(error) || error instanceof RankFailedError) {
    if (mpi.rank === 0) process.stderr.write(`h5stitch: error: ${(error as Error).message}\n${stack}`);
    mpi.finalize();
    process.exitCode = isUsage(error) ? 2 : 1;
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`h5stitch: [rank ${mpi.rank}] error: ${message}\n${stack}`);
  mpi.abort(error instanceof InputError ? 2 : 1);
}

export function main(argv: string[]): void {
  const named = COMMANDS[argv[0]];
  const command = named ?? stitchCommand;
  const rest = named ? argv.slice(1) : argv;
  if (argv.length === 0 || (!named && rest[0] === '--help')) {
    process.stdout.write(usage());
    return;
  }
  if (rest.includes('--help')) {
    process.stdout.write(helpText(command.spec, LAUNCHER));
    return;
  }
  const debug = rest.includes('--debug');
  const mpi = initMpi({ keepDataSieving: rest.includes('--keep-data-sieving') });
  try {
    installTestHooks(hooksFromEnv());
    process.exitCode = command.run(mpi, parseCommand(command.spec, rest));
    mpi.finalize();
  } catch (error) {
    fail(mpi, error, debug);
  }
}

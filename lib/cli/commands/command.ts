/** What a subcommand is: its option spec (parsed strictly) and its run. */
import type { Mpi } from '../../runtime/mpi';
import type { CommandSpec, ParsedArgs } from '../args';

export interface Command {
  spec: CommandSpec;
  /** Runs collectively on every rank; returns the exit code. */
  run(mpi: Mpi, args: ParsedArgs): number;
}

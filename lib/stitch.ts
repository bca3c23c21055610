#!/usr/bin/env node
/** The `h5stitch` executable (dist/stitch.js): `mpirun -n N node dist/stitch.js [command] ...`. */
import { main } from './cli/main';

main(process.argv.slice(2));

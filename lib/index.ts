/**
 * h5stitch: stitch overlapping image tiles into one HDF5 dataset in parallel (MPI + parallel HDF5).
 *
 * Every function here that touches MPI or a parallel file is collective (inspect and the level
 * layout rules are not): run the same calls on every rank of an MPI job
 * (`mpirun -n 4 node my-script.js`). MPI starts on first use; see {@link initMpi} for its
 * lifecycle options.
 *
 * @example
 * ```ts
 * import { stitch, verify } from 'h5stitch';
 * const report = stitch({ input: 'tiles.h5', output: 'stitched.h5', overlap: 26 });
 * if (!verify({ output: 'stitched.h5' }).ok) process.exitCode = 1;
 * ```
 */
export { stitch } from './stitch/run';
export type { StitchReport } from './stitch/run';
export type { StitchOptions } from './stitch/options';
export type { StrategyName } from './stitch/strategy';
export type { PhaseTimes } from './stitch/meter';
export { verify } from './stitch/verify';
export type { TileStatus, TileVerdict, VerifyOptions, VerifyReport } from './stitch/verify';
export { inspectOutput as inspect } from './io/inspect';
export type { DatasetSummary, OutputSummary, ProvenanceSummary } from './io/inspect';
export { register } from './register/run';
export { registrationPicture } from './register/picture';
export type { PairRecord, RegisterOptions, RegisterReport, TileRecord } from './register/run';
export { initMpi } from './runtime/mpi';
export type { Mpi, MpiInitOptions } from './runtime/mpi';
export { openFile, readAll } from './runtime/hdf5';
export type { ActualIoMode, AttrValue, DatasetOptions, FileOptions, IoOptions, NativeDataset as Dataset, NativeFile as H5File, ReduceOp, ThreadLevel, Transfer } from './runtime/addon';
export type { Dtype, NumericArray } from './core/dtype';
export type { BlendMode } from './core/weights';
export { levelPath, levelShape, levelShapes, levelsToFit, pyramidLevels, PYRAMID_FIT_PX } from './core/pyramid';
export type { OutputFormat } from './core/pyramid';
export type { LevelVerdict } from './stitch/verify-levels';
export { H5StitchError, InputError, RankFailedError, UsageError } from './errors';
export { VERSION } from './version';

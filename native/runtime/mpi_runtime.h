// The MPI runtime as the addon sees it: one process-wide lifecycle (init once, finalize once,
// abort) plus the small collectives the tool needs, on MPI_COMM_WORLD.
#pragma once

#include <mpi.h>
#include <napi.h>

namespace h5stitch::mpi {

// Throws ERR_MPI_STATE naming `what` unless MPI is initialised and not yet finalized.
void RequireReady(Napi::Env env, const char* what);

// Throws ERR_MPI with MPI's own error text when `rc` is not MPI_SUCCESS.
void Check(Napi::Env env, int rc, const char* what);

// "world" (default) or "self".
MPI_Comm CommFromValue(Napi::Env env, const Napi::Value& value, const char* what);

// Adds the `mpi` object (init, rank, barrier, allreduce, finalize...) to exports.
void Register(Napi::Env env, Napi::Object exports);

}  // namespace h5stitch::mpi

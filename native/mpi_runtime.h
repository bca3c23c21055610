// The MPI runtime as the addon sees it: one process-wide lifecycle
// (init once, finalize once, abort) plus the small collectives the tool needs.
#pragma once

#include <mpi.h>
#include <napi.h>

namespace h5stitch::mpi {

// True between a successful init and finalize.
bool Ready();

// Throws ERR_MPI_STATE naming `what` unless MPI is ready.
void RequireReady(Napi::Env env, const char* what);

// Throws ERR_MPI with MPI's own error text when `rc` is not MPI_SUCCESS.
void Check(Napi::Env env, int rc, const char* what);

// "world" (default) or "self".
MPI_Comm CommFromValue(Napi::Env env, const Napi::Value& value, const char* what);

// Builds an MPI_Info from a plain object of string values (MPI_INFO_NULL when undefined).
// The caller frees it with MPI_Info_free unless it is MPI_INFO_NULL.
MPI_Info InfoFromObject(Napi::Env env, const Napi::Value& value, const char* what);

// Reads all key/value pairs of an info object into a JS object.
Napi::Object InfoToObject(Napi::Env env, MPI_Info info);

void Register(Napi::Env env, Napi::Object exports);

}  // namespace h5stitch::mpi

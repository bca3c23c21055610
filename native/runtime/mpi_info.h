// MPI_Info objects: MPI-IO hints given as a plain JS object of strings, and read back.
#pragma once

#include <napi.h>

#include "runtime/mpi_handle.h"

namespace h5stitch::mpi {

class MpiInfo : public MpiHandle<MPI_Info> {
 public:
  MpiInfo() : MpiHandle(MPI_INFO_NULL, MPI_Info_free) {}

  // From a plain object of string values; MPI_INFO_NULL when `value` is undefined or null.
  static MpiInfo FromObject(Napi::Env env, const Napi::Value& value, const char* what);
  // Every key/value pair (none for MPI_INFO_NULL).
  Napi::Object ToObject(Napi::Env env) const;
};

}  // namespace h5stitch::mpi

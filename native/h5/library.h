// The HDF5 library as a whole: how it reports errors, and which build it is.
#pragma once

#include <napi.h>

namespace h5stitch::hdf5 {

// Turns HDF5's own error printing off (errors become JS errors carrying the HDF5 stack) and adds
// hdf5Version() -> { version, parallel, threadsafe } to exports.
void Register(Napi::Env env, Napi::Object exports);

}  // namespace h5stitch::hdf5

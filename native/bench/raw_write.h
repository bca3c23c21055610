// The benchmark's reference: the raw MPI-IO write speed the stitched writes are compared with.
#pragma once

#include <napi.h>

namespace h5stitch::bench {

// Adds rawWrite(path, totalBytes, hints) to exports.
void Register(Napi::Env env, Napi::Object exports);

}  // namespace h5stitch::bench

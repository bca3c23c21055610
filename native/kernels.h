// Compute kernels: the blend accumulation every strategy runs per tile (or tile part).
#pragma once

#include <napi.h>

namespace h5stitch::kernels {

// Adds `accumulate({acc, accWidth, accY0, accX0, tile, covering, data, region, blend})` and
// `startAccumulate({band, jobs})` (the same jobs on a background thread; returns wait()) to exports.
void Register(Napi::Env env, Napi::Object exports);

}  // namespace h5stitch::kernels

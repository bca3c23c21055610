// registerPair(a, aShape, b, bShape, {offset, maxShift, peaks?, minOverlap?}) (register_binding.cc).
#pragma once

#include <napi.h>

namespace h5stitch::reg {

void Register(Napi::Env env, Napi::Object exports);

}  // namespace h5stitch::reg

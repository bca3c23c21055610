// renderTile(out, [height, width], look) and textureAt(y, x, seed) (texture_binding.cc).
#pragma once

#include <napi.h>

namespace h5stitch::gen {

void Register(Napi::Env env, Napi::Object exports);

}  // namespace h5stitch::gen

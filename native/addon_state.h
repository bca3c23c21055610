// Per-addon-instance state (one per Node environment), released by a cleanup hook.
#pragma once

#include <napi.h>

namespace h5stitch {

struct AddonState {
  Napi::FunctionReference file_class;
  Napi::FunctionReference dataset_class;
};

inline AddonState& StateOf(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

}  // namespace h5stitch

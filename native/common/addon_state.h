// Per-environment state: one AddonState per Node environment (the main thread, each worker) that
// loads the addon. Created in Init as the environment's instance data; node-addon-api deletes it
// from napi's instance-data finalizer when that environment is torn down, after the finalizers of
// the environment's objects, so every reference below is released there. MPI and the HDF5
// library are process-wide and keep their state in runtime/ and common/hid.h instead.
#pragma once

#include <napi.h>

#include <optional>
#include <string>

#include "common/hid.h"

namespace h5stitch {

class H5File;

// An open dataset on its way from H5File into the H5Dataset constructor, which JS calls
// synchronously inside Dataset class New() and which can take no C++ arguments.
struct DatasetHandOff {
  H5File* file;
  Hid dataset;
  std::string name;
};

struct AddonState {
  Napi::FunctionReference dataset_class;
  // Set by setErrorConstructor(): the class of every coded error thrown here (H5StitchError).
  Napi::FunctionReference error_constructor;
  std::optional<DatasetHandOff> dataset_hand_off;
};

inline AddonState& StateOf(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

}  // namespace h5stitch

// Registers the native surface; the work lives in the per-concern modules.
#include <hdf5.h>
#include <napi.h>

#include "addon_state.h"
#include "h5_dataset.h"
#include "h5_file.h"
#include "kernels.h"
#include "mpi_runtime.h"

namespace h5stitch {

Napi::Value Hdf5Version(const Napi::CallbackInfo& info) {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  hbool_t threadsafe = false;
  H5is_library_threadsafe(&threadsafe);
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("version", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
  result.Set("parallel", Napi::Boolean::New(info.Env(), H5_HAVE_PARALLEL));
  result.Set("threadsafe", Napi::Boolean::New(info.Env(), threadsafe));
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonState());  // deleted by node-addon-api at environment teardown
  // HDF5 errors become JS errors carrying the stack; never printed by HDF5 itself.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  mpi::Register(env, exports);
  H5File::Register(env, exports);
  H5Dataset::Register(env, exports);
  kernels::Register(env, exports);
  exports.Set("hdf5Version", Napi::Function::New(env, Hdf5Version, "hdf5Version"));
  return exports;
}

}  // namespace h5stitch

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return h5stitch::Init(env, exports); }

NODE_API_MODULE(h5stitch, InitAddon)

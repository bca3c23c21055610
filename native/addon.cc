// Registers the native surface; the work lives in the per-concern folders.
#include <napi.h>

#include "bench/raw_write.h"
#include "common/addon_state.h"
#include "common/errors.h"
#include "h5/dataset.h"
#include "h5/file.h"
#include "h5/library.h"
#include "io/tiff_reader.h"
#include "io/tiff_writer.h"
#include "kernels/bindings.h"
#include "os/page_cache.h"
#include "register/register_binding.h"
#include "generate/texture_binding.h"
#include "runtime/mpi_runtime.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace h5stitch;
  env.SetInstanceData(new AddonState());  // deleted at environment teardown (see addon_state.h)
  exports.Set("setErrorConstructor", Napi::Function::New(env, SetErrorConstructor, "setErrorConstructor"));
  mpi::Register(env, exports);
  hdf5::Register(env, exports);
  H5File::Register(env, exports);
  H5Dataset::Register(env, exports);
  kernels::RegisterBlend(env, exports);
  kernels::RegisterConvert(env, exports);
  kernels::RegisterVerifyCompare(env, exports);
  kernels::RegisterDownsample(env, exports);
  kernels::RegisterBackground(env, exports);
  os::Register(env, exports);
  TiffFile::Register(env, exports);
  RegisterTiffWriter(env, exports);
  bench::Register(env, exports);
  reg::Register(env, exports);
  gen::Register(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(h5stitch, Init)

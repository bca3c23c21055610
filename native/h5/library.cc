#include "h5/library.h"

#include <hdf5.h>

#include <string>

namespace h5stitch::hdf5 {
namespace {

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

}  // namespace

void Register(Napi::Env env, Napi::Object exports) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  exports.Set("hdf5Version", Napi::Function::New(env, Hdf5Version, "hdf5Version"));
}

}  // namespace h5stitch::hdf5

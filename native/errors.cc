#include "errors.h"

#include <hdf5.h>

#include <cmath>
#include <sstream>

namespace h5stitch {

void ThrowWithCode(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  throw error;
}

std::string Describe(const Napi::Value& value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsBoolean()) return std::string("boolean ") + (value.As<Napi::Boolean>().Value() ? "true" : "false");
  if (value.IsNumber()) {
    std::ostringstream out;
    out << "number " << value.As<Napi::Number>().DoubleValue();
    return out.str();
  }
  if (value.IsString()) return "string \"" + value.As<Napi::String>().Utf8Value() + "\"";
  if (value.IsTypedArray()) {
    switch (value.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_int8_array: return "Int8Array";
      case napi_uint8_array: return "Uint8Array";
      case napi_uint8_clamped_array: return "Uint8ClampedArray";
      case napi_int16_array: return "Int16Array";
      case napi_uint16_array: return "Uint16Array";
      case napi_int32_array: return "Int32Array";
      case napi_uint32_array: return "Uint32Array";
      case napi_float32_array: return "Float32Array";
      case napi_float64_array: return "Float64Array";
      case napi_bigint64_array: return "BigInt64Array";
      case napi_biguint64_array: return "BigUint64Array";
      default: return "TypedArray";
    }
  }
  if (value.IsArray()) return "array";
  if (value.IsFunction()) return "function";
  return "object";
}

void ThrowTypeError(Napi::Env env, const std::string& expected, const std::string& what,
                    const Napi::Value& received) {
  Napi::TypeError error =
      Napi::TypeError::New(env, "Expected " + expected + " for " + what + " but received " + Describe(received));
  error.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  throw error;
}

int64_t SafeInteger(Napi::Env env, const Napi::Value& v, const std::string& expected, const std::string& what,
                    const Napi::Value& reported) {
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.5;
  if (d != std::floor(d) || std::fabs(d) > 9007199254740991.0) ThrowTypeError(env, expected, what, reported);
  return static_cast<int64_t>(d);
}

namespace {
herr_t CollectFrame(unsigned n, const H5E_error2_t* frame, void* data) {
  auto* out = static_cast<std::string*>(data);
  char major[128] = "", minor[128] = "";
  H5Eget_msg(frame->maj_num, nullptr, major, sizeof major);
  H5Eget_msg(frame->min_num, nullptr, minor, sizeof minor);
  std::ostringstream line;
  line << "\n  #" << n << " " << (frame->func_name ? frame->func_name : "?") << ": "
       << (frame->desc ? frame->desc : "") << " (" << major << " / " << minor << ")";
  *out += line.str();
  return 0;
}
}  // namespace

std::string TakeHdf5ErrorStack() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, CollectFrame, &text);
  H5Eclear2(H5E_DEFAULT);
  return text;
}

void CheckHdf5(Napi::Env env, long long status, const std::string& what) {
  if (status >= 0) return;
  ThrowWithCode(env, kCodeHdf5, what + " failed; HDF5 error stack:" + TakeHdf5ErrorStack());
}

}  // namespace h5stitch

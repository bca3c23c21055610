#include "common/errors.h"

#include <hdf5.h>

#include <sstream>

#include "common/addon_state.h"

namespace h5stitch {

void ThrowWithCode(Napi::Env env, const char* code, const std::string& message) {
  const Napi::FunctionReference& ctor = StateOf(env).error_constructor;
  if (!ctor.IsEmpty()) {
    throw Napi::Error(env, ctor.New({Napi::String::New(env, code), Napi::String::New(env, message)}));
  }
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  throw error;
}

Napi::Value SetErrorConstructor(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) ThrowTypeError(info.Env(), "a constructor (code, message)", "error constructor", info[0]);
  StateOf(info.Env()).error_constructor = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

namespace {
const char* TypedArrayName(napi_typedarray_type type) {
  switch (type) {
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
}  // namespace

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
  if (value.IsTypedArray()) return TypedArrayName(value.As<Napi::TypedArray>().TypedArrayType());
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

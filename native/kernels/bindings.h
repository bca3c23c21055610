// The Node-API side of the kernels: argument checks, then plain calls into blend.h / convert.h /
// verify_compare.h.
#pragma once

#include <napi.h>

#include <string>

#include "common/args.h"
#include "common/errors.h"
#include "kernels/element.h"

namespace h5stitch::kernels {

// accumulate(args), startAccumulate({band, jobs}) and zeroUncovered(args) (blend_binding.cc).
void RegisterBlend(Napi::Env env, Napi::Object exports);
// convert(acc, out) (convert_binding.cc).
void RegisterConvert(Napi::Env env, Napi::Object exports);
// firstMismatch(acc, got) (verify_compare_binding.cc).
void RegisterVerifyCompare(Napi::Env env, Napi::Object exports);
// downsample(src, rows, width, out) and startDownsample(steps) (downsample_binding.cc).
void RegisterDownsample(Napi::Env env, Napi::Object exports);

// setWorkerCpus('node' | 'inherit'): where background batch threads may run, and
// setCallerCpus('node' | 'saved'): where the calling thread may (background.cc).
void RegisterBackground(Napi::Env env, Napi::Object exports);

// The element type of a typed array IsNumericArray (common/args.h) admits.
inline Element ElementOf(const Napi::TypedArray& array) {
  switch (array.TypedArrayType()) {
    case napi_int8_array: return Element::kInt8;
    case napi_uint8_array: return Element::kUint8;
    case napi_int16_array: return Element::kInt16;
    case napi_uint16_array: return Element::kUint16;
    case napi_int32_array: return Element::kInt32;
    case napi_uint32_array: return Element::kUint32;
    case napi_float32_array: return Element::kFloat32;
    default: return Element::kFloat64;
  }
}

// `value` as an accumulator (a Float32Array or Float64Array) named `name`; TypeError otherwise.
inline Napi::TypedArray FloatArrayArg(Napi::Env env, const Napi::Value& value, const std::string& name) {
  if (!IsFloatArray(value)) ThrowTypeError(env, "a Float32Array or Float64Array", name, value);
  return value.As<Napi::TypedArray>();
}

// ERR_RANGE unless `array` (named `name`) has as many elements as `acc`.
inline void RequireLengthOfAcc(Napi::Env env, const Napi::TypedArray& array, const std::string& name, const Napi::TypedArray& acc) {
  if (array.ElementLength() != acc.ElementLength()) {
    ThrowWithCode(env, kCodeRange, name + " has " + std::to_string(array.ElementLength()) + " elements, acc " + std::to_string(acc.ElementLength()));
  }
}

}  // namespace h5stitch::kernels

// The Node-API side of the kernels: argument checks, then plain calls into blend.h / convert.h /
// verify_compare.h.
#pragma once

#include <napi.h>

#include "kernels/element.h"

namespace h5stitch::kernels {

// accumulate(args) and startAccumulate({band, jobs}) (blend_binding.cc).
void RegisterBlend(Napi::Env env, Napi::Object exports);
// convert(acc, out) (convert_binding.cc).
void RegisterConvert(Napi::Env env, Napi::Object exports);
// firstMismatch(acc, got) (verify_compare_binding.cc).
void RegisterVerifyCompare(Napi::Env env, Napi::Object exports);
// downsample(src, rows, width, out) and startDownsample(steps) (downsample_binding.cc).
void RegisterDownsample(Napi::Env env, Napi::Object exports);

// setWorkerCpus('node' | 'inherit'): where background batch threads may run (background.cc).
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

}  // namespace h5stitch::kernels

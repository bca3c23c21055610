// Argument helpers for every native function: each reads one JS value and either returns it as a
// C++ value or throws the TypeError of errors.h ("Expected X for Y but received Z").
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "common/errors.h"

namespace h5stitch {

// The first element of a typed array (a view may start inside its buffer).
inline void* DataOf(const Napi::TypedArray& array) {
  return static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
}

inline std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsString()) ThrowTypeError(info.Env(), "a string", what, info[i]);
  return info[i].As<Napi::String>().Utf8Value();
}

// An options object; undefined reads as an empty one.
inline Napi::Object OptionsArg(const Napi::CallbackInfo& info, size_t i, const std::string& what) {
  if (info[i].IsUndefined()) return Napi::Object::New(info.Env());
  if (!info[i].IsObject()) ThrowTypeError(info.Env(), "an options object", what, info[i]);
  return info[i].As<Napi::Object>();
}

inline bool BoolOption(Napi::Env env, const Napi::Object& options, const char* key, bool fallback) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) ThrowTypeError(env, "a boolean", key, v);
  return v.As<Napi::Boolean>().Value();
}

// The position of `value` among the strings `names`; TypeError(expected) when it is none of them.
inline size_t OneOf(Napi::Env env, const Napi::Value& value, std::initializer_list<const char*> names,
                    const std::string& expected, const std::string& what) {
  if (value.IsString()) {
    const std::string text = value.As<Napi::String>().Utf8Value();
    size_t i = 0;
    for (const char* name : names) {
      if (text == name) return i;
      i++;
    }
  }
  ThrowTypeError(env, expected, what, value);
}

// An array of sizes (shape, chunk, hyperslab start/count), each >= 0 (allow_zero) or >= 1. A
// template so HDF5's hsize_t is not needed here.
template <typename Dim>
std::vector<Dim> DimsOption(Napi::Env env, const Napi::Value& value, const char* what, bool allow_zero) {
  if (!value.IsArray()) ThrowTypeError(env, "an array of non-negative integers", what, value);
  Napi::Array array = value.As<Napi::Array>();
  std::vector<Dim> dims;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    double d = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : -1;
    if (d < (allow_zero ? 0 : 1) || d != static_cast<double>(static_cast<Dim>(d))) {
      ThrowTypeError(env, allow_zero ? "a non-negative integer" : "a positive integer",
                     std::string(what) + "[" + std::to_string(i) + "]", item);
    }
    dims.push_back(static_cast<Dim>(d));
  }
  return dims;
}

// A JS number that is a safe integer; else TypeError(expected, what, reported): `reported` may be
// the whole value `v` came from (an array, say).
inline int64_t SafeInteger(Napi::Env env, const Napi::Value& v, const std::string& expected, const std::string& what,
                           const Napi::Value& reported) {
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.5;
  if (d != std::floor(d) || std::fabs(d) > 9007199254740991.0) ThrowTypeError(env, expected, what, reported);
  return static_cast<int64_t>(d);
}

// object[name] as a safe integer.
inline int64_t IntegerField(Napi::Env env, const Napi::Object& object, const char* name) {
  Napi::Value v = object.Get(name);
  return SafeInteger(env, v, "an integer", name, v);
}

// An optional byte count or offset: a safe integer >= 0; undefined reads as 0.
inline int64_t ByteCountArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info[i].IsUndefined()) return 0;
  const int64_t bytes = SafeInteger(info.Env(), info[i], "a non-negative integer", what, info[i]);
  if (bytes < 0) ThrowTypeError(info.Env(), "a non-negative integer", what, info[i]);
  return bytes;
}

inline Napi::TypedArray ArgTypedArray(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsTypedArray()) ThrowTypeError(info.Env(), "a TypedArray", what, info[i]);
  return info[i].As<Napi::TypedArray>();
}

// A typed array of plain numbers: not BigInt, not Uint8Clamped.
inline bool IsNumericArray(const Napi::Value& v) {
  if (!v.IsTypedArray()) return false;
  switch (v.As<Napi::TypedArray>().TypedArrayType()) {
    case napi_int8_array: case napi_uint8_array: case napi_int16_array: case napi_uint16_array:
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: case napi_float64_array:
      return true;
    default:
      return false;
  }
}

inline bool IsFloatArray(const Napi::Value& v) {
  return v.IsTypedArray() && (v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array ||
                              v.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array);
}

}  // namespace h5stitch

#include "h5/types.h"

#include <string>

#include "common/errors.h"

namespace h5stitch {
namespace {

hid_t NativeInt8() { return H5T_NATIVE_INT8; }
hid_t NativeUint8() { return H5T_NATIVE_UINT8; }
hid_t NativeInt16() { return H5T_NATIVE_INT16; }
hid_t NativeUint16() { return H5T_NATIVE_UINT16; }
hid_t NativeInt32() { return H5T_NATIVE_INT32; }
hid_t NativeUint32() { return H5T_NATIVE_UINT32; }
hid_t NativeInt64() { return H5T_NATIVE_INT64; }
hid_t NativeUint64() { return H5T_NATIVE_UINT64; }
hid_t NativeFloat() { return H5T_NATIVE_FLOAT; }
hid_t NativeDouble() { return H5T_NATIVE_DOUBLE; }

const Dtype kDtypes[] = {
    {"int8", NativeInt8, napi_int8_array, 1},          {"uint8", NativeUint8, napi_uint8_array, 1},
    {"int16", NativeInt16, napi_int16_array, 2},       {"uint16", NativeUint16, napi_uint16_array, 2},
    {"int32", NativeInt32, napi_int32_array, 4},       {"uint32", NativeUint32, napi_uint32_array, 4},
    {"int64", NativeInt64, napi_bigint64_array, 8},    {"uint64", NativeUint64, napi_biguint64_array, 8},
    {"float32", NativeFloat, napi_float32_array, 4},   {"float64", NativeDouble, napi_float64_array, 8},
};
const Dtype& kFloat32 = kDtypes[8];
const Dtype& kFloat64 = kDtypes[9];

const char* kDtypeList = "one of 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64'";

}  // namespace

const Dtype& DtypeByName(Napi::Env env, const Napi::Value& value, const char* what) {
  if (value.IsString()) {
    std::string name = value.As<Napi::String>().Utf8Value();
    for (const Dtype& d : kDtypes)
      if (name == d.name) return d;
  }
  ThrowTypeError(env, kDtypeList, what, value);
}

const Dtype* DtypeOfType(hid_t type) {
  H5T_class_t cls = H5Tget_class(type);
  size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT) {
    if (size == 4) return &kFloat32;
    if (size == 8) return &kFloat64;
    return nullptr;
  }
  if (cls != H5T_INTEGER) return nullptr;
  bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
  for (const Dtype& d : kDtypes) {
    bool d_signed = d.name[0] == 'i';
    if (d.size == size && d_signed == is_signed && &d != &kFloat32 && &d != &kFloat64) return &d;
  }
  return nullptr;
}

const Dtype* DtypeOfArray(const Napi::TypedArray& array) {
  for (const Dtype& d : kDtypes)
    if (d.array == array.TypedArrayType()) return &d;
  return nullptr;
}

}  // namespace h5stitch

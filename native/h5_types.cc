#include "h5_types.h"

#include <cstring>
#include <vector>

#include "errors.h"
#include "hid.h"

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
    if (size == 4) return &kDtypes[8];
    if (size == 8) return &kDtypes[9];
    return nullptr;
  }
  if (cls != H5T_INTEGER) return nullptr;
  bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
  for (const Dtype& d : kDtypes) {
    bool d_signed = d.name[0] == 'i';
    if (d.size == size && d_signed == is_signed && d.array != napi_float32_array && d.array != napi_float64_array) return &d;
  }
  return nullptr;
}

const Dtype* DtypeOfArray(const Napi::TypedArray& array) {
  for (const Dtype& d : kDtypes)
    if (d.array == array.TypedArrayType()) return &d;
  return nullptr;
}

void* DataOf(const Napi::TypedArray& array) {
  return static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
}

void WriteAttribute(Napi::Env env, hid_t object, const std::string& name, const Napi::Value& value) {
  std::string what = "attribute '" + name + "'";
  // Replace an existing attribute of that name: types and sizes may differ.
  htri_t exists = H5Aexists(object, name.c_str());
  CheckHdf5(env, exists, "H5Aexists(" + name + ")");
  if (exists > 0) CheckHdf5(env, H5Adelete(object, name.c_str()), "H5Adelete(" + name + ")");

  if (value.IsString()) {
    std::string text = value.As<Napi::String>().Utf8Value();
    Hid type = Datatype(H5Tcopy(H5T_C_S1));
    H5Tset_size(type.get(), text.empty() ? 1 : text.size());
    H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    Hid space = Dataspace(H5Screate(H5S_SCALAR));
    Hid attr = Attribute(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
    CheckHdf5(env, attr.get(), "H5Acreate2(" + name + ")");
    std::vector<char> buffer(text.empty() ? 1 : text.size(), '\0');
    std::memcpy(buffer.data(), text.data(), text.size());
    CheckHdf5(env, H5Awrite(attr.get(), type.get(), buffer.data()), "H5Awrite(" + name + ")");
    return;
  }
  if (value.IsNumber() || value.IsBoolean()) {
    double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : (value.As<Napi::Boolean>() ? 1 : 0);
    Hid space = Dataspace(H5Screate(H5S_SCALAR));
    Hid attr = Attribute(H5Acreate2(object, name.c_str(), H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT, H5P_DEFAULT));
    CheckHdf5(env, attr.get(), "H5Acreate2(" + name + ")");
    CheckHdf5(env, H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, &number), "H5Awrite(" + name + ")");
    return;
  }
  if (value.IsTypedArray() || value.IsArray()) {
    std::vector<double> numbers;
    const void* data;
    hid_t type;
    hsize_t length;
    if (value.IsTypedArray()) {
      Napi::TypedArray array = value.As<Napi::TypedArray>();
      const Dtype* dtype = DtypeOfArray(array);
      if (!dtype) ThrowTypeError(env, "a numeric TypedArray", what, value);
      data = DataOf(array);
      type = dtype->native();
      length = array.ElementLength();
    } else {
      Napi::Array array = value.As<Napi::Array>();
      for (uint32_t i = 0; i < array.Length(); i++) {
        Napi::Value item = array.Get(i);
        if (!item.IsNumber()) ThrowTypeError(env, "an array of numbers", what, item);
        numbers.push_back(item.As<Napi::Number>().DoubleValue());
      }
      data = numbers.data();
      type = H5T_NATIVE_DOUBLE;
      length = numbers.size();
    }
    Hid space = Dataspace(length == 0 ? H5Screate(H5S_NULL) : H5Screate_simple(1, &length, nullptr));
    Hid attr = Attribute(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
    CheckHdf5(env, attr.get(), "H5Acreate2(" + name + ")");
    if (length > 0) CheckHdf5(env, H5Awrite(attr.get(), type, data), "H5Awrite(" + name + ")");
    return;
  }
  ThrowTypeError(env, "a number, string, number[] or TypedArray", what, value);
}

Napi::Value ReadAttribute(Napi::Env env, hid_t object, const std::string& name) {
  htri_t exists = H5Aexists(object, name.c_str());
  CheckHdf5(env, exists, "H5Aexists(" + name + ")");
  if (exists == 0) return env.Undefined();
  Hid attr = Attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT));
  CheckHdf5(env, attr.get(), "H5Aopen(" + name + ")");
  Hid type = Datatype(H5Aget_type(attr.get()));
  Hid space = Dataspace(H5Aget_space(attr.get()));
  hssize_t count = H5Sget_simple_extent_npoints(space.get());
  H5S_class_t space_class = H5Sget_simple_extent_type(space.get());

  if (H5Tget_class(type.get()) == H5T_STRING) {
    if (space_class != H5S_SCALAR) ThrowWithCode(env, kCodeDtype, "attribute '" + name + "' is a string array; only scalar strings are supported");
    if (H5Tis_variable_str(type.get()) > 0) {
      Hid memtype = Datatype(H5Tcopy(H5T_C_S1));
      H5Tset_size(memtype.get(), H5T_VARIABLE);
      H5Tset_cset(memtype.get(), H5Tget_cset(type.get()));
      char* text = nullptr;
      CheckHdf5(env, H5Aread(attr.get(), memtype.get(), &text), "H5Aread(" + name + ")");
      std::string result = text ? text : "";
      H5Dvlen_reclaim(memtype.get(), space.get(), H5P_DEFAULT, &text);
      return Napi::String::New(env, result);
    }
    size_t size = H5Tget_size(type.get());
    std::vector<char> buffer(size + 1, '\0');
    CheckHdf5(env, H5Aread(attr.get(), type.get(), buffer.data()), "H5Aread(" + name + ")");
    return Napi::String::New(env, std::string(buffer.data(), strnlen(buffer.data(), size)));
  }
  H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    ThrowWithCode(env, kCodeDtype, "attribute '" + name + "' has a type h5stitch does not read (only numbers and strings)");
  }
  if (space_class == H5S_NULL) return Napi::Float64Array::New(env, 0);
  std::vector<double> values(count);
  CheckHdf5(env, H5Aread(attr.get(), H5T_NATIVE_DOUBLE, values.data()), "H5Aread(" + name + ")");
  if (space_class == H5S_SCALAR) return Napi::Number::New(env, values[0]);
  Napi::Float64Array result = Napi::Float64Array::New(env, count);
  std::memcpy(result.Data(), values.data(), count * sizeof(double));
  return result;
}

namespace {
herr_t CollectName(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}
}  // namespace

Napi::Array AttributeNames(Napi::Env env, hid_t object) {
  std::vector<std::string> names;
  hsize_t index = 0;
  CheckHdf5(env, H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, CollectName, &names), "H5Aiterate2");
  Napi::Array result = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) result.Set(static_cast<uint32_t>(i), names[i]);
  return result;
}

}  // namespace h5stitch

#include "h5/attributes.h"

#include <cstring>
#include <vector>

#include "common/args.h"
#include "common/errors.h"
#include "common/hid.h"
#include "h5/types.h"

namespace h5stitch {
namespace {

// Creates attribute `name` of `type` over `space` and writes `data` into it (unless nullptr).
void CreateAttribute(Napi::Env env, hid_t object, const std::string& name, hid_t type, hid_t space, const void* data) {
  Hid attr = Attribute(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  CheckHdf5(env, attr.get(), "H5Acreate2(" + name + ")");
  if (data) CheckHdf5(env, H5Awrite(attr.get(), type, data), "H5Awrite(" + name + ")");
}

void WriteString(Napi::Env env, hid_t object, const std::string& name, const std::string& text) {
  Hid type = Datatype(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), text.empty() ? 1 : text.size());
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Hid space = Dataspace(H5Screate(H5S_SCALAR));
  std::vector<char> buffer(text.empty() ? 1 : text.size(), '\0');
  std::memcpy(buffer.data(), text.data(), text.size());
  CreateAttribute(env, object, name, type.get(), space.get(), buffer.data());
}

// A 1-D attribute of `length` values of `type` (a null dataspace when empty).
void WriteVector(Napi::Env env, hid_t object, const std::string& name, hid_t type, const void* data, hsize_t length) {
  Hid space = Dataspace(length == 0 ? H5Screate(H5S_NULL) : H5Screate_simple(1, &length, nullptr));
  CreateAttribute(env, object, name, type, space.get(), length > 0 ? data : nullptr);
}

void WriteTypedArray(Napi::Env env, hid_t object, const std::string& name, const Napi::Value& value) {
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  const Dtype* dtype = DtypeOfArray(array);
  if (!dtype) ThrowTypeError(env, "a numeric TypedArray", "attribute '" + name + "'", value);
  WriteVector(env, object, name, dtype->native(), DataOf(array), array.ElementLength());
}

void WriteNumberArray(Napi::Env env, hid_t object, const std::string& name, const Napi::Array& array) {
  std::vector<double> numbers;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber()) ThrowTypeError(env, "an array of numbers", "attribute '" + name + "'", item);
    numbers.push_back(item.As<Napi::Number>().DoubleValue());
  }
  WriteVector(env, object, name, H5T_NATIVE_DOUBLE, numbers.data(), numbers.size());
}

Napi::Value ReadString(Napi::Env env, const std::string& name, hid_t attr, hid_t type, hid_t space) {
  if (H5Sget_simple_extent_type(space) != H5S_SCALAR) {
    ThrowWithCode(env, kCodeDtype, "attribute '" + name + "' is a string array; only scalar strings are supported");
  }
  if (H5Tis_variable_str(type) > 0) {
    Hid memtype = Datatype(H5Tcopy(H5T_C_S1));
    H5Tset_size(memtype.get(), H5T_VARIABLE);
    H5Tset_cset(memtype.get(), H5Tget_cset(type));
    char* text = nullptr;
    CheckHdf5(env, H5Aread(attr, memtype.get(), &text), "H5Aread(" + name + ")");
    std::string result = text ? text : "";
    H5Dvlen_reclaim(memtype.get(), space, H5P_DEFAULT, &text);
    return Napi::String::New(env, result);
  }
  size_t size = H5Tget_size(type);
  std::vector<char> buffer(size + 1, '\0');
  CheckHdf5(env, H5Aread(attr, type, buffer.data()), "H5Aread(" + name + ")");
  return Napi::String::New(env, std::string(buffer.data(), strnlen(buffer.data(), size)));
}

// Numbers read as float64: a number when scalar, else a Float64Array.
Napi::Value ReadNumbers(Napi::Env env, const std::string& name, hid_t attr, hid_t space) {
  H5S_class_t space_class = H5Sget_simple_extent_type(space);
  if (space_class == H5S_NULL) return Napi::Float64Array::New(env, 0);
  hssize_t count = H5Sget_simple_extent_npoints(space);
  std::vector<double> values(count);
  CheckHdf5(env, H5Aread(attr, H5T_NATIVE_DOUBLE, values.data()), "H5Aread(" + name + ")");
  if (space_class == H5S_SCALAR) return Napi::Number::New(env, values[0]);
  Napi::Float64Array result = Napi::Float64Array::New(env, count);
  std::memcpy(result.Data(), values.data(), count * sizeof(double));
  return result;
}

herr_t CollectName(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

}  // namespace

void WriteAttribute(Napi::Env env, hid_t object, const std::string& name, const Napi::Value& value) {
  // Replace an existing attribute of that name: types and sizes may differ.
  htri_t exists = H5Aexists(object, name.c_str());
  CheckHdf5(env, exists, "H5Aexists(" + name + ")");
  if (exists > 0) CheckHdf5(env, H5Adelete(object, name.c_str()), "H5Adelete(" + name + ")");

  if (value.IsString()) return WriteString(env, object, name, value.As<Napi::String>().Utf8Value());
  if (value.IsNumber() || value.IsBoolean()) {
    double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : (value.As<Napi::Boolean>() ? 1 : 0);
    Hid space = Dataspace(H5Screate(H5S_SCALAR));
    return CreateAttribute(env, object, name, H5T_NATIVE_DOUBLE, space.get(), &number);
  }
  if (value.IsTypedArray()) return WriteTypedArray(env, object, name, value);
  if (value.IsArray()) return WriteNumberArray(env, object, name, value.As<Napi::Array>());
  ThrowTypeError(env, "a number, string, number[] or TypedArray", "attribute '" + name + "'", value);
}

Napi::Value ReadAttribute(Napi::Env env, hid_t object, const std::string& name) {
  htri_t exists = H5Aexists(object, name.c_str());
  CheckHdf5(env, exists, "H5Aexists(" + name + ")");
  if (exists == 0) return env.Undefined();
  Hid attr = Attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT));
  CheckHdf5(env, attr.get(), "H5Aopen(" + name + ")");
  Hid type = Datatype(H5Aget_type(attr.get()));
  Hid space = Dataspace(H5Aget_space(attr.get()));
  H5T_class_t cls = H5Tget_class(type.get());
  if (cls == H5T_STRING) return ReadString(env, name, attr.get(), type.get(), space.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    ThrowWithCode(env, kCodeDtype, "attribute '" + name + "' has a type h5stitch does not read (only numbers and strings)");
  }
  return ReadNumbers(env, name, attr.get(), space.get());
}

Napi::Array AttributeNames(Napi::Env env, hid_t object) {
  std::vector<std::string> names;
  hsize_t index = 0;
  CheckHdf5(env, H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, CollectName, &names), "H5Aiterate2");
  Napi::Array result = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) result.Set(static_cast<uint32_t>(i), names[i]);
  return result;
}

}  // namespace h5stitch

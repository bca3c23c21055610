#include "runtime/mpi_info.h"

#include <string>
#include <vector>

#include "common/errors.h"
#include "runtime/mpi_runtime.h"

namespace h5stitch::mpi {

MpiInfo MpiInfo::FromObject(Napi::Env env, const Napi::Value& value, const char* what) {
  MpiInfo info;
  if (value.IsUndefined() || value.IsNull()) return info;
  if (!value.IsObject() || value.IsArray()) ThrowTypeError(env, "an object of string hints", what, value);
  Napi::Object object = value.As<Napi::Object>();
  Napi::Array keys = object.GetPropertyNames();
  Check(env, MPI_Info_create(info.Out()), "MPI_Info_create");
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string key = keys.Get(i).ToString().Utf8Value();
    Napi::Value v = object.Get(key);
    if (!v.IsString()) ThrowTypeError(env, "a string", std::string(what) + "." + key, v);
    MPI_Info_set(info.get(), key.c_str(), v.As<Napi::String>().Utf8Value().c_str());
  }
  return info;
}

Napi::Object MpiInfo::ToObject(Napi::Env env) const {
  Napi::Object result = Napi::Object::New(env);
  if (get() == MPI_INFO_NULL) return result;
  int nkeys = 0;
  MPI_Info_get_nkeys(get(), &nkeys);
  for (int i = 0; i < nkeys; i++) {
    char key[MPI_MAX_INFO_KEY + 1];
    MPI_Info_get_nthkey(get(), i, key);
    int length = 0, flag = 0;
    MPI_Info_get_valuelen(get(), key, &length, &flag);
    if (!flag) continue;
    std::vector<char> value(length + 1);
    MPI_Info_get(get(), key, length, value.data(), &flag);
    result.Set(key, std::string(value.data(), length));
  }
  return result;
}

}  // namespace h5stitch::mpi

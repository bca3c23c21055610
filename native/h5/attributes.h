// Attributes of files, groups and datasets: numbers become scalar float64, strings fixed-length
// UTF-8, typed arrays / number arrays 1-D attributes of their dtype (number[] -> float64).
#pragma once

#include <hdf5.h>
#include <napi.h>

#include <string>

namespace h5stitch {

void WriteAttribute(Napi::Env env, hid_t object, const std::string& name, const Napi::Value& value);
// undefined when `object` has no attribute `name`.
Napi::Value ReadAttribute(Napi::Env env, hid_t object, const std::string& name);
Napi::Array AttributeNames(Napi::Env env, hid_t object);

}  // namespace h5stitch

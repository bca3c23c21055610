// Mapping between h5stitch dtype names, HDF5 native types and JS typed arrays.
#pragma once

#include <hdf5.h>
#include <napi.h>

namespace h5stitch {

struct Dtype {
  const char* name;           // "uint16", "float32", ...
  hid_t (*native)();          // H5T_NATIVE_* is a macro over a global; resolve lazily
  napi_typedarray_type array; // matching JS typed array
  size_t size;
};

// Looks a dtype up by name; throws TypeError listing the supported names.
const Dtype& DtypeByName(Napi::Env env, const Napi::Value& value, const char* what);
// Classifies an HDF5 file datatype; nullptr if it is not one h5stitch supports.
const Dtype* DtypeOfType(hid_t type);
// Classifies a JS typed array; nullptr if none matches.
const Dtype* DtypeOfArray(const Napi::TypedArray& array);

}  // namespace h5stitch

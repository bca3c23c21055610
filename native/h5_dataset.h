// A dataset in an H5File: shape/dtype queries, attributes and hyperslab I/O.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "h5_types.h"
#include "hid.h"

namespace h5stitch {

class H5File;

class H5Dataset : public Napi::ObjectWrap<H5Dataset> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  // Wraps an open dataset id; the JS object keeps its file alive.
  static Napi::Object Wrap(Napi::Env env, Napi::Object file_object, H5File* file, Hid dataset, const std::string& name);

  explicit H5Dataset(const Napi::CallbackInfo& info);
  ~H5Dataset() override;

  // Closes the HDF5 dataset; called by the file before it closes itself.
  void CloseNow();

 private:
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value SetAttr(const Napi::CallbackInfo& info);
  Napi::Value GetAttr(const Napi::CallbackInfo& info);
  Napi::Value AttrNames(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetShape(const Napi::CallbackInfo& info);
  Napi::Value GetDtype(const Napi::CallbackInfo& info);
  Napi::Value GetChunk(const Napi::CallbackInfo& info);
  Napi::Value GetName(const Napi::CallbackInfo& info);
  Napi::Value GetFileOffset(const Napi::CallbackInfo& info);

  void RequireOpen(Napi::Env env, const char* what) const;
  // Selects [start, start+count) in a copy of the file space; returns file and memory spaces.
  void Select(const Napi::CallbackInfo& info, const Napi::TypedArray& buffer, const char* op, Hid& file_space,
              Hid& memory_space, hid_t& memory_type);
  Hid TransferList(const Napi::CallbackInfo& info, size_t index, const char* op);

  Hid dataset_;
  H5File* file_ = nullptr;
  Napi::ObjectReference file_ref_;
  std::string name_;
  std::vector<hsize_t> shape_;
  const Dtype* dtype_ = nullptr;
};

}  // namespace h5stitch

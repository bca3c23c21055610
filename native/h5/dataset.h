// A dataset in an H5File: shape/dtype queries, attributes and hyperslab I/O.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "common/hid.h"
#include "h5/types.h"

namespace h5stitch {

class H5File;

class H5Dataset : public Napi::ObjectWrap<H5Dataset> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  // Wraps an open dataset id; the JS object keeps its file alive.
  static Napi::Object Wrap(Napi::Env env, Napi::Object file_object, H5File* file, Hid dataset, const std::string& name);

  explicit H5Dataset(const Napi::CallbackInfo& info);
  ~H5Dataset() override;

  // Leaves the file: closes the HDF5 dataset (close), or forgets it for H5close at finalize (a
  // parallel dataset dropped by the garbage collector). Called by the file before it closes.
  herr_t Detach(bool close);

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
  Napi::Value GetFilters(const Napi::CallbackInfo& info);
  Napi::Value GetStorageSize(const Napi::CallbackInfo& info);
  Napi::Value GetObjectId(const Napi::CallbackInfo& info);
  Napi::Value GetStoredAsNative(const Napi::CallbackInfo& info);

  // One read() or write() call, checked: the buffer, where its elements go, and how.
  struct Io {
    Napi::TypedArray buffer;
    Hid file_space, memory_space;
    hid_t memory_type;
    Hid dxpl;
    void* data;
  };

  void RequireOpen(Napi::Env env, const char* what) const;
  // Checks read()/write() arguments (start, count, buffer, options) for operation `op`.
  Io PrepareIo(const Napi::CallbackInfo& info, const char* op, const char* buffer_what);
  // Selects [start, start+count) (arguments 0 and 1) in a copy of the file space and a memory
  // space for io.buffer, which must hold that many elements of the dataset's dtype.
  void Select(const Napi::CallbackInfo& info, const char* op, Io& io);
  Hid TransferList(const Napi::CallbackInfo& info, size_t index, const char* op);

  Hid dataset_;
  H5File* file_ = nullptr;
  Napi::ObjectReference file_ref_;
  std::string name_;
  std::vector<hsize_t> shape_;
  const Dtype* dtype_ = nullptr;
};

}  // namespace h5stitch

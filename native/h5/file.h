// An HDF5 file: parallel (MPI-IO driver on a communicator, with hints) or serial.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "common/hid.h"

namespace h5stitch {

class H5Dataset;

// A POSIX file descriptor, closed with its owner.
class Fd {
 public:
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

class H5File : public Napi::ObjectWrap<H5File> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit H5File(const Napi::CallbackInfo& info);
  ~H5File() override;

  bool parallel() const { return parallel_; }
  // The file's open datasets (closed before it).
  void Adopt(H5Dataset* dataset) { datasets_.push_back(dataset); }
  void Release(H5Dataset* dataset);

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value StartWriteback(const Napi::CallbackInfo& info);
  Napi::Value GetAtomicity(const Napi::CallbackInfo& info);
  Napi::Value SetAtomicity(const Napi::CallbackInfo& info);
  Napi::Value CreateDataset(const Napi::CallbackInfo& info);
  Napi::Value OpenDataset(const Napi::CallbackInfo& info);
  Napi::Value CreateGroup(const Napi::CallbackInfo& info);
  Napi::Value Exists(const Napi::CallbackInfo& info);
  Napi::Value ObjectType(const Napi::CallbackInfo& info);
  Napi::Value List(const Napi::CallbackInfo& info);
  Napi::Value SetAttr(const Napi::CallbackInfo& info);
  Napi::Value GetAttr(const Napi::CallbackInfo& info);
  Napi::Value AttrNames(const Napi::CallbackInfo& info);
  Napi::Value MpioHints(const Napi::CallbackInfo& info);
  Napi::Value GetPath(const Napi::CallbackInfo& info);
  Napi::Value GetParallel(const Napi::CallbackInfo& info);
  Napi::Value GetIsOpen(const Napi::CallbackInfo& info);

  // Throws ERR_CLOSED unless the file is open.
  void RequireOpen(Napi::Env env, const char* what) const;
  // Closes the open datasets (close), or forgets them for H5close at finalize (a parallel file
  // dropped by the garbage collector).
  void DetachDatasets(bool close);
  Hid OpenObject(Napi::Env env, const Napi::Value& path, const char* what);

  Hid file_;
  std::string path_;
  bool parallel_ = false;
  Fd writeback_;  // read-only descriptor for StartWriteback (the data goes through MPI-IO)
  std::vector<H5Dataset*> datasets_;  // open datasets, closed (in creation order) before the file
};

}  // namespace h5stitch

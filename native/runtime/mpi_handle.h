// RAII ownership of MPI handles (communicators, files, info objects), so each is released once on
// every path, including exceptions.
#pragma once

#include <mpi.h>

#include <utility>

namespace h5stitch::mpi {

template <typename Handle>
class MpiHandle {
 public:
  // `release` is MPI_Comm_free, MPI_File_close, MPI_Info_free...; `null` the handle it skips.
  using Release = int (*)(Handle*);

  MpiHandle(Handle null, Release release) : handle_(null), null_(null), release_(release) {}
  MpiHandle(const MpiHandle&) = delete;
  MpiHandle& operator=(const MpiHandle&) = delete;
  MpiHandle(MpiHandle&& other) noexcept
      : handle_(std::exchange(other.handle_, other.null_)), null_(other.null_), release_(other.release_) {}
  ~MpiHandle() { Reset(); }

  Handle get() const { return handle_; }
  // Where an MPI call stores a new handle for this owner to release.
  Handle* Out() {
    Reset();
    return &handle_;
  }
  void Reset() {
    if (handle_ != null_) release_(&handle_);
    handle_ = null_;
  }

 private:
  Handle handle_;
  Handle null_;
  Release release_;
};

}  // namespace h5stitch::mpi

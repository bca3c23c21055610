// RAII ownership of HDF5 identifiers. Every hid_t the addon opens lives in a Hid, so it is closed
// on every path, including exceptions.
#pragma once

#include <hdf5.h>

#include <atomic>
#include <utility>

namespace h5stitch {

class Hid {
 public:
  using Closer = herr_t (*)(hid_t);

  Hid() = default;
  Hid(hid_t id, Closer closer) : id_(id), closer_(closer), generation_(generation_now_) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  Hid(Hid&& other) noexcept { *this = std::move(other); }
  Hid& operator=(Hid&& other) noexcept {
    if (this != &other) {
      Close();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      closer_ = other.closer_;
      generation_ = other.generation_;
    }
    return *this;
  }
  ~Hid() { Close(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0 && generation_ == generation_now_; }

  // Closes now; returns the closer's status (0 when there was nothing to close).
  herr_t Close() {
    herr_t status = 0;
    if (valid() && closer_) status = closer_(id_);
    id_ = H5I_INVALID_HID;
    return status;
  }

  // Forgets the id without closing it: for parallel files and datasets, whose close is collective
  // and so must not run from one rank's garbage collector; CloseAll() at finalize closes them.
  void Abandon() { id_ = H5I_INVALID_HID; }

  // H5close(): closes every identifier HDF5 has open and marks every Hid made before as closed,
  // since HDF5 may hand the same numbers to new objects. Process-wide, like the HDF5 library.
  static void CloseAll() {
    H5close();
    generation_now_++;
  }

 private:
  static inline std::atomic<unsigned> generation_now_{1};

  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
  unsigned generation_ = 0;
};

inline Hid PropertyList(hid_t id) { return Hid(id, H5Pclose); }
inline Hid Dataspace(hid_t id) { return Hid(id, H5Sclose); }
inline Hid Datatype(hid_t id) { return Hid(id, H5Tclose); }
inline Hid Attribute(hid_t id) { return Hid(id, H5Aclose); }
inline Hid Object(hid_t id) { return Hid(id, H5Oclose); }
inline Hid Group(hid_t id) { return Hid(id, H5Gclose); }
inline Hid DatasetId(hid_t id) { return Hid(id, H5Dclose); }

}  // namespace h5stitch

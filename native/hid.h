// RAII ownership of HDF5 identifiers. Every hid_t the addon opens lives in a
// Hid, so it is closed on every path, including exceptions.
#pragma once

#include <hdf5.h>

#include <utility>

namespace h5stitch {

// Bumped when H5close() tears the library down (at MPI finalize): identifiers
// from an older generation are already closed and must not be closed again,
// since HDF5 may have handed the same number to a new object.
extern unsigned g_hdf5_generation;

class Hid {
 public:
  using Closer = herr_t (*)(hid_t);

  Hid() = default;
  Hid(hid_t id, Closer closer) : id_(id), closer_(closer), generation_(g_hdf5_generation) {}
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
  bool valid() const { return id_ >= 0 && generation_ == g_hdf5_generation; }
  explicit operator bool() const { return valid(); }

  // Closes now; returns the closer's status (0 when there was nothing to close).
  herr_t Close() {
    herr_t status = 0;
    if (valid() && closer_) status = closer_(id_);
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
  unsigned generation_ = 0;
};

inline Hid PropertyList(hid_t id) { return Hid(id, H5Pclose); }
inline Hid Dataspace(hid_t id) { return Hid(id, H5Sclose); }
inline Hid Datatype(hid_t id) { return Hid(id, H5Tclose); }
inline Hid Attribute(hid_t id) { return Hid(id, H5Aclose); }
inline Hid Object(hid_t id) { return Hid(id, H5Oclose); }

}  // namespace h5stitch

// Runs of bytes of an open file read into memory with pread(2): free of Node-API and HDF5, so a
// background thread may call it while the main thread uses HDF5 (which is not thread-safe).
#pragma once

#include <cstdint>
#include <string>

namespace h5stitch::os {

// `rows` runs of `rowBytes` bytes, `strideBytes` apart, the first at `offset` of file `fd`.
struct FileRuns {
  int fd;
  int64_t offset, rows, rowBytes, strideBytes;
};

// The runs of rows [from, to) of a region of `rows` rows of `rowBytes` bytes each that `runs`
// read packed: as one run per row, or as one run of all of them (rows contiguous in the file).
// Returns false (and leaves `part` alone) for any other shape.
bool RowsOf(const FileRuns& runs, int64_t rows, int64_t rowBytes, int64_t from, int64_t to, FileRuns& part);

// Reads the runs into `into` (rows * rowBytes bytes, packed). Returns "" when every byte was read,
// else why not, as "cannot read <what>: ...": the file ended early (it was truncated after it was
// opened) or the read failed (strerror).
std::string ReadRuns(const FileRuns& runs, void* into, const std::string& what);

}  // namespace h5stitch::os

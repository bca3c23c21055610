#include "os/file_runs.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace h5stitch::os {

bool RowsOf(const FileRuns& runs, int64_t rows, int64_t rowBytes, int64_t from, int64_t to, FileRuns& part) {
  if (runs.rowBytes == 0 || rows == 0 || rowBytes == 0) {
    part = {runs.fd, runs.offset, 0, 0, 0};  // nothing to read
    return true;
  }
  if (runs.rows == rows && runs.rowBytes == rowBytes) {
    part = {runs.fd, runs.offset + from * runs.strideBytes, to - from, rowBytes, runs.strideBytes};
    return true;
  }
  if (runs.rows == 1 && runs.rowBytes == rows * rowBytes) {
    part = {runs.fd, runs.offset + from * rowBytes, 1, (to - from) * rowBytes, runs.strideBytes};
    return true;
  }
  return false;
}

std::string ReadRuns(const FileRuns& runs, void* into, const std::string& what) {
  if (runs.rowBytes == 0) return "";  // nothing to read, however many runs
  auto* out = static_cast<uint8_t*>(into);
  for (int64_t r = 0; r < runs.rows; r++) {
    const int64_t start = runs.offset + r * runs.strideBytes;
    int64_t got = 0;
    // pread may return fewer bytes than asked (signals, large requests): go on until it is all in.
    while (got < runs.rowBytes) {
      const ssize_t n = ::pread(runs.fd, out + got, static_cast<size_t>(runs.rowBytes - got), static_cast<off_t>(start + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return "cannot read " + what + ": " + std::strerror(errno);
      if (n == 0) {
        return "cannot read " + what + ": the file ends at byte " + std::to_string(start + got) + " but " + std::to_string(runs.rowBytes) +
               " bytes were expected from offset " + std::to_string(start) + " (truncated during the run?)";
      }
      got += n;
    }
    out += runs.rowBytes;
  }
  return "";
}

}  // namespace h5stitch::os

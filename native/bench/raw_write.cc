#include "bench/raw_write.h"

#include <mpi.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/args.h"
#include "common/errors.h"
#include "runtime/mpi_handle.h"
#include "runtime/mpi_info.h"
#include "runtime/mpi_runtime.h"

namespace h5stitch::bench {
namespace {

// Writes [start, start + share) of `file` from `buffer` in pieces below 2 GiB (the int count
// limit). Collective: every rank makes the same number of calls, those with less to write
// write 0 bytes in the last ones.
int WritePieces(MPI_File file, const std::vector<char>& buffer, MPI_Offset start, MPI_Offset share, MPI_Offset most) {
  const MPI_Offset piece = 1 << 30;
  const MPI_Offset pieces = (most + piece - 1) / piece + 1;
  int rc = MPI_SUCCESS;
  for (MPI_Offset k = 0; k < pieces && rc == MPI_SUCCESS; k++) {
    MPI_Offset offset = k * piece;
    int count = static_cast<int>(offset < share ? std::min(piece, share - offset) : 0);
    rc = MPI_File_write_at_all(file, start + offset, buffer.data() + (count ? offset : 0), count, MPI_BYTE,
                               MPI_STATUS_IGNORE);
  }
  return rc;
}

// rawWrite(path, totalBytes, hints) -> seconds. Every rank writes its contiguous share of a file
// of totalBytes with one collective MPI-IO write, then MPI_File_sync; the time is from a barrier
// before the open to one after the close.
Napi::Value RawWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  mpi::RequireReady(env, "rawWrite()");
  std::string path = StringArg(info, 0, "path");
  if (!info[1].IsNumber() || info[1].As<Napi::Number>().DoubleValue() < 0) ThrowTypeError(env, "a byte count >= 0", "totalBytes", info[1]);
  auto total = static_cast<MPI_Offset>(info[1].As<Napi::Number>().DoubleValue());
  mpi::MpiInfo hints = mpi::MpiInfo::FromObject(env, info[2], "hints");
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Offset share = total / size, start = share * rank;
  if (rank == size - 1) share = total - start;
  std::vector<char> buffer(static_cast<size_t>(share), 1);  // touched now, not inside the timed region
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  {
    mpi::MpiHandle<MPI_File> file(MPI_FILE_NULL, MPI_File_close);
    mpi::Check(env, MPI_File_open(MPI_COMM_WORLD, path.c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY, hints.get(), file.Out()),
               "MPI_File_open");
    int rc = WritePieces(file.get(), buffer, start, share, total / size);
    if (rc == MPI_SUCCESS) rc = MPI_File_sync(file.get());
    file.Reset();  // the close is part of the timed write
    mpi::Check(env, rc, "raw MPI-IO write");
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return Napi::Number::New(env, MPI_Wtime() - t0);
}

}  // namespace

void Register(Napi::Env env, Napi::Object exports) {
  exports.Set("rawWrite", Napi::Function::New(env, RawWrite, "rawWrite"));
}

}  // namespace h5stitch::bench

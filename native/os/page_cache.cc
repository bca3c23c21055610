#include "os/page_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/args.h"

namespace h5stitch::os {
namespace {

Napi::Value DropCachedPages(const Napi::CallbackInfo& info) {
  const std::string path = StringArg(info, 0, "path");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Napi::Boolean::New(info.Env(), false);
  // Written pages must be clean to be dropped: sync them first (the caller has flushed MPI-IO).
  bool dropped = ::fdatasync(fd) == 0;
#ifdef POSIX_FADV_DONTNEED
  dropped = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0 && dropped;
#else
  dropped = false;
#endif
  ::close(fd);
  return Napi::Boolean::New(info.Env(), dropped);
}

}  // namespace

void Register(Napi::Env env, Napi::Object exports) {
  exports.Set("dropCachedPages", Napi::Function::New(env, DropCachedPages, "dropCachedPages"));
}

}  // namespace h5stitch::os

/*
 * Test-only LD_PRELOAD shim: a file system whose byte-range locking silently
 * does nothing. fcntl lock requests (F_SETLK, F_SETLKW, F_GETLK and the OFD
 * variants) succeed without locking; every other fcntl call passes through.
 * Used by the torture tests to show h5stitch does not depend on working locks.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>

typedef int (*fcntl_fn)(int, int, ...);

static int is_lock_command(int cmd) {
  switch (cmd) {
    case F_SETLK: case F_SETLKW: case F_GETLK:
#ifdef F_OFD_SETLK
    case F_OFD_SETLK: case F_OFD_SETLKW: case F_OFD_GETLK:
#endif
      return 1;
    default:
      return 0;
  }
}

int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  if (!is_lock_command(cmd)) {
    fcntl_fn real = (fcntl_fn)dlsym(RTLD_NEXT, "fcntl");
    return real(fd, cmd, arg);
  }
  if (cmd == F_GETLK
#ifdef F_OFD_GETLK
      || cmd == F_OFD_GETLK
#endif
  ) {
    ((struct flock *)arg)->l_type = F_UNLCK; /* "nobody holds a lock" */
  }
  return 0;
}

/* On 64-bit glibc fcntl64 is the same call; both names are intercepted. */
int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

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

static int forward(const char *name, int fd, int cmd, void *arg) {
  fcntl_fn real = (fcntl_fn)dlsym(RTLD_NEXT, name);
  return real(fd, cmd, arg);
}

static int fake_lock(int cmd, void *arg) {
  if (cmd == F_GETLK
#ifdef F_OFD_GETLK
      || cmd == F_OFD_GETLK
#endif
  ) {
    ((struct flock *)arg)->l_type = F_UNLCK; /* "nobody holds a lock" */
  }
  return 0;
}

int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return is_lock_command(cmd) ? fake_lock(cmd, arg) : forward("fcntl", fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return is_lock_command(cmd) ? fake_lock(cmd, arg) : forward("fcntl64", fd, cmd, arg);
}

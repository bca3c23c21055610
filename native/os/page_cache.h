// This node's page cache of a file, as far as a program may ask it to forget.
#pragma once

#include <napi.h>

namespace h5stitch::os {

// dropCachedPages(path) -> boolean: asks the kernel to drop this node's clean cached pages of the
// file (posix_fadvise DONTNEED), so the next read goes to the file system, not to a copy another
// node may have overwritten. Dirty pages are not dropped (the caller flushes first). False where
// the file cannot be opened or the hint is not supported.
void Register(Napi::Env env, Napi::Object exports);

}  // namespace h5stitch::os

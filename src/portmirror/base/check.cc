#include "portmirror/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace portmirror::detail {
void check_failed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "portmirror: internal check failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}
}  // namespace portmirror::detail

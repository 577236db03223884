// Invariant checks: PM_CHECK always, PM_DCHECK in debug builds. Never for external input.
#pragma once

namespace portmirror::detail {
[[noreturn, gnu::cold]] void check_failed(const char* expr, const char* file, int line) noexcept;
}  // namespace portmirror::detail

#define PM_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::portmirror::detail::check_failed(#cond, __FILE__, __LINE__))

#ifdef NDEBUG
#define PM_DCHECK(cond) static_cast<void>(0)
#else
#define PM_DCHECK(cond) PM_CHECK(cond)
#endif

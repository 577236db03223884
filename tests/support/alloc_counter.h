// Test helper: replaces the global operator new/delete with counting versions, so a test can assert
// that a code path allocates nothing. Include in exactly ONE translation unit of a test binary
// (the replacement functions are defined here). Counting is per thread and on only inside a scope.
//
//   AllocCounter counter;            // starts counting
//   ... hot path ...
//   EXPECT_EQ(counter.count(), 0u);
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace portmirror::testing {

inline thread_local std::size_t g_alloc_count = 0;
inline thread_local bool g_alloc_counting = false;

class AllocCounter {
 public:
  AllocCounter() noexcept {
    g_alloc_count = 0;
    g_alloc_counting = true;
  }
  ~AllocCounter() { g_alloc_counting = false; }
  AllocCounter(const AllocCounter&) = delete;
  AllocCounter& operator=(const AllocCounter&) = delete;
  std::size_t count() const noexcept { return g_alloc_count; }
  void reset() noexcept { g_alloc_count = 0; }
};

namespace detail {
inline void* counted_alloc(std::size_t n) {
  if (g_alloc_counting) ++g_alloc_count;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
inline void* counted_alloc_aligned(std::size_t n, std::size_t al) {
  if (g_alloc_counting) ++g_alloc_count;
  const std::size_t rounded = (n + al - 1) / al * al;
  if (void* p = std::aligned_alloc(al, rounded == 0 ? al : rounded)) return p;
  throw std::bad_alloc();
}
}  // namespace detail
}  // namespace portmirror::testing

// NOLINTBEGIN: the replaceable global allocation functions ([new.delete]).
void* operator new(std::size_t n) {
  return portmirror::testing::detail::counted_alloc(n);
}
void* operator new[](std::size_t n) {
  return portmirror::testing::detail::counted_alloc(n);
}
void* operator new(std::size_t n, std::align_val_t al) {
  return portmirror::testing::detail::counted_alloc_aligned(n, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t n, std::align_val_t al) {
  return portmirror::testing::detail::counted_alloc_aligned(n, static_cast<std::size_t>(al));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (portmirror::testing::g_alloc_counting) ++portmirror::testing::g_alloc_count;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  if (portmirror::testing::g_alloc_counting) ++portmirror::testing::g_alloc_count;
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
// NOLINTEND

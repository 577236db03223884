// Counts heap allocations made through global operator new on the current thread, to prove that
// a data path allocates nothing. Include in test files only.
//
// The replacement operators are weak so that several test files of one binary may include this
// header. A test should first check that a known allocation is seen (AllocCounter::self_test()),
// so that it cannot pass vacuously if another definition wins at link time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace portmirror::test {

inline thread_local std::uint64_t g_allocations = 0;

// Allocations on this thread since construction.
class AllocCounter {
 public:
  AllocCounter() noexcept : start_(g_allocations) {}
  std::uint64_t count() const noexcept { return g_allocations - start_; }
  // True when an allocation made now is counted (the replacement operator new is in effect).
  static bool self_test() {
    const std::uint64_t before = g_allocations;
    auto* volatile p = new int(7);
    delete p;
    return g_allocations == before + 1;
  }

 private:
  std::uint64_t start_;
};

}  // namespace portmirror::test

// Replacement allocation functions ([replacement.functions]); weak so that several translation
// units can carry them.
__attribute__((weak)) void* operator new(std::size_t n) {
  ++portmirror::test::g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
__attribute__((weak)) void* operator new[](std::size_t n) {
  ++portmirror::test::g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
__attribute__((weak)) void operator delete(void* p) noexcept {
  std::free(p);
}
__attribute__((weak)) void operator delete[](void* p) noexcept {
  std::free(p);
}
__attribute__((weak)) void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
__attribute__((weak)) void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

// Counters declared once (name + help) per module; the final lines, --stats-json and later a
// metrics endpoint all read the same table (Envoy ALL_*_STATS idea). Plain uint64_t, no atomics:
// the data path owns its counters and they are aggregated when read.
//
// Usage:
//   #define PM_MY_COUNTERS(X) X(kFooTruncated, "foo.truncated", "foo header cut short") ...
//   PM_DECLARE_COUNTERS(MyCounter, PM_MY_COUNTERS)
//   CounterSet<MyCounter> c; c.inc(MyCounter::kFooTruncated);
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace portmirror {

#define PM_COUNTER_ENUM_(id, name, help) id,
#define PM_COUNTER_NAME_(id, name, help) name,
#define PM_COUNTER_HELP_(id, name, help) help,
#define PM_COUNTER_ONE_(id, name, help) +1

// Declares `enum class Enum` plus constexpr name/help tables found by argument-dependent lookup,
// so it can be used inside any namespace.
#define PM_DECLARE_COUNTERS(Enum, LIST)                                                 \
  enum class Enum : std::uint16_t { LIST(PM_COUNTER_ENUM_) kCount };                    \
  constexpr std::array<std::string_view, 0 LIST(PM_COUNTER_ONE_)> counter_names(Enum) { \
    return {LIST(PM_COUNTER_NAME_)};                                                    \
  }                                                                                     \
  constexpr std::array<std::string_view, 0 LIST(PM_COUNTER_ONE_)> counter_helps(Enum) { \
    return {LIST(PM_COUNTER_HELP_)};                                                    \
  }                                                                                     \
  constexpr std::string_view counter_name(Enum e) noexcept {                            \
    return counter_names(Enum{})[static_cast<std::size_t>(e)];                          \
  }

template <typename Enum>
class CounterSet {
 public:
  static constexpr std::size_t kSize = static_cast<std::size_t>(Enum::kCount);

  void inc(Enum e, std::uint64_t n = 1) noexcept { v_[static_cast<std::size_t>(e)] += n; }
  std::uint64_t get(Enum e) const noexcept { return v_[static_cast<std::size_t>(e)]; }
  std::uint64_t at(std::size_t i) const noexcept { return v_[i]; }
  static std::string_view name(std::size_t i) noexcept { return counter_names(Enum{})[i]; }
  static std::string_view help(std::size_t i) noexcept { return counter_helps(Enum{})[i]; }
  std::uint64_t total() const noexcept {
    std::uint64_t t = 0;
    for (auto x : v_) t += x;
    return t;
  }
  void add(const CounterSet& o) noexcept {
    for (std::size_t i = 0; i < kSize; ++i) v_[i] += o.v_[i];
  }
  void reset() noexcept { v_.fill(0); }

 private:
  std::array<std::uint64_t, kSize> v_{};
};

}  // namespace portmirror

// Counters declared once (name + help) per module; the final lines, --stats-json and later a metrics
// endpoint all read the same table (Envoy ALL_*_STATS idea). Plain uint64_t, no atomics: the data path
// owns its counters and they are aggregated when read.
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

template <typename Enum>
struct CounterTraits;  // specialised by PM_DECLARE_COUNTERS

#define PM_COUNTER_ENUM_(id, name, help) id,
#define PM_COUNTER_NAME_(id, name, help) name,
#define PM_COUNTER_HELP_(id, name, help) help,

#define PM_DECLARE_COUNTERS(Enum, LIST)                                                    \
  enum class Enum : std::uint16_t { LIST(PM_COUNTER_ENUM_) kCount };                      \
  template <>                                                                              \
  struct CounterTraits<Enum> {                                                             \
    static constexpr std::size_t kSize = static_cast<std::size_t>(Enum::kCount);          \
    static constexpr std::array<std::string_view, kSize> kNames{LIST(PM_COUNTER_NAME_)};  \
    static constexpr std::array<std::string_view, kSize> kHelp{LIST(PM_COUNTER_HELP_)};   \
  };                                                                                       \
  constexpr std::string_view counter_name(Enum e) noexcept {                              \
    return CounterTraits<Enum>::kNames[static_cast<std::size_t>(e)];                      \
  }

template <typename Enum>
class CounterSet {
 public:
  static constexpr std::size_t kSize = CounterTraits<Enum>::kSize;

  void inc(Enum e, std::uint64_t n = 1) noexcept { v_[static_cast<std::size_t>(e)] += n; }
  std::uint64_t get(Enum e) const noexcept { return v_[static_cast<std::size_t>(e)]; }
  std::uint64_t at(std::size_t i) const noexcept { return v_[i]; }
  static std::string_view name(std::size_t i) noexcept { return CounterTraits<Enum>::kNames[i]; }
  static std::string_view help(std::size_t i) noexcept { return CounterTraits<Enum>::kHelp[i]; }
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

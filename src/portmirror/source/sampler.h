// Junos `rate N` / `run-length M` sampling of the packets that matched a port-mirror term, per
// mirror instance (protocols.md §4.2). Deterministic by default:
//
//   state k = 0 (matches since the last trigger), run = 0
//   each matched packet: if run > 0 { copy; run -= 1 } else if (++k >= N) { copy; k = 0; run = M }
//
// so N=10, M=2 copies packets 10,11,12, 22,23,24, 34,35,36, ... (run packets do not count toward
// the next trigger), and N=1 copies everything. Random mode triggers each packet with probability
// 1/N (xorshift64* generator, seedable for tests) and then copies the same run of M.
#pragma once

#include <cstdint>

namespace portmirror::source {

class Sampler {
 public:
  Sampler() = default;
  Sampler(std::uint32_t rate, std::uint32_t run_length, bool random,
          std::uint64_t seed = 0x9E3779B97F4A7C15ull) noexcept;

  // Called once per matched packet; true = mirror this one.
  bool sample() noexcept {
    if (run_ > 0) {
      --run_;
      return true;
    }
    if (random_) {
      if (next_random() >= threshold_) return false;
    } else if (++k_ < rate_) {
      return false;
    }
    k_ = 0;
    run_ = run_length_;
    return true;
  }

  std::uint32_t rate() const noexcept { return rate_; }
  std::uint32_t run_length() const noexcept { return run_length_; }
  bool random() const noexcept { return random_; }

 private:
  std::uint64_t next_random() noexcept {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }

  std::uint32_t rate_ = 1;
  std::uint32_t run_length_ = 0;
  bool random_ = false;
  std::uint32_t k_ = 0;
  std::uint32_t run_ = 0;
  std::uint64_t threshold_ = ~std::uint64_t{0};  // random: trigger when next_random() < threshold_
  std::uint64_t state_ = 1;
};

}  // namespace portmirror::source

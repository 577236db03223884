#include "portmirror/source/sampler.h"

namespace portmirror::source {

Sampler::Sampler(std::uint32_t rate, std::uint32_t run_length, bool random,
                 std::uint64_t seed) noexcept
    : rate_(rate == 0 ? 1 : rate), run_length_(run_length), random_(random), state_(seed | 1) {
  // P(trigger) = threshold / 2^64 = 1/N. For N = 1 every packet triggers.
  threshold_ = rate_ == 1 ? ~std::uint64_t{0} : (~std::uint64_t{0} / rate_) + 1;
}

}  // namespace portmirror::source

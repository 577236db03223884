// Helpers shared by the wire tests: truncation at every byte offset.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "portmirror/base/bytes.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire::testing {

/// parse() of every strict prefix of `full` shorter than `min_ok` must fail with kTruncated, and
/// every prefix of at least `min_ok` bytes must succeed.
template <typename View>
void expect_truncation_at_every_offset(const std::vector<std::uint8_t>& full, std::size_t min_ok) {
  for (std::size_t n = 0; n <= full.size(); ++n) {
    // A fresh heap copy of exactly n bytes, so ASan catches any read past the prefix.
    std::vector<std::uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = View::parse(ByteSpan(prefix.data(), prefix.size()));
    if (n < min_ok) {
      ASSERT_FALSE(r.has_value()) << "prefix " << n;
      EXPECT_EQ(r.error(), ParseError::kTruncated) << "prefix " << n;
    } else {
      ASSERT_TRUE(r.has_value()) << "prefix " << n;
    }
  }
}

template <typename Header>
std::vector<std::uint8_t> emit(const Header& h) {
  std::vector<std::uint8_t> v(h.size());
  h.write_to(MutableByteSpan(v));
  return v;
}

}  // namespace portmirror::wire::testing

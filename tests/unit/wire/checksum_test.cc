#include "portmirror/wire/checksum.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace portmirror::wire {
namespace {

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement 220d).
  const std::array<std::uint8_t, 8> b{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(internet_checksum(b), 0x220d);
}

TEST(Checksum, OddLengthPadsWithZero) {
  const std::array<std::uint8_t, 3> b{0x01, 0x02, 0x03};
  // 0x0102 + 0x0300 = 0x0402 -> ~ = 0xfbfd
  EXPECT_EQ(internet_checksum(b), 0xfbfd);
}

TEST(Checksum, StoredChecksumVerifies) {
  std::vector<std::uint8_t> b{0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01,
                              0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  const std::uint16_t c = internet_checksum(b);
  store_be16(b, 10, c);
  EXPECT_TRUE(checksum_valid(b));
  b[3] ^= 1;
  EXPECT_FALSE(checksum_valid(b));
}

TEST(Checksum, ManyLengthsMatchNaiveSum) {
  std::vector<std::uint8_t> b(1503);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  for (std::size_t n = 0; n <= b.size(); n += 37) {
    std::uint32_t s = 0;
    for (std::size_t i = 0; i + 1 < n; i += 2) s += (std::uint32_t{b[i]} << 8) | b[i + 1];
    if (n % 2) s += std::uint32_t{b[n - 1]} << 8;
    EXPECT_EQ(internet_checksum(ByteSpan(b.data(), n)), checksum_fold(s)) << n;
  }
}

TEST(Checksum, IncrementalUpdateMatchesRecompute) {
  std::vector<std::uint8_t> b{0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x40, 0x2f,
                              0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02};
  store_be16(b, 10, internet_checksum(b));
  for (std::uint16_t len :
       std::initializer_list<std::uint16_t>{0x0000, 0x0054, 0x05dc, 0xffff, 0x1234}) {
    const std::uint16_t old_len = load_be16(b, 2);
    const std::uint16_t upd = checksum_update16(load_be16(b, 10), old_len, len);
    store_be16(b, 2, len);
    store_be16(b, 10, 0);
    const std::uint16_t full = internet_checksum(b);
    store_be16(b, 10, upd);
    EXPECT_TRUE(checksum_valid(b)) << len << " upd=" << upd << " full=" << full;
  }
}

TEST(Checksum, Incremental32MatchesRecompute) {
  std::vector<std::uint8_t> b{0x30, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3};
  store_be16(b, 4, internet_checksum(b));
  for (std::uint32_t seq : {1u, 0xffffffffu, 0x12345678u, 0u}) {
    const std::uint32_t old = load_be32(b, 8);
    store_be16(b, 4, checksum_update32(load_be16(b, 4), old, seq));
    store_be32(b, 8, seq);
    EXPECT_TRUE(checksum_valid(b)) << seq;
  }
}

}  // namespace
}  // namespace portmirror::wire

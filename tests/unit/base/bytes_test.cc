#include "portmirror/base/bytes.h"

#include <gtest/gtest.h>

#include <array>

#include "portmirror/base/expected.h"
#include "portmirror/base/ip_address.h"

namespace portmirror {
namespace {

TEST(Bytes, LoadsBigEndian) {
  const std::array<std::uint8_t, 8> b{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  EXPECT_EQ(load_be16(b, 0), 0x0102);
  EXPECT_EQ(load_be24(b, 1), 0x020304u);
  EXPECT_EQ(load_be32(b, 4), 0x05060708u);
  EXPECT_EQ(load_be64(b, 0), 0x0102030405060708ull);
}

TEST(Bytes, StoreThenLoadRoundTrips) {
  std::array<std::uint8_t, 9> b{};
  store_be16(b, 0, 0xBEEF);
  store_be24(b, 2, 0x123456);
  store_be32(b, 5, 0xCAFEF00D);
  EXPECT_EQ(load_be16(b, 0), 0xBEEF);
  EXPECT_EQ(load_be24(b, 2), 0x123456u);
  EXPECT_EQ(load_be32(b, 5), 0xCAFEF00Du);
  store_be64(b, 0, 0x1122334455667788ull);
  EXPECT_EQ(b[0], 0x11);
  EXPECT_EQ(b[7], 0x88);
}

TEST(Expected, HoldsValueOrError) {
  Expected<int, std::string> ok = 5;
  Expected<int, std::string> bad = unexpected(std::string("nope"));
  EXPECT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 5);
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), "nope");
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(IpPrefix, ContainsRespectsPartialBytes) {
  auto p = IpPrefix::parse("192.168.70.0/23");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->contains(*IpAddress::parse("192.168.71.200")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("192.168.72.1")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("::1")));
  auto v6 = IpPrefix::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*IpAddress::parse("2001:db8:1::5")));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/33"));
  EXPECT_FALSE(IpPrefix::parse("nonsense"));
  EXPECT_EQ(IpAddress::parse("10.0.45.8")->to_string(), "10.0.45.8");
}

}  // namespace
}  // namespace portmirror

#include "portmirror/base/counters.h"

namespace portmirror::test_counters {
#define PM_TEST_COUNTERS(X)                 \
  X(kFoo, "foo.truncated", "foo cut short") \
  X(kBar, "bar.malformed", "bar inconsistent")
PM_DECLARE_COUNTERS(TestCounter, PM_TEST_COUNTERS)

TEST(Counters, NamesAndValuesComeFromOneTable) {
  CounterSet<TestCounter> c;
  c.inc(TestCounter::kBar, 3);
  c.inc(TestCounter::kFoo);
  EXPECT_EQ(CounterSet<TestCounter>::kSize, 2u);
  EXPECT_EQ(counter_name(TestCounter::kBar), "bar.malformed");
  EXPECT_EQ(c.get(TestCounter::kBar), 3u);
  EXPECT_EQ(c.total(), 4u);
  EXPECT_EQ(CounterSet<TestCounter>::help(0), "foo cut short");
}
}  // namespace portmirror::test_counters

#include "portmirror/base/time.h"

namespace portmirror {
TEST(Time, TimestampFromSaturatesInsteadOfOverflowing) {
  EXPECT_EQ(timestamp_from(1, 5), kNsPerSec + 5);
  EXPECT_EQ(timestamp_from(10956021662LL, 0), INT64_MAX);  // the fuzzer's pcapng year 2317
  EXPECT_EQ(timestamp_from(-10956021662LL, 0), INT64_MIN);
}
}  // namespace portmirror

// capture's admission rules (--allow, --pin) and their parsing. The loop itself runs against real
// sockets and rings in tests/e2e/capture_*_test.sh.
#include "portmirror/io/capture_loop.h"

#include <gtest/gtest.h>

namespace portmirror::io {
namespace {

TunnelInfo tunnel(const char* src, bool has_id, std::uint32_t id) {
  TunnelInfo t;
  t.outer_src = *IpAddress::parse(src);
  t.outer_dst = *IpAddress::parse("198.18.1.2");
  t.has_id = has_id;
  t.id = id;
  return t;
}

TEST(Pin, ParsesDecimalHexAndPrefixes) {
  auto a = Pin::parse("198.18.1.1=0x1234");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->id, 0x1234u);
  EXPECT_EQ(a->sender.length, 32);
  auto b = Pin::parse("10.0.0.0/8=101");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->id, 101u);
  EXPECT_EQ(b->sender.length, 8);
  auto c = Pin::parse("2001:db8::/32=7");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->id, 7u);
  for (const char* bad : {"198.18.1.1", "198.18.1.1=", "=5", "198.18.1.1=0x", "198.18.1.1=12a",
                          "1.2.3.4/33=1", "198.18.1.1=99999999999", "x=1"}) {
    EXPECT_FALSE(Pin::parse(bad)) << bad;
  }
}

TEST(Admission, OpenWithoutRulesAcceptsEverything) {
  Admission a({}, {});
  EXPECT_TRUE(a.open());
  EXPECT_TRUE(a.admit(tunnel("203.0.113.9", false, 0)));
  EXPECT_EQ(a.rejected_not_allowed() + a.rejected_pin(), 0u);
}

TEST(Admission, AllowListRejectsAndCountsPerSender) {
  Admission a({*IpPrefix::parse("198.18.1.0/30"), *IpPrefix::parse("2001:db8::/64")}, {});
  EXPECT_FALSE(a.open());
  EXPECT_TRUE(a.admit(tunnel("198.18.1.1", false, 0)));
  EXPECT_TRUE(a.admit(tunnel("198.18.1.3", true, 5)));
  EXPECT_TRUE(a.admit(tunnel("2001:db8::1", true, 5)));
  EXPECT_FALSE(a.admit(tunnel("198.18.1.4", false, 0)));
  EXPECT_FALSE(a.admit(tunnel("198.18.1.4", false, 0)));
  EXPECT_FALSE(a.admit(tunnel("2001:db8:1::1", false, 0)));
  EXPECT_EQ(a.rejected_not_allowed(), 3u);
  EXPECT_EQ(a.rejected_pin(), 0u);
  ASSERT_EQ(a.rejected_senders().size(), 2u);
  EXPECT_EQ(a.rejected_senders()[0].sender.to_string(), "198.18.1.4");
  EXPECT_EQ(a.rejected_senders()[0].packets, 2u);
  EXPECT_EQ(a.rejected_senders()[1].packets, 1u);
}

TEST(Admission, PinRequiresTheIdFromThatSenderOnly) {
  Admission a({}, {*Pin::parse("198.18.1.1=0x1234")});
  EXPECT_TRUE(a.admit(tunnel("198.18.1.1", true, 0x1234)));
  EXPECT_FALSE(a.admit(tunnel("198.18.1.1", true, 101)));
  EXPECT_FALSE(a.admit(tunnel("198.18.1.1", false, 0)));  // no id at all
  EXPECT_TRUE(a.admit(tunnel("198.18.1.9", true, 101)));  // other senders are not pinned
  EXPECT_EQ(a.rejected_pin(), 2u);
  EXPECT_EQ(a.rejected_not_allowed(), 0u);
}

TEST(Admission, SenderTableIsBounded) {
  Admission a({*IpPrefix::parse("10.0.0.0/8")}, {});
  for (std::uint32_t i = 0; i < Admission::kMaxSenders + 10; ++i) {
    EXPECT_FALSE(a.admit(tunnel(IpAddress::v4(0xC6120000u + i).to_string().c_str(), false, 0)));
  }
  EXPECT_EQ(a.rejected_not_allowed(), Admission::kMaxSenders + 10);
  EXPECT_EQ(a.rejected_senders().size(), Admission::kMaxSenders);
}

}  // namespace
}  // namespace portmirror::io

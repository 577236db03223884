// tcp-flags expressions (protocols.md §4.5): names, precedence ! > & > |, parentheses, synonyms.
#include "portmirror/source/tcp_flags.h"

#include <gtest/gtest.h>

namespace portmirror::source {
namespace {

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPush = 0x08, kAck = 0x10,
                       kUrg = 0x20;

std::vector<int> matching(const char* expr) {
  auto m = TcpFlagsMatch::compile(expr);
  EXPECT_TRUE(m.has_value()) << expr;
  std::vector<int> out;
  for (int f = 0; f < 64; ++f)
    if (m && m->matches(static_cast<std::uint8_t>(f))) out.push_back(f);
  return out;
}

bool eval(const char* expr, std::uint8_t flags) {
  return TcpFlagsMatch::compile(expr).value().matches(flags);
}

TEST(TcpFlags, SingleNamesMeanBitSet) {
  EXPECT_TRUE(eval("syn", kSyn));
  EXPECT_TRUE(eval("syn", kSyn | kAck));
  EXPECT_FALSE(eval("syn", kAck));
  EXPECT_TRUE(eval("fin", kFin));
  EXPECT_TRUE(eval("rst", kRst));
  EXPECT_TRUE(eval("push", kPush));
  EXPECT_TRUE(eval("urgent", kUrg));
  EXPECT_TRUE(eval("0x12", kSyn | kAck));
  EXPECT_FALSE(eval("0x12", kSyn));
}

TEST(TcpFlags, Precedence) {
  // ! binds tighter than &, & tighter than |: "syn | ack & !rst" == syn | (ack & !rst)
  EXPECT_TRUE(eval("syn | ack & !rst", kSyn | kRst));
  EXPECT_TRUE(eval("syn | ack & !rst", kAck));
  EXPECT_FALSE(eval("syn | ack & !rst", kAck | kRst));
  EXPECT_FALSE(eval("(syn | ack) & !rst", kSyn | kRst));
  // Synonyms: + for &, comma for |.
  EXPECT_EQ(matching("syn + ack"), matching("syn & ack"));
  EXPECT_EQ(matching("syn , fin"), matching("syn | fin"));
  EXPECT_EQ(matching("!!syn"), matching("syn"));
}

TEST(TcpFlags, JunosAliases) {
  EXPECT_EQ(TcpFlagsMatch::established(), TcpFlagsMatch::compile("(ack | rst)").value());
  EXPECT_EQ(TcpFlagsMatch::initial(), TcpFlagsMatch::compile("(!ack & syn)").value());
  // "syn & !ack" matches exactly the 16 combinations of the other four low bits with SYN set.
  EXPECT_EQ(matching("syn & !ack").size(), 16u);
}

TEST(TcpFlags, Errors) {
  EXPECT_FALSE(TcpFlagsMatch::compile("").has_value());
  EXPECT_FALSE(TcpFlagsMatch::compile("syn &").has_value());
  EXPECT_FALSE(TcpFlagsMatch::compile("(syn").has_value());
  EXPECT_FALSE(TcpFlagsMatch::compile("syn)").has_value());
  EXPECT_FALSE(TcpFlagsMatch::compile("bogus").has_value());
  EXPECT_FALSE(TcpFlagsMatch::compile("0x100").has_value());
  auto e = TcpFlagsMatch::compile("syn & bogus");
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message.find("column 7"), std::string::npos) << e.error().message;
  std::string deep(100, '(');
  EXPECT_FALSE(TcpFlagsMatch::compile(deep + "syn" + std::string(100, ')')).has_value());
}

}  // namespace
}  // namespace portmirror::source

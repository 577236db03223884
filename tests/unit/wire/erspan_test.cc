#include "portmirror/wire/erspan.h"

#include <gtest/gtest.h>

#include "wire_test_util.h"

namespace portmirror::wire {
namespace {
using testing::emit;

TEST(Erspan2View, RoundTripAllFields) {
  for (bool t : {false, true}) {
    for (std::uint8_t en : std::initializer_list<std::uint8_t>{0, 1, 2, 3}) {
      const Erspan2Header h{
          .vlan = 0xABC, .cos = 5, .en = en, .truncated = t, .session_id = 1023, .index = 0xFFFFF};
      const auto b = emit(h);
      auto v = Erspan2View::parse(b);
      ASSERT_TRUE(v);
      EXPECT_EQ(v->ver(), 1);
      EXPECT_EQ(v->vlan(), 0xABC);
      EXPECT_EQ(v->cos(), 5);
      EXPECT_EQ(v->en(), en);
      EXPECT_EQ(v->truncated(), t);
      EXPECT_EQ(v->session_id(), 1023);
      EXPECT_EQ(v->index(), 0xFFFFFu);
      EXPECT_EQ(v->reserved(), 0);
      EXPECT_EQ(erspan_version(b), 1);
    }
  }
}

TEST(ErspanWord0, PackUnpackRoundTripAndFieldPositions) {
  // Each field alone lands at its draft-foschiano-erspan-03 position; T and session ID are the
  // low 11 bits.
  EXPECT_EQ(erspan::pack_word0({.ver = 2}), 0x20000000u);
  EXPECT_EQ(erspan::pack_word0({.vlan = 0xFFF}), 0x0FFF0000u);
  EXPECT_EQ(erspan::pack_word0({.cos = 7}), 0x0000E000u);
  EXPECT_EQ(erspan::pack_word0({.en = 3}), 0x00001800u);
  EXPECT_EQ(erspan::pack_word0({.truncated = true}), 0x00000400u);
  EXPECT_EQ(erspan::pack_word0({.session_id = 0x3FF}), 0x000003FFu);
  // Values wider than their field are cut to it instead of spilling into the neighbours.
  EXPECT_EQ(erspan::pack_word0({.vlan = 0xFFFF, .session_id = 0xFFFF}), 0x0FFF03FFu);
  const erspan::Word0 w{
      .ver = 1, .vlan = 0xABC, .cos = 5, .en = 2, .truncated = true, .session_id = 341};
  EXPECT_EQ(erspan::unpack_word0(erspan::pack_word0(w)), w);
  EXPECT_EQ(erspan::pack_word0(erspan::unpack_word0(0xDEADBEEFu)), 0xDEADBEEFu);
}

TEST(Erspan2View, TruncatedAtEveryOffset) {
  testing::expect_truncation_at_every_offset<Erspan2View>(emit(Erspan2Header{}), 8);
}

TEST(Erspan3View, RoundTripWithAndWithoutPlatform) {
  for (bool o : {false, true}) {
    for (bool d : {false, true}) {
      Erspan3Header h{.vlan = 7,
                      .cos = 3,
                      .bso = 2,
                      .truncated = d,
                      .session_id = 341,
                      .timestamp = 0xDEADBEEF,
                      .sgt = 0x1234,
                      .p = true,
                      .ft = 2,
                      .hw_id = 63,
                      .direction_egress = d,
                      .gra = 3,
                      .has_platform = o,
                      .platform_id = 3,
                      .platform_info = 0x3FFF,
                      .platform_w4 = 0x01020304};
      const auto b = emit(h);
      ASSERT_EQ(b.size(), o ? 20u : 12u);
      auto v = Erspan3View::parse(b);
      ASSERT_TRUE(v);
      EXPECT_EQ(v->ver(), 2);
      EXPECT_EQ(v->vlan(), 7);
      EXPECT_EQ(v->cos(), 3);
      EXPECT_EQ(v->bso(), 2);
      EXPECT_EQ(v->truncated(), d);
      EXPECT_EQ(v->session_id(), 341);
      EXPECT_EQ(v->timestamp(), 0xDEADBEEFu);
      EXPECT_EQ(v->sgt(), 0x1234);
      EXPECT_TRUE(v->p());
      EXPECT_EQ(v->ft(), 2);
      EXPECT_EQ(v->hw_id(), 63);
      EXPECT_EQ(v->direction_egress(), d);
      EXPECT_EQ(v->gra(), 3);
      EXPECT_EQ(v->has_platform(), o);
      EXPECT_EQ(v->header_length(), b.size());
      EXPECT_EQ(v->platform_id(), o ? 3 : 0);
      EXPECT_EQ(v->platform_info(), o ? 0x3FFFu : 0u);
      EXPECT_EQ(v->platform_w4(), o ? 0x01020304u : 0u);
      testing::expect_truncation_at_every_offset<Erspan3View>(b, b.size());
    }
  }
}

}  // namespace
}  // namespace portmirror::wire

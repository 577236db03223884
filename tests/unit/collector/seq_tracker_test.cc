// SeqTracker: exact counts for gaps, duplicates, reordering, wraps and restarts (docs/sessions.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <set>
#include <vector>

#include "portmirror/collector/session.h"

namespace portmirror::collector {
namespace {

using V = SeqVerdict;

std::vector<V> feed(SeqTracker& t, std::initializer_list<std::uint32_t> seqs) {
  std::vector<V> out;
  for (auto s : seqs) out.push_back(t.observe(s));
  return out;
}
void feed_range(SeqTracker& t, std::uint32_t first, std::uint32_t count) {
  for (std::uint32_t i = 0; i < count; ++i) t.observe(first + i);
}

struct Expect {
  std::uint64_t with_seq, lost, duplicate, reordered, restarts, out_of_window;
};
void expect_stats(const SeqTracker& t, Expect e) {
  const SeqStats& s = t.stats();
  EXPECT_EQ(s.with_seq, e.with_seq) << "with_seq";
  EXPECT_EQ(s.lost, e.lost) << "lost";
  EXPECT_EQ(s.duplicate, e.duplicate) << "duplicate";
  EXPECT_EQ(s.reordered, e.reordered) << "reordered";
  EXPECT_EQ(s.restarts, e.restarts) << "restarts";
  EXPECT_EQ(s.out_of_window, e.out_of_window) << "out_of_window";
}

TEST(SeqTracker, InOrderFromZero) {
  SeqTracker t;
  EXPECT_EQ(feed(t, {0, 1, 2, 3}),
            (std::vector<V>{V::kFirst, V::kInOrder, V::kInOrder, V::kInOrder}));
  expect_stats(t, {4, 0, 0, 0, 0, 0});
}

TEST(SeqTracker, InOrderFromOneAssumesNoStartValue) {
  // Old Linux started at 1: the missing 0 is not a loss.
  SeqTracker t;
  feed(t, {1, 2, 3, 4, 5});
  expect_stats(t, {5, 0, 0, 0, 0, 0});
}

TEST(SeqTracker, InOrderFromArbitraryValue) {
  SeqTracker t;
  feed_range(t, 0xABCDEF00u, 3000);
  expect_stats(t, {3000, 0, 0, 0, 0, 0});
  EXPECT_EQ(t.highest(), 0xABCDEF00u + 2999);
}

TEST(SeqTracker, GapsCountMissingNumbers) {
  SeqTracker t;
  EXPECT_EQ(feed(t, {0, 1, 2, 5, 6, 10}),
            (std::vector<V>{V::kFirst, V::kInOrder, V::kInOrder, V::kGap, V::kInOrder, V::kGap}));
  expect_stats(t, {6, 2 + 3, 0, 0, 0, 0});
}

TEST(SeqTracker, LargeGapBelowRestartThresholdIsLoss) {
  SeqTracker t;
  feed(t, {7, 7 + SeqTracker::kRestartJump - 1});
  expect_stats(t, {2, SeqTracker::kRestartJump - 2, 0, 0, 0, 0});
}

TEST(SeqTracker, DuplicatesAreCountedNotLost) {
  SeqTracker t;
  EXPECT_EQ(feed(t, {0, 1, 1, 2, 2, 2}),
            (std::vector<V>{V::kFirst, V::kInOrder, V::kDuplicate, V::kInOrder, V::kDuplicate,
                            V::kDuplicate}));
  expect_stats(t, {6, 0, 3, 0, 0, 0});
}

TEST(SeqTracker, DuplicateOfAnOlderNumberInsideWindow) {
  SeqTracker t;
  feed(t, {10, 11, 12, 13});
  EXPECT_EQ(t.observe(11), V::kDuplicate);
  expect_stats(t, {5, 0, 1, 0, 0, 0});
}

TEST(SeqTracker, LateArrivalFillsGapAndReducesLost) {
  SeqTracker t;
  feed(t, {0, 1, 3});
  EXPECT_EQ(t.stats().lost, 1u);
  EXPECT_EQ(t.observe(2), V::kReordered);
  EXPECT_EQ(t.observe(4), V::kInOrder);
  expect_stats(t, {5, 0, 0, 1, 0, 0});
}

TEST(SeqTracker, ReorderedPacketSeenTwiceIsThenDuplicate) {
  SeqTracker t;
  EXPECT_EQ(feed(t, {0, 2, 1, 1, 3}),
            (std::vector<V>{V::kFirst, V::kGap, V::kReordered, V::kDuplicate, V::kInOrder}));
  expect_stats(t, {5, 0, 1, 1, 0, 0});
}

TEST(SeqTracker, ReorderAtTheWindowEdge) {
  SeqTracker t;
  t.observe(0);
  t.observe(SeqTracker::kWindow);  // skips 1 .. kWindow-1
  EXPECT_EQ(t.stats().lost, SeqTracker::kWindow - 1);
  EXPECT_EQ(t.observe(1), V::kReordered);  // back = kWindow - 1: still inside
  expect_stats(t, {3, SeqTracker::kWindow - 2, 0, 1, 0, 0});
}

TEST(SeqTracker, ArrivalBeforeTheFirstPacketIsReorderedButNotAFill) {
  SeqTracker t;
  EXPECT_EQ(feed(t, {100, 99, 101, 99}),
            (std::vector<V>{V::kFirst, V::kReordered, V::kInOrder, V::kDuplicate}));
  expect_stats(t, {4, 0, 1, 1, 0, 0});
}

TEST(SeqTracker, WrapsAt32Bits) {
  SeqTracker t;
  EXPECT_EQ(
      feed(t, {0xFFFFFFFDu, 0xFFFFFFFEu, 0xFFFFFFFFu, 0, 1, 2}),
      (std::vector<V>{V::kFirst, V::kInOrder, V::kInOrder, V::kInOrder, V::kInOrder, V::kInOrder}));
  expect_stats(t, {6, 0, 0, 0, 0, 0});
}

TEST(SeqTracker, GapAcrossTheWrap) {
  SeqTracker t;
  feed(t, {0xFFFFFFFEu, 1});  // 0xFFFFFFFF and 0 missing
  expect_stats(t, {2, 2, 0, 0, 0, 0});
}

TEST(SeqTracker, ReorderAndDuplicateAcrossTheWrap) {
  SeqTracker t;
  EXPECT_EQ(feed(t, {0xFFFFFFFEu, 0, 0xFFFFFFFFu, 1, 0xFFFFFFFFu, 0}),
            (std::vector<V>{V::kFirst, V::kGap, V::kReordered, V::kInOrder, V::kDuplicate,
                            V::kDuplicate}));
  expect_stats(t, {6, 0, 2, 1, 0, 0});
}

TEST(SeqTracker, LongStreamAcrossWrapWithEveryHundredthMissing) {
  SeqTracker t;
  std::uint64_t expected_lost = 0;
  std::uint64_t sent = 0;
  for (std::uint32_t i = 0; i < 20000; ++i) {
    const std::uint32_t s = 0xFFFFF000u + i;
    if (i % 100 == 50) {
      ++expected_lost;
      continue;
    }
    t.observe(s);
    ++sent;
  }
  expect_stats(t, {sent, expected_lost, 0, 0, 0, 0});
}

TEST(SeqTracker, RestartBackwardsIsResynchronisedNotFourBillionLost) {
  SeqTracker t;
  feed_range(t, 0, 5000);
  EXPECT_EQ(t.observe(0), V::kOutOfWindow);
  EXPECT_EQ(t.stats().out_of_window, 1u);
  EXPECT_EQ(t.observe(1), V::kRestart);
  feed_range(t, 2, 98);
  expect_stats(t, {5100, 0, 0, 0, 1, 0});
  EXPECT_EQ(t.highest(), 99u);
}

TEST(SeqTracker, RestartToOneAfterWrap) {
  SeqTracker t;
  feed_range(t, 0xFFFFFF00u, 0x1000);  // wraps, ends at 0xEFF
  feed(t, {1, 2, 3});
  expect_stats(t, {0x1003, 0, 0, 0, 1, 0});
}

TEST(SeqTracker, RestartForwardHugeJump) {
  SeqTracker t;
  feed_range(t, 1, 100);
  EXPECT_EQ(t.observe(0x80000000u), V::kOutOfWindow);
  EXPECT_EQ(t.observe(0x80000001u), V::kRestart);
  expect_stats(t, {102, 0, 0, 0, 1, 0});
}

TEST(SeqTracker, GapRightAfterRestartCounts) {
  SeqTracker t;
  feed_range(t, 0, 5000);
  EXPECT_EQ(feed(t, {10, 12, 13}), (std::vector<V>{V::kOutOfWindow, V::kRestart, V::kInOrder}));
  expect_stats(t, {5003, 1, 0, 0, 1, 0});
}

TEST(SeqTracker, DuplicatedRestartPacketWaitsForConfirmation) {
  SeqTracker t;
  feed_range(t, 0, 5000);
  EXPECT_EQ(feed(t, {0, 0, 1}), (std::vector<V>{V::kOutOfWindow, V::kDuplicate, V::kRestart}));
  expect_stats(t, {5003, 0, 1, 0, 1, 0});
}

TEST(SeqTracker, RestartCloseToOldPositionDetectedByRunOfSeenNumbers) {
  // The sender sent 500 packets, rebooted and starts again at 0: 0..7 were all seen before.
  SeqTracker t;
  feed_range(t, 0, 500);
  for (std::uint32_t s = 0; s < SeqTracker::kRestartRun - 1; ++s) {
    EXPECT_EQ(t.observe(s), V::kDuplicate) << s;
  }
  EXPECT_EQ(t.observe(SeqTracker::kRestartRun - 1), V::kRestart);
  feed_range(t, SeqTracker::kRestartRun, 1000);
  expect_stats(t, {1500 + SeqTracker::kRestartRun, 0, 0, 0, 1, 0});
}

TEST(SeqTracker, VeryLatePacketBeyondWindowIsAFillNotARestart) {
  SeqTracker t;
  for (std::uint32_t s = 0; s < 2000; ++s) {
    if (s != 5) t.observe(s);
  }
  EXPECT_EQ(t.stats().lost, 1u);
  EXPECT_EQ(t.observe(5), V::kOutOfWindow);  // 1994 behind: beyond the window
  EXPECT_EQ(t.observe(2000), V::kInOrder);   // the stream continues: 5 was a straggler
  expect_stats(t, {2001, 0, 0, 1, 0, 0});
}

TEST(SeqTracker, BogusForwardJumpNotConfirmedStaysOutOfWindow) {
  SeqTracker t;
  feed_range(t, 0, 10);
  EXPECT_EQ(t.observe(0x00500000u), V::kOutOfWindow);
  EXPECT_EQ(t.observe(10), V::kInOrder);
  EXPECT_EQ(t.observe(11), V::kInOrder);
  expect_stats(t, {13, 0, 0, 0, 0, 1});
}

TEST(SeqTracker, TwoTrackersAreIndependent) {
  SeqTracker a, b;
  // Interleaved: a = 0,1,3 (1 lost), b = 100,100,101 (1 duplicate).
  a.observe(0);
  b.observe(100);
  a.observe(1);
  b.observe(100);
  a.observe(3);
  b.observe(101);
  expect_stats(a, {3, 1, 0, 0, 0, 0});
  expect_stats(b, {3, 0, 1, 0, 0, 0});
}

// Randomised stream with known drops, duplicates and bounded reordering; the counts must be exact.
TEST(SeqTracker, RandomisedStreamExactCounts) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    const std::uint32_t base = seed % 2 ? 0xFFFF0000u + seed * 977 : seed * 1000003u;
    constexpr std::uint32_t kN = 20000;
    std::vector<std::uint32_t> order;
    std::uint64_t dropped = 0;
    for (std::uint32_t i = 0; i < kN; ++i) {
      // The first and last 64 are never dropped: losses before the first or after the last
      // packet are invisible by definition.
      if (i >= 64 && i < kN - 64 && rng() % 100 == 0) {
        ++dropped;
        continue;
      }
      order.push_back(base + i);
    }
    // Local reordering: swap pairs at distance <= 40 (first 64 untouched).
    for (std::size_t k = 64; k + 40 < order.size(); k += 1 + rng() % 200) {
      std::swap(order[k], order[k + 1 + rng() % 40]);
    }
    // Duplicates: a packet copied again right behind itself (double mirroring).
    std::uint64_t dups = 0;
    std::vector<std::uint32_t> wire;
    for (std::size_t k = 0; k < order.size(); ++k) {
      wire.push_back(order[k]);
      if (k >= 64 && rng() % 100 == 0) {
        wire.push_back(order[k]);
        ++dups;
      }
    }
    // Expected reordered: first arrivals of a number lower than the highest seen so far.
    std::uint64_t reordered = 0;
    std::set<std::uint32_t> seen;
    std::uint32_t highest = wire.front();
    for (auto s : wire) {
      if (!seen.insert(s).second) continue;
      if (static_cast<std::int32_t>(s - highest) < 0) ++reordered;
      if (static_cast<std::int32_t>(s - highest) > 0) highest = s;
    }
    SeqTracker t;
    for (auto s : wire) t.observe(s);
    SCOPED_TRACE(seed);
    expect_stats(t, {wire.size(), dropped, dups, reordered, 0, 0});
  }
}

// Arbitrary input (random values, random walks with jumps both ways): counters never underflow and
// every packet is accounted exactly once.
TEST(SeqTracker, ArbitraryInputKeepsCountersConsistent) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    SeqTracker t;
    std::uint32_t s = static_cast<std::uint32_t>(rng());
    std::uint64_t verdicts[7] = {};
    for (int i = 0; i < 2000; ++i) {
      switch (rng() % 8) {
        case 0:
          s = static_cast<std::uint32_t>(rng());
          break;  // anywhere
        case 1:
          s -= static_cast<std::uint32_t>(rng() % 3000);
          break;  // back, maybe far
        case 2:
          s += static_cast<std::uint32_t>(rng() % 5);
          break;  // small gap / repeat
        case 3:
          s -= static_cast<std::uint32_t>(rng() % 10);
          break;  // slightly late
        default:
          s += 1;
          break;  // in order
      }
      ++verdicts[static_cast<int>(t.observe(s))];
      const SeqStats& st = t.stats();
      ASSERT_LT(st.lost, std::uint64_t{1} << 40) << "underflow";
      ASSERT_LE(st.duplicate + st.reordered + st.restarts + st.out_of_window, st.with_seq);
    }
    EXPECT_EQ(t.stats().with_seq, 2000u);
    EXPECT_EQ(verdicts[static_cast<int>(SeqVerdict::kFirst)], 1u);
  }
}

}  // namespace
}  // namespace portmirror::collector

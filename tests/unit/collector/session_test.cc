// SessionTable: keys, creation order, bound and overflow, no allocation per packet;
// Session::account.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "portmirror/collector/session.h"

#if defined(__SANITIZE_ADDRESS__)
#define PM_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PM_HAVE_ASAN 1
#endif
#endif
#ifdef PM_HAVE_ASAN
// From <sanitizer/allocator_interface.h> (shipped with clang, not with g++; libasan exports it).
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             std::size_t),
                                                         void (*free_hook)(const volatile void*));
#endif

namespace portmirror::collector {
namespace {

// Counts heap allocations through the sanitizer's malloc hook (every operator new ends in malloc).
// tests/support/alloc_counter.h replaces operator new instead and may be included by only one
// file of a test binary; this binary leaves that to the decapsulator's tests.
#ifdef PM_HAVE_ASAN
thread_local std::uint64_t g_mallocs = 0;
void on_malloc(const volatile void*, std::size_t) {
  ++g_mallocs;
}
void on_free(const volatile void*) {}
[[maybe_unused]] const int g_hooks_installed =
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
#endif

TunnelInfo tunnel(std::uint32_t src, std::uint32_t dst, Encap encap, std::uint32_t id,
                  bool has_id = true) {
  TunnelInfo t;
  t.encap = encap;
  t.outer_src = IpAddress::v4(src);
  t.outer_dst = IpAddress::v4(dst);
  t.has_id = has_id;
  t.id = id;
  return t;
}

TEST(SessionTable, SameKeyFindsSameSessionAndUpdatesLastSeen) {
  SessionTable table(16);
  const TunnelInfo t = tunnel(0x0A000001, 0x0A000002, Encap::kErspan2, 341);
  Session* a = table.find_or_insert(t, 100);
  ASSERT_NE(a, nullptr);
  Session* b = table.find_or_insert(t, 250);
  EXPECT_EQ(a, b);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(a->first_seen, 100);
  EXPECT_EQ(a->last_seen, 250);
  EXPECT_EQ(a->index, 0u);
  EXPECT_EQ(table.find(SessionKey::from(t)), a);
}

TEST(SessionTable, EveryKeyFieldSeparatesSessions) {
  SessionTable table(16);
  const std::array<TunnelInfo, 6> ts{
      tunnel(0x0A000001, 0x0A000002, Encap::kErspan2, 1),
      tunnel(0x0A000003, 0x0A000002, Encap::kErspan2, 1),          // other sender
      tunnel(0x0A000001, 0x0A000004, Encap::kErspan2, 1),          // other receiver
      tunnel(0x0A000001, 0x0A000002, Encap::kErspan3, 1),          // other encapsulation
      tunnel(0x0A000001, 0x0A000002, Encap::kErspan2, 2),          // other session ID
      tunnel(0x0A000001, 0x0A000002, Encap::kErspan2, 0, false)};  // no ID at all
  for (std::size_t i = 0; i < ts.size(); ++i) {
    Session* s = table.find_or_insert(ts[i], 0);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->index, i) << "creation order is the index";
  }
  EXPECT_EQ(table.size(), ts.size());
  // ID 0 present differs from ID absent.
  EXPECT_NE(table.find(SessionKey::from(tunnel(0x0A000001, 0x0A000002, Encap::kErspan2, 0))),
            table.find(SessionKey::from(ts[5])));
}

TEST(SessionTable, Ipv6AndIpv4KeysDiffer) {
  SessionTable table(4);
  std::array<std::uint8_t, 16> v6{};
  v6[15] = 1;
  TunnelInfo a = tunnel(1, 2, Encap::kGre, 5);
  TunnelInfo b = a;
  b.outer_src = IpAddress::v6(v6);
  EXPECT_NE(table.find_or_insert(a, 0), table.find_or_insert(b, 0));
  EXPECT_EQ(table.size(), 2u);
}

TEST(SessionTable, FullTableReturnsNullAndCountsOverflow) {
  SessionTable table(3);
  for (std::uint32_t i = 0; i < 3; ++i)
    ASSERT_NE(table.find_or_insert(tunnel(i, 9, Encap::kGre, 0), 0), nullptr);
  EXPECT_EQ(table.find_or_insert(tunnel(7, 9, Encap::kGre, 0), 0), nullptr);
  EXPECT_EQ(table.find_or_insert(tunnel(8, 9, Encap::kGre, 0), 0), nullptr);
  EXPECT_EQ(table.overflow(), 2u);
  // Existing sessions are still found.
  EXPECT_NE(table.find_or_insert(tunnel(1, 9, Encap::kGre, 0), 0), nullptr);
  EXPECT_EQ(table.overflow(), 2u);
  EXPECT_EQ(table.size(), 3u);
}

TEST(SessionTable, ManySessionsAllFoundAgainInCreationOrder) {
  constexpr std::uint32_t kN = 4096;
  SessionTable table(kN);
  for (std::uint32_t i = 0; i < kN; ++i) {
    Session* s =
        table.find_or_insert(tunnel(0xC6120000u + i % 64, 0xC6130001u, Encap::kVxlan, i / 64), i);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(s->index, i);
  }
  for (std::uint32_t i = 0; i < kN; ++i) {
    Session* s = table.find(
        SessionKey::from(tunnel(0xC6120000u + i % 64, 0xC6130001u, Encap::kVxlan, i / 64)));
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(s->index, i);
    ASSERT_EQ(&table.sessions()[i], s);
  }
  EXPECT_EQ(table.overflow(), 0u);
}

TEST(SessionTable, NoAllocationPerPacket) {
#ifndef PM_HAVE_ASAN
  GTEST_SKIP() << "allocation counting uses the AddressSanitizer malloc hook (dev preset / CI)";
#else
  {  // the hook sees allocations at all
    const std::uint64_t before = g_mallocs;
    auto* volatile p = new int(7);
    delete p;
    ASSERT_EQ(g_mallocs, before + 1) << "malloc hook not installed";
  }
  SessionTable table(256);
  const auto* data_before = table.sessions().data();
  const std::uint64_t before = g_mallocs;
  for (std::uint32_t p = 0; p < 100000; ++p) {
    TunnelInfo t = tunnel(0x0A000000u + p % 300, 0x0A0000FF, Encap::kGre, p % 7);
    t.has_seq = true;
    t.seq = p / 300;
    if (Session* s = table.find_or_insert(t, p)) s->account(t, 100, true);
  }
  EXPECT_EQ(g_mallocs - before, 0u);
  EXPECT_EQ(table.sessions().data(), data_before);
  EXPECT_EQ(table.size(), 256u);
  EXPECT_GT(table.overflow(), 0u);
#endif
}

TEST(Session, AccountCountsPacketsBytesAndSequence) {
  SessionTable table(4);
  TunnelInfo t = tunnel(1, 2, Encap::kErspan2, 100);
  t.has_seq = true;
  Session* s = table.find_or_insert(t, 0);
  for (std::uint32_t seq : {0u, 1u, 1u, 3u, 2u}) {
    t.seq = seq;
    s->account(t, 60, false);
  }
  EXPECT_EQ(s->packets, 5u);
  EXPECT_EQ(s->bytes, 300u);
  EXPECT_EQ(s->seq.stats().duplicate, 1u);
  EXPECT_EQ(s->seq.stats().reordered, 1u);
  EXPECT_EQ(s->seq.stats().lost, 0u);
  EXPECT_EQ(s->duplicates_suppressed, 0u);
}

TEST(Session, DedupSuppressesSameSequenceCopies) {
  SessionTable table(4);
  TunnelInfo t = tunnel(1, 2, Encap::kErspan3, 7);
  t.has_seq = true;
  Session* s = table.find_or_insert(t, 0);
  int written = 0;
  for (std::uint32_t seq : {10u, 10u, 11u, 11u, 12u, 13u, 13u}) {
    t.seq = seq;
    if (s->account(t, 100, true) != SeqVerdict::kDuplicate) ++written;
  }
  EXPECT_EQ(written, 4);
  EXPECT_EQ(s->packets, 7u);  // received, duplicates included
  EXPECT_EQ(s->bytes, 700u);
  EXPECT_EQ(s->duplicates_suppressed, 3u);
  EXPECT_EQ(s->seq.stats().duplicate, 3u);
}

TEST(Session, PacketsWithoutSequenceAreNotTracked) {
  SessionTable table(4);
  TunnelInfo t = tunnel(1, 2, Encap::kVxlan, 42);
  Session* s = table.find_or_insert(t, 0);
  EXPECT_EQ(s->account(t, 50, true), SeqVerdict::kInOrder);
  EXPECT_EQ(s->account(t, 50, true), SeqVerdict::kInOrder);
  EXPECT_EQ(s->packets, 2u);
  EXPECT_EQ(s->seq.stats().with_seq, 0u);
}

TEST(Session, InterleavedSessionsKeepSeparateSequenceSpaces) {
  SessionTable table(8);
  TunnelInfo a = tunnel(0x0A000001, 0x0A000009, Encap::kGre, 1);
  TunnelInfo b = tunnel(0x0A000002, 0x0A000009, Encap::kGre, 1);  // same key, other sender
  a.has_seq = b.has_seq = true;
  // a: 0 1 2 _ 4 ; b: 0 0 1 3 2  (interleaved)
  const std::uint32_t as[] = {0, 1, 2, 4, 5};
  const std::uint32_t bs[] = {0, 0, 1, 3, 2};
  for (int i = 0; i < 5; ++i) {
    a.seq = as[i];
    table.find_or_insert(a, i)->account(a, 10, false);
    b.seq = bs[i];
    table.find_or_insert(b, i)->account(b, 10, false);
  }
  const auto& sa = table.sessions()[0].seq.stats();
  const auto& sb = table.sessions()[1].seq.stats();
  EXPECT_EQ(sa.lost, 1u);
  EXPECT_EQ(sa.duplicate + sa.reordered, 0u);
  EXPECT_EQ(sb.lost, 0u);
  EXPECT_EQ(sb.duplicate, 1u);
  EXPECT_EQ(sb.reordered, 1u);
}

}  // namespace
}  // namespace portmirror::collector

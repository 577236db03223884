// Session table: flat open-addressing hash map, bounded and reserved at construction.
#include "portmirror/collector/session.h"

#include <bit>
#include <cstring>

#include "portmirror/base/check.h"

namespace portmirror::collector {
namespace {

// Final avalanche (splitmix64) so that the low bits used for the slot index depend on every byte.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Absorbs 8-byte words (a multiply-xorshift round each): a few cycles per word, not per byte.
constexpr std::uint64_t absorb(std::uint64_t h, std::uint64_t w) noexcept {
  h = (h ^ w) * 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 32);
}

struct Words {
  std::uint64_t lo = 0, hi = 0;
  friend bool operator==(const Words&, const Words&) = default;
};
// The address as two words (fixed-size copies, no memcmp/memcpy calls on the hot path).
Words words(const IpAddress& a) noexcept {
  Words w;
  const ByteSpan b = a.bytes();
  if (b.size() == 16) {
    std::memcpy(&w.lo, b.data(), 8);
    std::memcpy(&w.hi, b.data() + 8, 8);
  } else if (b.size() == 4) {
    std::uint32_t v;
    std::memcpy(&v, b.data(), 4);
    w.lo = v;
  }
  return w;
}

std::uint64_t meta(const SessionKey& k) noexcept {
  return static_cast<std::uint64_t>(k.sender.family()) |
         static_cast<std::uint64_t>(k.receiver.family()) << 8 |
         static_cast<std::uint64_t>(k.encap) << 16 |
         static_cast<std::uint64_t>(k.has_id ? 1 : 0) << 24 |
         static_cast<std::uint64_t>(k.id) << 32;
}

// Same as SessionKey::operator==, without the library memcmp call.
bool same_key(const SessionKey& a, const SessionKey& b) noexcept {
  return meta(a) == meta(b) && words(a.sender) == words(b.sender) &&
         words(a.receiver) == words(b.receiver);
}

}  // namespace

std::uint64_t hash_key(const SessionKey& k) noexcept {
  const Words s = words(k.sender);
  const Words r = words(k.receiver);
  std::uint64_t h = absorb(0x243f6a8885a308d3ull, meta(k));
  h = absorb(absorb(h, s.lo), s.hi);
  h = absorb(absorb(h, r.lo), r.hi);
  return mix(h);
}

SessionTable::SessionTable(std::size_t max_sessions) : max_(max_sessions) {
  PM_CHECK(max_sessions > 0 && max_sessions < (std::size_t{1} << 30));
  sessions_.reserve(max_);
  // Load factor <= 0.5 keeps linear probes short even when the table is full.
  slots_.assign(std::bit_ceil(max_ * 2), kEmpty);
}

// A slot holds (upper 32 bits of the hash) << 32 | (index + 1); 0 = empty. The tag avoids touching
// other sessions' keys while probing.
std::size_t SessionTable::probe(const SessionKey& k, std::uint64_t h) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  const std::uint64_t tag = h >> 32;
  std::size_t i = static_cast<std::size_t>(h) & mask;
  while (slots_[i] != kEmpty) {
    if ((slots_[i] >> 32) == tag && same_key(sessions_[slot_index(slots_[i])].key, k)) break;
    i = (i + 1) & mask;
  }
  return i;  // the key's slot, or the empty slot where it belongs (never full: load <= 0.5)
}

Session* SessionTable::find(const SessionKey& k) noexcept {
  const std::size_t i = probe(k, hash_key(k));
  return slots_[i] == kEmpty ? nullptr : &sessions_[slot_index(slots_[i])];
}

Session* SessionTable::find_or_insert(const SessionKey& k, TimestampNs now) noexcept {
  const std::uint64_t h = hash_key(k);
  const std::size_t i = probe(k, h);
  if (slots_[i] != kEmpty) {
    Session& s = sessions_[slot_index(slots_[i])];
    s.last_seen = now;
    return &s;
  }
  if (sessions_.size() >= max_) {
    ++overflow_;
    return nullptr;
  }
  // emplace_back within the reserved capacity: no allocation.
  Session& s = sessions_.emplace_back();
  s.key = k;
  s.index = static_cast<std::uint32_t>(sessions_.size() - 1);
  s.first_seen = now;
  s.last_seen = now;
  slots_[i] = (h >> 32) << 32 | (std::uint64_t{s.index} + 1);
  return &s;
}

Session* SessionTable::find_or_insert(const TunnelInfo& t, TimestampNs now) noexcept {
  return find_or_insert(SessionKey::from(t), now);
}

SeqVerdict Session::account(const TunnelInfo& t, std::uint32_t orig_len,
                            bool suppress_duplicates) noexcept {
  ++packets;
  bytes += orig_len;
  SeqVerdict v = SeqVerdict::kInOrder;
  if (t.has_seq) v = seq.observe(t.seq);
  if (v == SeqVerdict::kDuplicate && suppress_duplicates) ++duplicates_suppressed;
  return v;
}

}  // namespace portmirror::collector

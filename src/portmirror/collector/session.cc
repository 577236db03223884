// Session table: flat open-addressing hash map, bounded and reserved at construction.
#include "portmirror/collector/session.h"

#include <bit>

#include "portmirror/base/check.h"

namespace portmirror::collector {
namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;

constexpr std::uint64_t fnv(std::uint64_t h, std::uint8_t b) noexcept {
  return (h ^ b) * kFnvPrime;
}

std::uint64_t hash_address(std::uint64_t h, const IpAddress& a) noexcept {
  h = fnv(h, static_cast<std::uint8_t>(a.family()));
  for (auto b : a.bytes()) h = fnv(h, static_cast<std::uint8_t>(b));
  return h;
}

// Final avalanche (splitmix64) so that the low bits used for the slot index depend on every byte.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::uint64_t hash_key(const SessionKey& k) noexcept {
  std::uint64_t h = kFnvOffset;
  h = hash_address(h, k.sender);
  h = hash_address(h, k.receiver);
  h = fnv(h, static_cast<std::uint8_t>(k.encap));
  h = fnv(h, k.has_id ? 1 : 0);
  for (int shift = 0; shift < 32; shift += 8) h = fnv(h, static_cast<std::uint8_t>(k.id >> shift));
  return mix(h);
}

SessionTable::SessionTable(std::size_t max_sessions) : max_(max_sessions) {
  PM_CHECK(max_sessions > 0 && max_sessions < (std::size_t{1} << 30));
  sessions_.reserve(max_);
  // Load factor <= 0.5 keeps linear probes short even when the table is full.
  slots_.assign(std::bit_ceil(max_ * 2), -1);
}

std::size_t SessionTable::probe(const SessionKey& k, std::uint64_t h) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = static_cast<std::size_t>(h) & mask;
  while (slots_[i] >= 0 && !(sessions_[static_cast<std::size_t>(slots_[i])].key == k)) {
    i = (i + 1) & mask;
  }
  return i;  // the key's slot, or the empty slot where it belongs (never full: load <= 0.5)
}

Session* SessionTable::find(const SessionKey& k) noexcept {
  const std::size_t i = probe(k, hash_key(k));
  return slots_[i] < 0 ? nullptr : &sessions_[static_cast<std::size_t>(slots_[i])];
}

Session* SessionTable::find_or_insert(const SessionKey& k, TimestampNs now) noexcept {
  const std::size_t i = probe(k, hash_key(k));
  if (slots_[i] >= 0) {
    Session& s = sessions_[static_cast<std::size_t>(slots_[i])];
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
  slots_[i] = static_cast<std::int32_t>(s.index);
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

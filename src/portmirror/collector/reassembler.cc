#include "portmirror/collector/reassembler.h"

#include <algorithm>
#include <cstring>

#include "portmirror/wire/checksum.h"
#include "portmirror/wire/ipv4.h"
#include "portmirror/wire/ipv6.h"

namespace portmirror::collector {

namespace w = portmirror::wire;
using C = packet::DecapCounter;

Reassembler::Reassembler(std::size_t max_bytes, std::uint32_t max_datagrams, TimestampNs timeout)
    : timeout_(timeout) {
  const std::size_t n = std::min<std::size_t>(max_datagrams, max_bytes / kSlotSize);
  if (n > 0)
    pool_.reset(new std::uint8_t[n * kSlotSize]);  // default-initialised: pages stay untouched
  slots_.resize(n);
  for (std::size_t i = 0; i < n; ++i) slots_[i].buf = pool_.get() + i * kSlotSize;
}

std::size_t Reassembler::in_progress() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.used; }));
}

Reassembler::Result Reassembler::add(const packet::OuterFragment& f, TimestampNs ts,
                                     CounterSet<C>& counters) noexcept {
  for (auto& s : slots_) {
    if (s.used && ts - s.first_ts > timeout_) {
      release(s);
      counters.inc(C::kFragTimeout);
    }
  }
  auto drop = [](C reason) { return Result{Outcome::kDropped, reason, {}}; };

  // Key, offset and payload of this fragment. The walk validated the headers already.
  const bool v6 = f.ipv6;
  std::uint32_t id;
  std::uint8_t proto;
  std::uint32_t offset;
  bool more;
  IpAddress src, dst;
  std::size_t payload_at;
  if (f.datagram.size() < f.ip_length) return drop(v6 ? C::kIpv6Truncated : C::kIpv4Truncated);
  if (!v6) {
    auto ip = w::Ipv4View::parse(f.datagram);
    if (!ip) return drop(C::kIpv4Malformed);
    id = ip->identification();
    proto = ip->protocol();
    offset = ip->fragment_offset();
    more = ip->more_fragments();
    src = IpAddress::v4(ip->source());
    dst = IpAddress::v4(ip->destination());
    payload_at = ip->header_length();
  } else {
    auto ip = w::Ipv6View::parse(f.datagram);
    auto fh = w::Ipv6FragmentView::parse(
        f.datagram.subspan(std::min<std::size_t>(f.header_length, f.datagram.size())));
    if (!ip || !fh) return drop(C::kIpv6Malformed);
    id = fh->identification();
    proto = fh->next_header();
    offset = fh->fragment_offset();
    more = fh->more_fragments();
    src = IpAddress::v6(ip->source());
    dst = IpAddress::v6(ip->destination());
    payload_at = std::size_t{f.header_length} + w::Ipv6FragmentView::kSize;
  }
  if (payload_at > f.ip_length) return drop(C::kFragMalformed);
  const ByteSpan payload = f.datagram.subspan(payload_at, f.ip_length - payload_at);
  const auto len = static_cast<std::uint32_t>(payload.size());
  const std::uint32_t end = offset + len;
  const std::size_t hdr_len = v6 ? w::Ipv6View::kSize : payload_at;
  // RFC 791/8200: every fragment but the last carries a multiple of 8 octets; the rebuilt datagram
  // must fit its length field.
  if (len == 0 || (more && len % 8 != 0) || end > kMaxPayload || (!v6 && end + hdr_len > 65535))
    return drop(C::kFragMalformed);

  Slot* slot = nullptr;
  Slot* free_slot = nullptr;
  for (auto& s : slots_) {
    if (!s.used) {
      if (!free_slot) free_slot = &s;
      continue;
    }
    if (s.id == id && s.ipv6 == v6 && (v6 || s.protocol == proto) && s.src == src && s.dst == dst) {
      slot = &s;
      break;
    }
  }
  if (!slot) {
    if (!free_slot) return drop(C::kFragOverflow);
    slot = free_slot;
    std::uint8_t* buf = slot->buf;
    *slot = Slot{};
    slot->buf = buf;
    slot->used = true;
    slot->ipv6 = v6;
    slot->protocol = proto;
    slot->id = id;
    slot->src = src;
    slot->dst = dst;
    slot->first_ts = ts;
  }
  Slot& s = *slot;

  for (int i = 0; i < s.nranges; ++i) {
    const Range& r = s.ranges[static_cast<std::size_t>(i)];
    if (r.begin == offset && r.end == end) return Result{};  // exact duplicate: already have it
    if (offset < r.end && r.begin < end) {
      // RFC 5722: overlapping fragments discard the whole datagram (also applied to IPv4, where
      // overlaps are the classic evasion trick).
      release(s);
      return drop(C::kFragMalformed);
    }
  }
  if (!more) {
    if ((s.total_known && s.total != end) ||
        std::any_of(s.ranges.begin(), s.ranges.begin() + s.nranges,
                    [end](const Range& r) { return r.end > end; })) {
      release(s);
      return drop(C::kFragMalformed);
    }
    s.total = end;
    s.total_known = true;
  } else if (s.total_known && end > s.total) {
    release(s);
    return drop(C::kFragMalformed);
  }
  if (s.nranges == kMaxFragments) {
    release(s);
    return drop(C::kFragOverflow);
  }
  s.ranges[static_cast<std::size_t>(s.nranges++)] = Range{offset, end};
  std::memcpy(s.buf + kHeadroom + offset, payload.data(), len);
  s.received += len;
  if (offset == 0) {
    // Header of the rebuilt datagram: IPv4 keeps the first fragment's header (options included);
    // IPv6 keeps the fixed header only, with the fragment's Next Header, since the walk needs no
    // more of the unfragmentable part.
    std::memcpy(s.buf + kHeadroom - hdr_len, f.datagram.data(), v6 ? w::Ipv6View::kSize : hdr_len);
    if (v6) s.buf[kHeadroom - hdr_len + 6] = proto;
    s.header_length = static_cast<std::uint16_t>(hdr_len);
  }
  if (!s.total_known || s.received != s.total || s.header_length == 0) return Result{};

  // Complete (no overlaps, so the byte count proves coverage).
  MutableByteSpan out(s.buf + kHeadroom - s.header_length, s.header_length + s.total);
  if (!v6) {
    store_be16(out, 2, static_cast<std::uint16_t>(s.header_length + s.total));
    store_be16(out, 6, static_cast<std::uint16_t>(load_be16(out, 6) & w::Ipv4View::kFlagDf));
    store_be16(out, 10, 0);
    store_be16(out, 10, w::internet_checksum(out.first(s.header_length)));
  } else {
    store_be16(out, 4, static_cast<std::uint16_t>(s.total));
  }
  release(s);
  return Result{Outcome::kComplete, C::kFragReassembled, out};
}

}  // namespace portmirror::collector

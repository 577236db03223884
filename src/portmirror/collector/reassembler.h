// Outer IPv4/IPv6 fragment reassembly with a hard memory bound. RFC 791 §3.2 (IPv4), RFC 8200 §4.5
// (IPv6), RFC 5722 (overlapping fragments are discarded). All memory is reserved at construction:
// no allocation per fragment. Time is frame time (timestamps), so replaying a file behaves like the
// live capture did.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "portmirror/base/bytes.h"
#include "portmirror/base/counters.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/base/time.h"
#include "portmirror/packet/decap_counters.h"
#include "portmirror/packet/layer_walk.h"

namespace portmirror::collector {

class Reassembler {
 public:
  /// Each datagram in progress takes one slot of kSlotSize octets; the number of slots is
  /// min(max_datagrams, max_bytes / kSlotSize).
  static constexpr std::size_t kHeadroom = 64;  // rebuilt IP header goes in front of the payload
  static constexpr std::size_t kMaxPayload = 65535;
  static constexpr std::size_t kSlotSize = kHeadroom + kMaxPayload + 1;
  static constexpr int kMaxFragments = 64;  // per datagram; more is treated as an attack (overflow)

  Reassembler(std::size_t max_bytes, std::uint32_t max_datagrams, TimestampNs timeout);

  enum class Outcome : std::uint8_t { kHeld, kComplete, kDropped };
  struct Result {
    Outcome outcome = Outcome::kHeld;
    packet::DecapCounter reason = packet::DecapCounter::kFragHeld;  // kHeld / kDropped
    ByteSpan
        datagram;  // kComplete: a whole IP datagram (header rebuilt), valid until the next add()
  };

  /// Adds one fragment seen at `ts`. Datagrams older than the timeout are discarded first, each
  /// bumping ip.frag_timeout in `counters`. The frame's own outcome is returned (not counted).
  Result add(const packet::OuterFragment& fragment, TimestampNs ts,
             CounterSet<packet::DecapCounter>& counters) noexcept;

  std::size_t slot_count() const noexcept { return slots_.size(); }
  std::size_t in_progress() const noexcept;
  std::size_t reserved_bytes() const noexcept { return slots_.size() * kSlotSize; }

 private:
  struct Range {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
  };
  struct Slot {
    bool used = false;
    bool ipv6 = false;
    std::uint8_t protocol = 0;  // IPv4 key part
    std::uint32_t id = 0;
    IpAddress src;
    IpAddress dst;
    TimestampNs first_ts = 0;
    std::uint32_t total = 0;  // payload length once the last fragment is seen
    bool total_known = false;
    std::uint16_t header_length = 0;  // 0 until the first fragment (offset 0) is seen
    std::uint32_t received = 0;
    int nranges = 0;
    std::array<Range, kMaxFragments> ranges{};
    std::uint8_t* buf = nullptr;  // kSlotSize octets in pool_
  };

  void release(Slot& s) noexcept { s.used = false; }

  std::unique_ptr<std::uint8_t[]> pool_;
  std::vector<Slot> slots_;
  TimestampNs timeout_;
};

}  // namespace portmirror::collector

// `mirror-once`: a packet that crosses the host (in on eth1, out on eth2) is captured twice; mirror
// it once. The two sightings differ in L2 header, IPv4 TTL and header checksum (and IPv6 hop
// limit), so the fingerprint covers only what forwarding does not change:
//   IPv4: source, destination, protocol, identification, total length, fragment offset word
//         (minus nothing else), then up to kPayloadBytes octets after the IP header;
//   IPv6: source, destination, payload length, flow label, then up to kPayloadBytes octets after
//   the
//         fixed header.
// Including the first payload octets (L4 header with TCP sequence numbers, UDP payload) keeps two
// distinct packets of one flow apart even when their IPv4 identification is 0 (DF datagrams from
// unconnected UDP sockets). A sighting is a duplicate when the same 64-bit fingerprint was seen in
// the last `window` ns (capture timestamps). The table is direct-mapped and fixed size: a collision
// can only make a duplicate be mirrored (never suppress a distinct packet, as the full 64-bit value
// is compared). Non-IP frames are never deduplicated.
#pragma once

#include <cstdint>
#include <vector>

#include "portmirror/base/bytes.h"
#include "portmirror/base/time.h"
#include "portmirror/source/packet_info.h"

namespace portmirror::source {

class MirrorOnce {
 public:
  static constexpr std::size_t kPayloadBytes = 64;
  static constexpr TimestampNs kDefaultWindow = 100'000'000;  // 100 ms (--mirror-once-window)

  explicit MirrorOnce(std::size_t slots_log2 = 14, TimestampNs window = kDefaultWindow);

  // True when this sighting repeats one seen within the window (do not mirror it again).
  bool seen_before(ByteSpan frame, const PacketInfo& info, TimestampNs ts) noexcept;

  static std::uint64_t fingerprint(ByteSpan frame, const PacketInfo& info) noexcept;

 private:
  struct Slot {
    std::uint64_t fp = 0;
    TimestampNs ts = 0;
  };
  std::vector<Slot> slots_;
  std::size_t mask_;
  TimestampNs window_;
};

}  // namespace portmirror::source

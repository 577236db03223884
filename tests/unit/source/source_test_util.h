// Frames for the mirror source tests, built with tests/support/packet_builder.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "portmirror/source/packet_info.h"
#include "support/packet_builder.h"

namespace portmirror::source::testing {

inline std::vector<std::uint8_t> udp_frame(const std::string& src, const std::string& dst,
                                           std::uint16_t sport, std::uint16_t dport,
                                           std::size_t payload = 16) {
  return portmirror::testing::PacketBuilder()
      .eth()
      .ipv4(src, dst)
      .udp(sport, dport)
      .payload(payload)
      .build();
}

inline std::vector<std::uint8_t> tcp_frame(const std::string& src, const std::string& dst,
                                           std::uint16_t sport, std::uint16_t dport,
                                           std::uint8_t flags) {
  return portmirror::testing::PacketBuilder()
      .eth()
      .ipv4(src, dst, 6)
      .bytes({static_cast<std::uint8_t>(sport >> 8),
              static_cast<std::uint8_t>(sport),
              static_cast<std::uint8_t>(dport >> 8),
              static_cast<std::uint8_t>(dport),
              0,
              0,
              0,
              1,
              0,
              0,
              0,
              0,
              0x50,
              flags,
              0xff,
              0xff,
              0,
              0,
              0,
              0})
      .build();
}

inline std::vector<std::uint8_t> icmp_frame(const std::string& src, const std::string& dst,
                                            std::uint8_t type, std::uint8_t code) {
  return portmirror::testing::PacketBuilder()
      .eth()
      .ipv4(src, dst, 1)
      .bytes({type, code, 0, 0, 0, 1, 0, 1})
      .build();
}

inline PacketInfo info_of(const std::vector<std::uint8_t>& f) {
  PacketInfo p;
  parse_packet_info(ByteSpan(f), LinkType::kEthernet, p);
  return p;
}

}  // namespace portmirror::source::testing

// One encapsulated mirror copy ready to send: the tunnel header (built by EncapTemplate, starting
// at the GRE or UDP header) and the mirrored bytes, borrowed from the capture ring. The outer IP
// header the template wrote lies right before `header` (ip_header_len bytes): io::Sender's raw
// socket lets the kernel build its own and sends from `header`; io::PacketSender sends it too,
// behind an Ethernet header.
#pragma once

#include <cstdint>

namespace portmirror::source {

struct TxSlot {
  const std::uint8_t* header = nullptr;
  std::uint32_t header_len = 0;
  const std::uint8_t* payload = nullptr;
  std::uint32_t payload_len = 0;
  std::uint32_t ip_header_len = 0;  // outer IP header at header - ip_header_len
};

}  // namespace portmirror::source

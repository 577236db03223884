// One encapsulated mirror copy ready to send: the tunnel header (built by EncapTemplate, starting
// at the GRE or UDP header because the kernel builds the outer IP header) and the mirrored bytes,
// borrowed from the capture ring. io::Sender sends spans of these with sendmmsg.
#pragma once

#include <cstdint>

namespace portmirror::source {

struct TxSlot {
  const std::uint8_t* header = nullptr;
  std::uint32_t header_len = 0;
  const std::uint8_t* payload = nullptr;
  std::uint32_t payload_len = 0;
};

}  // namespace portmirror::source

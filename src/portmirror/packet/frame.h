// A captured frame as it enters the walk: borrowed bytes plus capture metadata. No ownership, no
// copy.
#pragma once

#include <cstdint>

#include "portmirror/base/bytes.h"
#include "portmirror/base/time.h"
#include "portmirror/packet/link_type.h"

namespace portmirror {

struct Frame {
  ByteSpan data;               // borrowed from a ring, file buffer or receive batch
  std::uint32_t orig_len = 0;  // length on the wire (>= data.size())
  TimestampNs ts = 0;
  LinkType link = LinkType::kEthernet;
  std::uint16_t source_id = 0;  // which file / socket / interface it came from
};

}  // namespace portmirror

#include "portmirror/source/mirror_once.h"

#include <algorithm>

namespace portmirror::source {
namespace {

inline std::uint64_t mix(std::uint64_t h, std::uint64_t v) noexcept {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

}  // namespace

MirrorOnce::MirrorOnce(std::size_t slots_log2, TimestampNs window)
    : slots_(std::size_t{1} << slots_log2),
      mask_((std::size_t{1} << slots_log2) - 1),
      window_(window) {}

std::uint64_t MirrorOnce::fingerprint(ByteSpan frame, const PacketInfo& info) noexcept {
  std::uint64_t h = 0x84222325cbf29ce4ull;
  const std::size_t off = info.l3_offset;
  const std::size_t end = std::min<std::size_t>(frame.size(), off + info.l3_length);
  std::size_t payload = 0;
  if (info.ip_version == 4) {
    const std::size_t ihl = std::size_t{frame[off] & 0x0Fu} * 4;
    h = mix(h, load_be32(frame, off + 12));
    h = mix(h, load_be32(frame, off + 16));
    h = mix(h, (std::uint64_t{load_be16(frame, off + 2)} << 32) |
                   (std::uint64_t{load_be16(frame, off + 4)} << 16) | load_be16(frame, off + 6));
    h = mix(h, frame[off + 9]);
    payload = off + ihl;
  } else {
    h = mix(h, load_be64(frame, off + 8));
    h = mix(h, load_be64(frame, off + 16));
    h = mix(h, load_be64(frame, off + 24));
    h = mix(h, load_be64(frame, off + 32));
    h = mix(h, (std::uint64_t{load_be16(frame, off + 4)} << 32) | info.flow_label);
    h = mix(h, frame[off + 6]);
    payload = off + 40;
  }
  const std::size_t stop = std::min(end, payload + kPayloadBytes);
  std::size_t p = payload;
  for (; p + 8 <= stop; p += 8) h = mix(h, load_be64(frame, p));
  for (; p < stop; ++p) h = mix(h, frame[p]);
  return h == 0 ? 1 : h;
}

bool MirrorOnce::seen_before(ByteSpan frame, const PacketInfo& info, TimestampNs ts) noexcept {
  if (info.ip_version == 0) return false;
  const std::uint64_t fp = fingerprint(frame, info);
  Slot& s = slots_[(fp ^ (fp >> 29)) & mask_];
  if (s.fp == fp && ts - s.ts <= window_ && ts >= s.ts - window_) {
    return true;  // keeps the first sighting's time: the window is counted from it
  }
  s.fp = fp;
  s.ts = ts;
  return false;
}

}  // namespace portmirror::source

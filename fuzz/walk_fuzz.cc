// libFuzzer target for the decapsulation walk (link layer -> outer IP -> tunnel -> inner),
// including outer reassembly across several frames and the socket entry points.
//
// Input: byte 0 = configuration:
//   bits 0-2 link type (Ethernet, RAW, SLL, SLL2, NULL, LOOP, IPV4, IPV6), bit 3 strict,
//   bit 4 --depth all, bits 5-6 entry point (0/3 frame, 1 raw GRE socket, 2 UDP socket: the first
//   frame's first 2 bytes are the destination port), bit 7 orig_len = caplen + 1000 (snap length).
// Then frames, each preceded by a big-endian 16-bit length; a length of 0 or one beyond the input
// means "the rest is one frame". Seeds: fuzz/corpus/walk/ (frames from ../shared/corpus).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "portmirror/collector/decapsulator.h"
#include "portmirror/collector/reassembler.h"

namespace {

constexpr portmirror::LinkType kLinks[8] = {
    portmirror::LinkType::kEthernet,  portmirror::LinkType::kRaw,  portmirror::LinkType::kLinuxSll,
    portmirror::LinkType::kLinuxSll2, portmirror::LinkType::kNull, portmirror::LinkType::kLoop,
    portmirror::LinkType::kIpv4,      portmirror::LinkType::kIpv6};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace portmirror;
  if (size < 1) return 0;
  const std::uint8_t cfg = data[0];
  collector::DecapOptions opts;
  opts.strict = (cfg & 0x08) != 0;
  opts.depth = (cfg & 0x10) != 0 ? collector::kMaxEncapDepth : 1;
  opts.reassembly_max_bytes = 4 * collector::Reassembler::kSlotSize;
  opts.reassembly_max_datagrams = 4;
  opts.tzsp_ports.push_back(31337);
  collector::Decapsulator d(opts);
  const int entry = (cfg >> 5) & 3;
  const IpAddress src = IpAddress::v4(0xC0000201u);
  const IpAddress dst = IpAddress::v4(0xC0000202u);

  std::size_t off = 1;
  std::int64_t ts = 0;
  while (off < size) {
    std::size_t len = size - off;
    if (size - off >= 2) {
      const std::size_t l = (std::size_t{data[off]} << 8) | data[off + 1];
      off += 2;
      len = (l == 0 || l > size - off) ? size - off : l;
    }
    // An exact-size heap copy, so the sanitizer sees any read past the frame.
    std::vector<std::uint8_t> frame(data + off, data + off + len);
    off += len;
    const auto caplen = static_cast<std::uint32_t>(frame.size());
    const std::uint32_t orig = (cfg & 0x80) != 0 ? caplen + 1000 : caplen;
    Decapsulated out;
    collector::DecapResult r;
    if (entry == 1) {
      r = d.decapsulate_gre(frame, src, dst, orig, out);
    } else if (entry == 2 && frame.size() >= 2) {
      const auto port = static_cast<std::uint16_t>((frame[0] << 8) | frame[1]);
      r = d.decapsulate_udp(ByteSpan(frame).subspan(2), src, dst, 1, port, orig - 2, out);
    } else {
      Frame f;
      f.data = frame;
      f.orig_len = orig;
      f.ts = ts;
      f.link = kLinks[cfg & 7];
      r = d.decapsulate(f, out);
    }
    ts += 1000;
    if (r.status == collector::DecapStatus::kInner) {
      // Touch every inner byte: the sanitizer checks the span is inside the frame or the buffer.
      std::uint32_t sum = 0;
      for (auto b : out.inner) sum += b;
      if (out.inner.size() > out.inner_orig_len) __builtin_trap();
      if (sum == 0xFFFFFFFFu) return 1;
    }
  }
  return 0;
}

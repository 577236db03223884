#include "portmirror/source/packet_info.h"

#include <algorithm>
#include <cstring>

namespace portmirror::source {
namespace {

constexpr std::uint16_t kEthIpv4 = 0x0800;
constexpr std::uint16_t kEthIpv6 = 0x86DD;
constexpr std::uint16_t kEthVlan = 0x8100;
constexpr std::uint16_t kEthQinQ = 0x88A8;
constexpr std::uint16_t kEthQinQOld = 0x9100;
constexpr std::size_t kEthHeader = 14;
constexpr int kMaxVlanTags = 2;
constexpr int kMaxIpv6ExtHeaders = 8;

constexpr std::uint8_t kProtoIcmp = 1;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kProtoIcmp6 = 58;
constexpr std::uint8_t kProtoSctp = 132;
constexpr std::uint8_t kProtoUdpLite = 136;

void parse_l4(ByteSpan b, std::size_t off, std::size_t end, PacketInfo& out) noexcept {
  out.l4_offset = static_cast<std::uint32_t>(off);
  const std::size_t avail = end > off ? end - off : 0;
  switch (out.protocol) {
    case kProtoTcp:
      if (avail < 14) return;
      out.src_port = load_be16(b, off);
      out.dst_port = load_be16(b, off + 2);
      out.tcp_flags = b[off + 13];
      out.has_ports = true;
      out.has_l4 = true;
      return;
    case kProtoUdp:
    case kProtoSctp:
    case kProtoUdpLite:
      if (avail < 4) return;
      out.src_port = load_be16(b, off);
      out.dst_port = load_be16(b, off + 2);
      out.has_ports = true;
      out.has_l4 = true;
      return;
    case kProtoIcmp:
    case kProtoIcmp6:
      if (avail < 2) return;
      out.icmp_type = b[off];
      out.icmp_code = b[off + 1];
      out.has_l4 = true;
      return;
    default:
      out.has_l4 = avail > 0;
      return;
  }
}

void parse_ipv4(ByteSpan b, std::size_t off, PacketInfo& out) noexcept {
  if (b.size() < off + 20) return;
  const std::uint8_t vihl = b[off];
  if ((vihl >> 4) != 4) return;
  const std::size_t ihl = std::size_t{vihl & 0x0Fu} * 4;
  if (ihl < 20 || b.size() < off + ihl) return;
  out.ip_version = 4;
  out.dscp = static_cast<std::uint8_t>(b[off + 1] >> 2);
  const std::size_t total = load_be16(b, off + 2);
  out.ip_id = load_be16(b, off + 4);
  const std::uint16_t frag = load_be16(b, off + 6);
  const bool mf = (frag & 0x2000) != 0;
  const std::uint16_t frag_off = frag & 0x1FFF;
  out.fragment = mf || frag_off != 0;
  out.first_fragment = out.fragment && frag_off == 0;
  out.later_fragment = frag_off != 0;
  out.protocol = b[off + 9];
  std::memcpy(out.src.data(), b.data() + off + 12, 4);
  std::memcpy(out.dst.data(), b.data() + off + 16, 4);
  out.l3_offset = static_cast<std::uint32_t>(off);
  const std::size_t end = std::min(b.size(), off + std::max(total, ihl));
  out.l3_length = static_cast<std::uint32_t>(end - off);
  if (frag_off != 0) return;  // no L4 header in non-first fragments (protocols.md §4.5)
  parse_l4(b, off + ihl, end, out);
}

bool is_ipv6_ext(std::uint8_t nh) noexcept {
  return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135 || nh == 139 ||
         nh == 140;
}

void parse_ipv6(ByteSpan b, std::size_t off, PacketInfo& out) noexcept {
  if (b.size() < off + 40) return;
  const std::uint32_t w0 = load_be32(b, off);
  if ((w0 >> 28) != 6) return;
  out.ip_version = 6;
  out.dscp = static_cast<std::uint8_t>((w0 >> 22) & 0x3F);
  out.flow_label = w0 & 0xFFFFF;
  const std::size_t payload = load_be16(b, off + 4);
  std::uint8_t nh = b[off + 6];
  std::memcpy(out.src.data(), b.data() + off + 8, 16);
  std::memcpy(out.dst.data(), b.data() + off + 24, 16);
  out.l3_offset = static_cast<std::uint32_t>(off);
  const std::size_t end = std::min(b.size(), off + 40 + payload);
  out.l3_length = static_cast<std::uint32_t>(end - off);
  std::size_t p = off + 40;
  for (int i = 0; i < kMaxIpv6ExtHeaders && is_ipv6_ext(nh); ++i) {
    if (end < p + 8) {
      out.protocol = nh;
      return;
    }
    const std::uint8_t next = b[p];
    std::size_t len;
    if (nh == 44) {  // fragment header: fixed 8 bytes
      const std::uint16_t fo = load_be16(b, p + 2);
      const bool mf = (fo & 1) != 0;
      const std::uint16_t frag_off = static_cast<std::uint16_t>(fo >> 3);
      out.fragment = true;
      out.first_fragment = frag_off == 0;
      out.later_fragment = frag_off != 0;
      out.ip_id = static_cast<std::uint16_t>(load_be32(b, p + 4));
      (void)mf;
      len = 8;
      if (frag_off != 0) {
        out.protocol = next;
        return;
      }
    } else if (nh == 51) {  // AH: length in 4-octet units minus 2
      len = (std::size_t{b[p + 1]} + 2) * 4;
    } else {
      len = (std::size_t{b[p + 1]} + 1) * 8;
    }
    nh = next;
    p += len;
  }
  out.protocol = nh;
  if (p > end) return;
  parse_l4(b, p, end, out);
}

}  // namespace

bool parse_packet_info(ByteSpan frame, LinkType link, PacketInfo& out) noexcept {
  out = PacketInfo{};
  std::size_t off = 0;
  std::uint16_t type = 0;
  if (link == LinkType::kEthernet) {
    if (frame.size() < kEthHeader) return false;
    type = load_be16(frame, 12);
    off = kEthHeader;
    for (int i = 0;
         i < kMaxVlanTags && (type == kEthVlan || type == kEthQinQ || type == kEthQinQOld); ++i) {
      if (frame.size() < off + 4) return true;
      if (!out.vlan) {
        out.vlan = true;
        out.vlan_tci = load_be16(frame, off);
      }
      type = load_be16(frame, off + 2);
      off += 4;
    }
  } else if (link == LinkType::kRaw || link == LinkType::kIpv4 || link == LinkType::kIpv6) {
    if (frame.empty()) return false;
    type = (frame[0] >> 4) == 6 ? kEthIpv6 : kEthIpv4;
  } else {
    return true;
  }
  if (type == kEthIpv4) {
    parse_ipv4(frame, off, out);
  } else if (type == kEthIpv6) {
    parse_ipv6(frame, off, out);
  }
  return true;
}

std::uint32_t flow_hash(const PacketInfo& info) noexcept {
  // Order the two endpoints so that both directions hash alike, then mix (splitmix64 finaliser).
  const std::size_t alen = info.ip_version == 6 ? 16 : 4;
  std::uint64_t a = 0xcbf29ce484222325ull;
  std::uint64_t b = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < alen; ++i) {
    a = (a ^ info.src[i]) * 0x100000001b3ull;
    b = (b ^ info.dst[i]) * 0x100000001b3ull;
  }
  a ^= info.src_port;
  b ^= info.dst_port;
  std::uint64_t x = (a < b ? a * 31 + b : b * 31 + a) ^ info.protocol;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return static_cast<std::uint32_t>(x ^ (x >> 32));
}

}  // namespace portmirror::source

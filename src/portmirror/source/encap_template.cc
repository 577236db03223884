#include "portmirror/source/encap_template.h"

#include <cstring>

#include "portmirror/wire/checksum.h"
#include "portmirror/wire/erspan.h"
#include "portmirror/wire/ethernet.h"
#include "portmirror/wire/gre.h"
#include "portmirror/wire/ipv4.h"
#include "portmirror/wire/ipv6.h"
#include "portmirror/wire/udp.h"
#include "portmirror/wire/vxlan.h"

namespace portmirror::source {
namespace {

constexpr std::uint16_t kProtoKeepalive = 0x0000;  // protocols.md §1.2
constexpr std::uint8_t kIpProtoGre = 47;
constexpr std::uint8_t kIpProtoUdp = 17;
constexpr std::uint32_t kErspanEnTagged = 3;  // tag preserved in the frame
constexpr std::uint32_t kBsoShort = 1, kBsoOversized = 2;
constexpr std::uint32_t kEthZlen = 60, kEthFrameLen = 1514;

constexpr std::uint16_t kVxlanPortLow = 49152;

}  // namespace

Result<EncapTemplate> EncapTemplate::build(const config::TunnelConfig& t, const IpAddress& source,
                                           bool dont_fragment) {
  if (t.destination.empty()) return make_error(ExitCode::kUsage, "tunnel without a destination");
  if (source.family() != t.destination.family()) {
    return make_error(ExitCode::kConfig, "tunnel source " + source.to_string() +
                                             " and destination " + t.destination.to_string() +
                                             " are of different address families");
  }
  if (t.erspan_session > 1023)
    return make_error(ExitCode::kUsage, "ERSPAN session ID must be 0-1023");
  if (t.erspan_index > 0xFFFFF)
    return make_error(ExitCode::kUsage, "ERSPAN index must fit 20 bits");
  if (t.erspan_hw_id > 63) return make_error(ExitCode::kUsage, "ERSPAN hardware ID must be 0-63");
  if (t.erspan_gra > 3) return make_error(ExitCode::kUsage, "ERSPAN granularity must be 0-3");
  if (t.vni > 0xFFFFFF) return make_error(ExitCode::kUsage, "VXLAN VNI must fit 24 bits");
  if (t.ttl == 0) return make_error(ExitCode::kUsage, "TTL must be 1-255");
  if (t.dscp > 63) return make_error(ExitCode::kUsage, "DSCP must be 0-63");

  EncapTemplate e;
  e.kind_ = t.encap;
  e.v6_ = t.destination.is_v6();
  e.erspan_gra_ = t.erspan_gra;
  auto b = MutableByteSpan(e.bytes_);
  const bool vxlan = t.encap == config::EncapKind::kVxlan;
  const bool erspan =
      t.encap == config::EncapKind::kErspan2 || t.encap == config::EncapKind::kErspan3;

  // Outer IP header; lengths, identification and checksum are patched per copy.
  const std::uint8_t proto = vxlan ? kIpProtoUdp : kIpProtoGre;
  if (!e.v6_) {
    wire::Ipv4Header ip;
    ip.dscp = t.dscp;
    ip.dont_fragment = dont_fragment;
    ip.time_to_live = t.ttl;
    ip.protocol = proto;
    std::memcpy(ip.source.data(), source.bytes().data(), 4);
    std::memcpy(ip.destination.data(), t.destination.bytes().data(), 4);
    ip.write_to(b);
    e.ip_size_ = static_cast<std::uint16_t>(ip.size());
  } else {
    wire::Ipv6Header ip;
    ip.traffic_class = static_cast<std::uint8_t>(t.dscp << 2);
    ip.next_header = proto;
    ip.hop_limit = t.ttl;
    std::memcpy(ip.source.data(), source.bytes().data(), 16);
    std::memcpy(ip.destination.data(), t.destination.bytes().data(), 16);
    ip.write_to(b);
    e.ip_size_ = static_cast<std::uint16_t>(ip.size());
  }
  std::size_t p = e.ip_size_;
  if (vxlan) {
    wire::UdpHeader udp;  // source port and length per copy; checksum 0 over IPv4 (RFC 7348 §5)
    udp.destination_port = t.udp_port;
    udp.write_to(b.subspan(p));
    p += udp.size();
    wire::VxlanHeader vx;
    vx.vni = t.vni;
    vx.write_to(b.subspan(p));
    p += vx.size();
  } else {
    wire::GreHeader gre;
    switch (t.encap) {
      case config::EncapKind::kGre:
        gre.protocol_type = wire::ethertype::kIpv4;
        break;
      case config::EncapKind::kGreEth:
        gre.protocol_type = wire::ethertype::kTeb;
        break;
      case config::EncapKind::kErspan2:
        gre.protocol_type = wire::ethertype::kErspan12;
        break;
      case config::EncapKind::kErspan3:
        gre.protocol_type = wire::ethertype::kErspan3;
        break;
      case config::EncapKind::kVxlan:
        break;
    }
    // ERSPAN II/III: only S may be set (§2.1, §2.9); the session ID plays the key's role.
    e.gre_checksum_ = !erspan && t.checksum;
    e.gre_sequence_ = erspan || t.sequence;
    gre.checksum_present = e.gre_checksum_;
    if (!erspan && t.key) gre.key = *t.key;
    if (e.gre_sequence_) gre.sequence = 0;
    gre.write_to(b.subspan(p));
    e.off_csum_ = 4;
    e.off_seq_ = static_cast<std::uint16_t>(gre.sequence_offset());
    e.gre_size_ = static_cast<std::uint16_t>(gre.size());
    p += gre.size();
    if (t.encap == config::EncapKind::kErspan2) {
      wire::Erspan2Header x;
      x.session_id = t.erspan_session;
      x.index = t.erspan_index;
      x.write_to(b.subspan(p));
      p += x.size();
    } else if (t.encap == config::EncapKind::kErspan3) {
      wire::Erspan3Header x;  // P=1, FT=0 (Ethernet), as §2.9 asks
      x.session_id = t.erspan_session;
      x.hw_id = t.erspan_hw_id;
      x.gra = t.erspan_gra;
      x.write_to(b.subspan(p));
      p += x.size();
    }
  }
  e.size_ = static_cast<std::uint16_t>(p);
  return e;
}

std::size_t EncapTemplate::write(MutableByteSpan out, ByteSpan payload,
                                 const EncapMeta& m) noexcept {
  PM_DCHECK(out.size() >= size_);
  std::memcpy(out.data(), bytes_.data(), size_);
  const std::size_t t = ip_size_;
  const std::size_t tunnel_len = std::size_t{size_} - ip_size_ + payload.size();
  if (kind_ == config::EncapKind::kVxlan) {
    // RFC 7348 §5: source port from the inner flow hash, in 49152-65535 (avoid 49152 exactly,
    // which tcpdump prints as BCM-LI).
    const auto sport = static_cast<std::uint16_t>(kVxlanPortLow + 1 + (m.flow_hash % 16383));
    store_be16(out, t, sport);
    store_be16(out, t + wire::UdpHeader::kLengthOffset, static_cast<std::uint16_t>(tunnel_len));
  } else {
    const std::size_t g = t;
    if (kind_ == config::EncapKind::kGre && !payload.empty() && (payload[0] >> 4) == 6) {
      store_be16(out, g + 2, wire::ethertype::kIpv6);
    }
    if (gre_sequence_) store_be32(out, g + off_seq_, seq_++);
    const std::size_t x = g + gre_size_;  // ERSPAN header
    if (kind_ == config::EncapKind::kErspan2 || kind_ == config::EncapKind::kErspan3) {
      std::uint32_t w0 = load_be32(out, x);
      if (m.vlan) {
        w0 |= (std::uint32_t{m.vlan_tci} << wire::erspan::kVlanShift) & wire::erspan::kVlanMask;
        w0 |= (std::uint32_t{static_cast<std::uint32_t>(m.vlan_tci >> 13)}
               << wire::erspan::kCosShift) &
              wire::erspan::kCosMask;
      }
      if (m.truncated) w0 |= wire::erspan::kTruncatedBit;
      if (kind_ == config::EncapKind::kErspan2) {
        if (m.vlan) w0 |= kErspanEnTagged << wire::erspan::kEnShift;
      } else {
        const std::size_t orig = m.original_length != 0 ? m.original_length : payload.size();
        if (orig < kEthZlen) {
          w0 |= kBsoShort << wire::erspan::kEnShift;
        } else if (orig > kEthFrameLen + (m.vlan ? 4u : 0u)) {
          w0 |= kBsoOversized << wire::erspan::kEnShift;
        }
        std::uint32_t ts = 0;
        const auto ns = static_cast<std::uint64_t>(m.ts);
        switch (erspan_gra_) {
          case 0:
            ts = static_cast<std::uint32_t>(ns / 100'000);
            break;  // 100 µs
          case 1:
            ts = static_cast<std::uint32_t>(ns / 100);
            break;  // 100 ns
          case 2:
            ts = static_cast<std::uint32_t>(ns % 1'000'000'000);
            break;  // IEEE 1588 ns
          default:
            ts = static_cast<std::uint32_t>(ns / 100'000);
            break;
        }
        store_be32(out, x + wire::Erspan3Header::kTimestampOffset, ts);
        if (m.egress) store_be32(out, x + 8, load_be32(out, x + 8) | wire::erspan::kDirectionBit);
      }
      store_be32(out, x, w0);
    }
    if (gre_checksum_) {
      // RFC 2784 §2.5: over the GRE header (checksum field 0) and the payload.
      std::uint32_t s = wire::checksum_add(ByteSpan(out.data() + g, std::size_t{size_} - g));
      s = wire::checksum_add(payload, s);
      store_be16(out, g + off_csum_, wire::checksum_fold(s));
    }
  }
  if (!v6_) {
    const std::size_t total = ip_size_ + tunnel_len;
    store_be16(out, wire::Ipv4Header::kTotalLengthOffset, static_cast<std::uint16_t>(total));
    store_be16(out, wire::Ipv4Header::kIdentificationOffset, ip_id_++);
    store_be16(out, wire::Ipv4Header::kChecksumOffset, 0);
    store_be16(out, wire::Ipv4Header::kChecksumOffset,
               wire::internet_checksum(ByteSpan(out.data(), ip_size_)));
  } else {
    store_be16(out, wire::Ipv6Header::kPayloadLengthOffset, static_cast<std::uint16_t>(tunnel_len));
    if (kind_ == config::EncapKind::kVxlan) {
      // UDP over IPv6 needs a checksum: pseudo-header + UDP header + VXLAN + payload.
      std::uint32_t s = wire::checksum_add(ByteSpan(out.data() + 8, 32));
      s += static_cast<std::uint32_t>(tunnel_len >> 16) +
           static_cast<std::uint32_t>(tunnel_len & 0xFFFF);
      s += 17;
      s = wire::checksum_add(ByteSpan(out.data() + t, std::size_t{size_} - t), s);
      s = wire::checksum_add(payload, s);
      std::uint16_t c = wire::checksum_fold(s);
      if (c == 0) c = 0xFFFF;
      store_be16(out, t + 6, c);
    }
  }
  return size_;
}

std::size_t EncapTemplate::write_keepalive(MutableByteSpan out) noexcept {
  if (kind_ == config::EncapKind::kVxlan) return 0;
  const std::size_t g = ip_size_;
  const std::size_t n = g + gre_size_;
  std::memcpy(out.data(), bytes_.data(), n);
  store_be16(out, g + 2, kProtoKeepalive);
  if (gre_sequence_) store_be32(out, g + off_seq_, seq_++);
  if (gre_checksum_) {
    store_be16(out, g + off_csum_, 0);
    store_be16(out, g + off_csum_, wire::internet_checksum(ByteSpan(out.data() + g, gre_size_)));
  }
  if (!v6_) {
    store_be16(out, 2, static_cast<std::uint16_t>(n));
    store_be16(out, 4, ip_id_++);
    store_be16(out, 10, 0);
    store_be16(out, 10, wire::internet_checksum(ByteSpan(out.data(), 20)));
  } else {
    store_be16(out, 4, gre_size_);
  }
  return n;
}

}  // namespace portmirror::source

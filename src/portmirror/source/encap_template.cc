#include "portmirror/source/encap_template.h"

#include <cstring>


namespace portmirror::source {
namespace wire {  // TEMPORARY until wire/checksum.h lands on main (decap helper): RFC 1071.
inline std::uint32_t checksum_add(ByteSpan b, std::uint32_t sum = 0) noexcept {
  std::size_t i = 0;
  for (; i + 1 < b.size(); i += 2) sum += static_cast<std::uint32_t>((b[i] << 8) | b[i + 1]);
  if (i < b.size()) sum += static_cast<std::uint32_t>(b[i] << 8);
  while ((sum >> 16) != 0) sum = (sum & 0xFFFFu) + (sum >> 16);
  return sum;
}
constexpr std::uint16_t checksum_fold(std::uint32_t sum) noexcept {
  while ((sum >> 16) != 0) sum = (sum & 0xFFFFu) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xFFFFu);
}
inline std::uint16_t internet_checksum(ByteSpan b) noexcept { return checksum_fold(checksum_add(b)); }
}  // namespace wire
namespace {

// GRE flags word (protocols.md §1.1).
constexpr std::uint16_t kGreC = 0x8000;
constexpr std::uint16_t kGreK = 0x2000;
constexpr std::uint16_t kGreS = 0x1000;
constexpr std::uint16_t kProtoIpv4 = 0x0800;
constexpr std::uint16_t kProtoIpv6 = 0x86DD;
constexpr std::uint16_t kProtoTeb = 0x6558;
constexpr std::uint16_t kProtoErspan2 = 0x88BE;
constexpr std::uint16_t kProtoErspan3 = 0x22EB;
constexpr std::uint16_t kProtoKeepalive = 0x0000;

// ERSPAN word 0 (Type II and III, §2.2/§2.3).
constexpr std::uint32_t kErspanVerShift = 28;
constexpr std::uint32_t kErspanVlanShift = 16;  // 0x0FFF0000
constexpr std::uint32_t kErspanCosShift = 13;   // 0x0000E000
constexpr std::uint32_t kErspanEnShift = 11;    // 0x00001800 (Type II En, Type III BSO)
constexpr std::uint32_t kErspanT = 0x00000400;
constexpr std::uint32_t kErspanSessionMask = 0x000003FF;
// ERSPAN III word 2.
constexpr std::uint32_t kErspan3P = 0x00008000;
constexpr std::uint32_t kErspan3HwShift = 4;  // 0x000003F0
constexpr std::uint32_t kErspan3D = 0x00000008;
constexpr std::uint32_t kErspan3GraShift = 1;  // 0x00000006
constexpr std::uint32_t kErspanEnTagged = 3;   // tag preserved in the frame
constexpr std::uint32_t kBsoShort = 1, kBsoOversized = 2;
constexpr std::uint32_t kEthZlen = 60, kEthFrameLen = 1514;

constexpr std::uint16_t kVxlanPortLow = 49152;

// Sum of 16-bit words of `b` (unfolded) — for the IPv6 UDP pseudo-header.
std::uint32_t sum_words(ByteSpan b, std::uint32_t s = 0) noexcept { return wire::checksum_add(b, s); }

}  // namespace

Result<EncapTemplate> EncapTemplate::build(const config::TunnelConfig& t, const IpAddress& source,
                                           bool dont_fragment) {
  if (t.destination.empty()) return make_error(ExitCode::kUsage, "tunnel without a destination");
  if (source.family() != t.destination.family()) {
    return make_error(ExitCode::kConfig, "tunnel source " + source.to_string() + " and destination " +
                                             t.destination.to_string() +
                                             " are of different address families");
  }
  if (t.erspan_session > 1023) return make_error(ExitCode::kUsage, "ERSPAN session ID must be 0-1023");
  if (t.erspan_index > 0xFFFFF) return make_error(ExitCode::kUsage, "ERSPAN index must fit 20 bits");
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
  const bool erspan = t.encap == config::EncapKind::kErspan2 || t.encap == config::EncapKind::kErspan3;
  const std::uint8_t proto = vxlan ? 17 : 47;

  // Outer IP header; lengths, identification and checksum are patched per copy.
  if (!e.v6_) {
    e.ip_size_ = 20;
    b[0] = 0x45;
    b[1] = static_cast<std::uint8_t>(t.dscp << 2);
    store_be16(b, 6, dont_fragment ? 0x4000 : 0);
    b[8] = t.ttl;
    b[9] = proto;
    std::memcpy(b.data() + 12, source.bytes().data(), 4);
    std::memcpy(b.data() + 16, t.destination.bytes().data(), 4);
  } else {
    e.ip_size_ = 40;
    store_be32(b, 0, (6u << 28) | (std::uint32_t{t.dscp} << 22));
    b[6] = proto;
    b[7] = t.ttl;
    std::memcpy(b.data() + 8, source.bytes().data(), 16);
    std::memcpy(b.data() + 24, t.destination.bytes().data(), 16);
  }
  std::size_t p = e.ip_size_;
  if (vxlan) {
    store_be16(b, p + 2, t.udp_port);  // source port and length per copy; checksum 0 over IPv4
    p += 8;
    b[p] = 0x08;                        // I flag
    store_be32(b, p + 4, t.vni << 8);
    p += 8;
  } else {
    std::uint16_t flags = 0;
    std::uint16_t gproto = kProtoIpv4;
    switch (t.encap) {
      case config::EncapKind::kGre: gproto = kProtoIpv4; break;
      case config::EncapKind::kGreEth: gproto = kProtoTeb; break;
      case config::EncapKind::kErspan2: gproto = kProtoErspan2; break;
      case config::EncapKind::kErspan3: gproto = kProtoErspan3; break;
      case config::EncapKind::kVxlan: break;
    }
    // ERSPAN II/III: only S may be set (§2.1, §2.9); the session ID replaces the key.
    e.gre_checksum_ = !erspan && t.checksum;
    e.gre_sequence_ = erspan || t.sequence;
    const bool key = !erspan && t.key.has_value();
    if (e.gre_checksum_) flags |= kGreC;
    if (key) flags |= kGreK;
    if (e.gre_sequence_) flags |= kGreS;
    store_be16(b, p, flags);
    store_be16(b, p + 2, gproto);
    std::size_t g = 4;
    if (e.gre_checksum_) {
      e.off_csum_ = static_cast<std::uint16_t>(g);
      g += 4;
    }
    if (key) {
      store_be32(b, p + g, *t.key);
      g += 4;
    }
    if (e.gre_sequence_) {
      e.off_seq_ = static_cast<std::uint16_t>(g);
      g += 4;
    }
    e.gre_size_ = static_cast<std::uint16_t>(g);
    p += g;
    if (t.encap == config::EncapKind::kErspan2) {
      store_be32(b, p, (1u << kErspanVerShift) | (t.erspan_session & kErspanSessionMask));
      store_be32(b, p + 4, t.erspan_index & 0xFFFFF);
      p += 8;
    } else if (t.encap == config::EncapKind::kErspan3) {
      store_be32(b, p, (2u << kErspanVerShift) | (t.erspan_session & kErspanSessionMask));
      store_be32(b, p + 8, kErspan3P | (std::uint32_t{t.erspan_hw_id} << kErspan3HwShift) |
                               (std::uint32_t{t.erspan_gra} << kErspan3GraShift));
      p += 12;
    }
  }
  e.size_ = static_cast<std::uint16_t>(p);
  return e;
}

std::size_t EncapTemplate::write(MutableByteSpan out, ByteSpan payload, const EncapMeta& m) noexcept {
  PM_DCHECK(out.size() >= size_);
  std::memcpy(out.data(), bytes_.data(), size_);
  const std::size_t t = ip_size_;
  const std::size_t tunnel_len = std::size_t{size_} - ip_size_ + payload.size();
  if (kind_ == config::EncapKind::kVxlan) {
    // RFC 7348 §5: source port from the inner flow hash, in 49152-65535 (avoid 49152 exactly,
    // which tcpdump prints as BCM-LI).
    std::uint16_t sport = static_cast<std::uint16_t>(kVxlanPortLow + 1 + (m.flow_hash % 16383));
    store_be16(out, t, sport);
    store_be16(out, t + 4, static_cast<std::uint16_t>(tunnel_len));
  } else {
    const std::size_t g = t;
    if (kind_ == config::EncapKind::kGre && !payload.empty() && (payload[0] >> 4) == 6) {
      store_be16(out, g + 2, kProtoIpv6);
    }
    if (gre_sequence_) store_be32(out, g + off_seq_, seq_++);
    const std::size_t x = g + gre_size_;  // ERSPAN header
    if (kind_ == config::EncapKind::kErspan2 || kind_ == config::EncapKind::kErspan3) {
      std::uint32_t w0 = load_be32(out, x);
      if (m.vlan) {
        w0 |= std::uint32_t{m.vlan_tci & 0x0FFFu} << kErspanVlanShift;
        w0 |= std::uint32_t{static_cast<std::uint32_t>(m.vlan_tci >> 13) & 7u} << kErspanCosShift;
      }
      if (m.truncated) w0 |= kErspanT;
      if (kind_ == config::EncapKind::kErspan2) {
        if (m.vlan) w0 |= kErspanEnTagged << kErspanEnShift;
      } else {
        const std::size_t orig = m.original_length != 0 ? m.original_length : payload.size();
        if (orig < kEthZlen) {
          w0 |= kBsoShort << kErspanEnShift;
        } else if (orig > kEthFrameLen + (m.vlan ? 4u : 0u)) {
          w0 |= kBsoOversized << kErspanEnShift;
        }
        std::uint32_t ts = 0;
        const auto ns = static_cast<std::uint64_t>(m.ts);
        switch (erspan_gra_) {
          case 0: ts = static_cast<std::uint32_t>(ns / 100'000); break;  // 100 µs
          case 1: ts = static_cast<std::uint32_t>(ns / 100); break;      // 100 ns
          case 2: ts = static_cast<std::uint32_t>(ns % 1'000'000'000); break;  // IEEE 1588 ns
          default: ts = static_cast<std::uint32_t>(ns / 100'000); break;
        }
        store_be32(out, x + 4, ts);
        if (m.egress) out[x + 11] = static_cast<std::uint8_t>(out[x + 11] | kErspan3D);
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
    store_be16(out, 2, static_cast<std::uint16_t>(total));
    store_be16(out, 4, ip_id_++);
    store_be16(out, 10, 0);
    store_be16(out, 10, wire::internet_checksum(ByteSpan(out.data(), 20)));
  } else {
    store_be16(out, 4, static_cast<std::uint16_t>(tunnel_len));
    if (kind_ == config::EncapKind::kVxlan) {
      // UDP over IPv6 needs a checksum: pseudo-header + UDP header + VXLAN + payload.
      std::uint32_t s = sum_words(ByteSpan(out.data() + 8, 32));
      s += static_cast<std::uint32_t>(tunnel_len >> 16) + static_cast<std::uint32_t>(tunnel_len & 0xFFFF);
      s += 17;
      s = sum_words(ByteSpan(out.data() + t, std::size_t{size_} - t), s);
      s = sum_words(payload, s);
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

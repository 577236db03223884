#include "portmirror/packet/layer_walk.h"

#include <algorithm>

#include "portmirror/wire/checksum.h"
#include "portmirror/wire/erspan.h"
#include "portmirror/wire/ethernet.h"
#include "portmirror/wire/geneve.h"
#include "portmirror/wire/gre.h"
#include "portmirror/wire/ipv4.h"
#include "portmirror/wire/ipv6.h"
#include "portmirror/wire/linux_sll.h"
#include "portmirror/wire/null_loop.h"
#include "portmirror/wire/tzsp.h"
#include "portmirror/wire/udp.h"
#include "portmirror/wire/vxlan.h"

namespace portmirror::packet {

namespace w = portmirror::wire;
using C = DecapCounter;

// Per-walk state: where tunnel metadata goes (the caller's TunnelInfo for the outermost tunnel, a
// scratch one for deeper layers), the reason of a non-inner outcome and informational bits.
struct LayerWalker::Ctx {
  TunnelInfo* tunnel;
  bool allow_fragment;
  DecapCounter reason = DecapCounter::kCount;
  std::uint8_t info = kInfoNone;
  OuterFragment fragment{};
};

namespace {

// A header of `need` octets: malformed if the layer's own length is shorter, truncated if only the
// capture is.
inline bool short_of(std::size_t need, std::size_t cap, std::uint32_t orig,
                     bool& truncated) noexcept {
  if (orig < need) {
    truncated = false;
    return true;
  }
  if (cap < need) {
    truncated = true;
    return true;
  }
  return false;
}

// The length the inner packet's own IP header claims (Ethernet with up to two VLAN tags, or IP),
// 0 when it has none. A mirror that cut its copies (Junos maximum-packet-length, ERSPAN's T bit,
// our --max-length or MTU clip) sends an inner packet whose IP header still says how long the
// original was: the record then keeps that original length, as a capture cut by its snap length
// does, so readers show the packet as cut rather than as a short packet.
std::uint32_t claimed_inner_len(ByteSpan b, LinkType link) noexcept {
  std::size_t off = 0;
  std::uint16_t type = 0;
  if (link == LinkType::kEthernet) {
    if (b.size() < 14) return 0;
    type = load_be16(b, 12);
    off = 14;
    for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88A8); ++tags) {
      if (b.size() < off + 4) return 0;
      type = load_be16(b, off + 2);
      off += 4;
    }
  } else if (link == LinkType::kRaw || link == LinkType::kIpv4 || link == LinkType::kIpv6) {
    if (b.empty()) return 0;
    type = (b[0] >> 4) == 4 ? 0x0800 : (b[0] >> 4) == 6 ? 0x86DD : 0;
  } else {
    return 0;
  }
  if (type == 0x0800 && b.size() >= off + 4 && (b[off] >> 4) == 4) {
    return static_cast<std::uint32_t>(off) + load_be16(b, off + 2);
  }
  if (type == 0x86DD && b.size() >= off + 6 && (b[off] >> 4) == 6) {
    std::uint16_t plen = load_be16(b, off + 4);  // 0: jumbogram, length unknown here
    return plen == 0 ? 0 : static_cast<std::uint32_t>(off) + 40u + plen;
  }
  return 0;
}

constexpr bool may_carry_tunnel(std::uint8_t protocol) noexcept {
  return protocol == w::ipproto::kGre || protocol == w::ipproto::kUdp;
}

}  // namespace

LayerWalker::LayerWalker(const WalkConfig& config) noexcept : config_(config) {
  for (auto p : config.vxlan_ports) port_kind_[p] = PortKind::kVxlan;
  for (auto p : config.geneve_ports) port_kind_[p] = PortKind::kGeneve;
  for (auto p : config.tzsp_ports) port_kind_[p] = PortKind::kTzsp;
  // The spans are only read here; do not keep references to the caller's vectors.
  config_.vxlan_ports = {};
  config_.geneve_ports = {};
  config_.tzsp_ports = {};
  config_.depth = std::clamp(config_.depth, 1, kMaxEncapDepth);
}

// ---------------------------------------------------------------------------------------------
// Link layer

LayerWalker::Step LayerWalker::from_link(LinkType link, Layer f, Ctx& c, Layer& ip,
                                         Found& found) const noexcept {
  auto sub = [&f](std::size_t n) {
    return Layer{f.cap.subspan(n), f.orig - static_cast<std::uint32_t>(n)};
  };
  switch (link) {
    case LinkType::kEthernet: {
      auto eth = w::EthernetView::parse(f.cap);
      if (!eth) {
        c.reason = C::kLinkTruncated;
        return Step::kDropped;
      }
      return from_ethertype(eth->ethertype(), sub(w::EthernetView::kSize), c, ip);
    }
    case LinkType::kRaw:
      if (f.cap.empty()) {
        c.reason = C::kLinkTruncated;
        return Step::kDropped;
      }
      ip = f;
      return Step::kIp;
    case LinkType::kIpv4:
    case LinkType::kIpv6:
      ip = f;
      return Step::kIp;
    case LinkType::kNull:
    case LinkType::kLoop: {
      auto lo = w::LoopbackView::parse(f.cap, link == LinkType::kLoop);
      if (!lo) {
        c.reason = C::kLinkTruncated;
        return Step::kDropped;
      }
      if (!lo->is_ipv4() && !lo->is_ipv6()) {
        c.reason = C::kLinkUnsupported;
        return Step::kUntunnelled;
      }
      ip = sub(w::LoopbackView::kSize);
      return Step::kIp;
    }
    case LinkType::kLinuxSll:
    case LinkType::kLinuxSll2: {
      w::CookedFields cf;
      std::size_t hl;
      if (link == LinkType::kLinuxSll) {
        auto v = w::LinuxSllView::parse(f.cap);
        if (!v) {
          c.reason = C::kLinkTruncated;
          return Step::kDropped;
        }
        cf = v->fields();
        hl = w::LinuxSllView::kSize;
      } else {
        auto v = w::LinuxSll2View::parse(f.cap);
        if (!v) {
          c.reason = C::kLinkTruncated;
          return Step::kDropped;
        }
        cf = v->fields();
        hl = w::LinuxSll2View::kSize;
      }
      if (cf.arphrd_type == w::arphrd::kIpGre || cf.arphrd_type == w::arphrd::kIp6Gre) {
        // protocols.md §5.4: a capture on a kernel GRE device. The payload is already
        // decapsulated and the protocol field is the GRE protocol type; the link address, when it
        // has an address's length, is the outer sender. No outer receiver is known.
        TunnelInfo& t = *c.tunnel;
        t.encap = Encap::kGre;
        if (cf.address.size() == 4) t.outer_src = IpAddress::v4(cf.address);
        t.gre_proto = cf.protocol;
        return gre_protocol(cf.protocol, /*sequence_bit=*/false, sub(hl), c, found);
      }
      return from_ethertype(cf.protocol, sub(hl), c, ip);
    }
  }
  c.reason = C::kLinkUnsupported;
  return Step::kDropped;
}

LayerWalker::Step LayerWalker::from_ethertype(std::uint16_t et, Layer p, Ctx& c,
                                              Layer& ip) const noexcept {
  std::uint32_t tags = 0;
  while (w::ethertype::is_vlan_tpid(et)) {
    if (++tags > config_.max_vlan_tags) {
      c.reason = C::kVlanTooDeep;
      return Step::kDropped;
    }
    auto v = w::VlanView::parse(p.cap);
    if (!v) {
      c.reason = C::kLinkTruncated;
      return Step::kDropped;
    }
    et = v->ethertype();
    p = Layer{p.cap.subspan(w::VlanView::kSize),
              p.orig - static_cast<std::uint32_t>(w::VlanView::kSize)};
  }
  if (et != w::ethertype::kIpv4 && et != w::ethertype::kIpv6) {
    c.reason = C::kLinkUnsupported;
    return Step::kUntunnelled;
  }
  ip = p;
  return Step::kIp;
}

// ---------------------------------------------------------------------------------------------
// Outer IP

LayerWalker::Step LayerWalker::from_ip(Layer ip, Ctx& c, Found& found) const noexcept {
  if (ip.cap.empty()) {
    c.reason = ip.orig == 0 ? C::kIpv4Malformed : C::kIpv4Truncated;
    return Step::kDropped;
  }
  const std::uint8_t version = ip.cap[0] >> 4;
  TunnelInfo& t = *c.tunnel;
  std::uint8_t protocol;
  Layer l4;
  if (version == 4) {
    auto v = w::Ipv4View::parse(ip.cap);
    if (!v) {
      const std::uint32_t hl = static_cast<std::uint32_t>(ip.cap[0] & 0x0F) * 4;
      c.reason = v.error() == w::ParseError::kTruncated && ip.orig >= hl ? C::kIpv4Truncated
                                                                         : C::kIpv4Malformed;
      return Step::kDropped;
    }
    const std::size_t hl = v->header_length();
    std::uint32_t total = v->total_length();
    if (total == 0 && ip.orig > hl) {
      // Linux BIG TCP for IPv4 (and TSO captures) write Total Length 0: take it from the frame.
      total = ip.orig;
      c.info |= kInfoLengthFromFrame;
    }
    if (total < hl || total > ip.orig || hl > ip.orig) {
      c.reason = C::kIpv4Malformed;
      return Step::kDropped;
    }
    const ByteSpan dgram = ip.cap.first(std::min<std::size_t>(total, ip.cap.size()));
    if (v->is_fragment()) {
      // Only datagrams that can hold a tunnel are worth reassembly memory.
      if (!c.allow_fragment || !may_carry_tunnel(v->protocol())) {
        c.reason = C::kIpUnsupported;
        return Step::kUntunnelled;
      }
      c.fragment = OuterFragment{dgram, total, false, static_cast<std::uint16_t>(hl)};
      return Step::kFragment;
    }
    t.outer_src = IpAddress::v4(v->source());
    t.outer_dst = IpAddress::v4(v->destination());
    t.has_outer_ttl = true;
    t.outer_ttl = v->time_to_live();
    protocol = v->protocol();
    l4 = Layer{dgram.subspan(hl), total - static_cast<std::uint32_t>(hl)};
  } else if (version == 6) {
    auto v = w::Ipv6View::parse(ip.cap);
    if (!v) {
      c.reason = ip.orig >= w::Ipv6View::kSize ? C::kIpv6Truncated : C::kIpv6Malformed;
      return Step::kDropped;
    }
    std::uint32_t plen = v->payload_length();
    if (ip.orig < w::Ipv6View::kSize) {
      c.reason = C::kIpv6Malformed;
      return Step::kDropped;
    }
    if (plen == 0 && ip.orig > w::Ipv6View::kSize) {
      // Payload Length 0: a jumbogram (RFC 2675) or Linux BIG TCP, which sends no jumbo option at
      // all (tcpdump bigtcp-ipv6 capture). Take the length from the frame.
      plen = ip.orig - static_cast<std::uint32_t>(w::Ipv6View::kSize);
      c.info |= kInfoLengthFromFrame;
    }
    if (plen + w::Ipv6View::kSize > ip.orig) {
      c.reason = C::kIpv6Malformed;
      return Step::kDropped;
    }
    const std::uint32_t total = plen + static_cast<std::uint32_t>(w::Ipv6View::kSize);
    const ByteSpan dgram = ip.cap.first(std::min<std::size_t>(total, ip.cap.size()));
    const ByteSpan payload = dgram.subspan(w::Ipv6View::kSize);
    auto up = w::skip_ipv6_extensions(payload, v->next_header());
    if (!up) {
      const bool cut = up.error() == w::ParseError::kTruncated && payload.size() < plen;
      c.reason = cut ? C::kIpv6Truncated : C::kIpv6Malformed;
      return Step::kDropped;
    }
    if (up->has_fragment) {
      auto fh = w::Ipv6FragmentView::parse(payload.subspan(up->fragment_header_offset));
      if (fh && !fh->is_atomic()) {
        if (!c.allow_fragment ||
            !(may_carry_tunnel(up->protocol) || w::is_ipv6_extension(up->protocol))) {
          c.reason = C::kIpUnsupported;
          return Step::kUntunnelled;
        }
        c.fragment = OuterFragment{
            dgram, total, true,
            static_cast<std::uint16_t>(w::Ipv6View::kSize + up->fragment_header_offset)};
        return Step::kFragment;
      }
    }
    t.outer_src = IpAddress::v6(v->source());
    t.outer_dst = IpAddress::v6(v->destination());
    t.has_outer_ttl = true;
    t.outer_ttl = v->hop_limit();
    protocol = up->protocol;
    l4 = Layer{payload.subspan(up->offset), plen - static_cast<std::uint32_t>(up->offset)};
  } else {
    c.reason = C::kIpv4Malformed;  // neither version: nothing to blame but the IP layer
    return Step::kDropped;
  }

  switch (protocol) {
    case w::ipproto::kGre:
      return from_gre(l4, c, found);
    case w::ipproto::kUdp:
      return from_udp(l4, c, found);
    default:
      c.reason = C::kIpUnsupported;
      return Step::kUntunnelled;
  }
}

LayerWalker::Step LayerWalker::from_udp(Layer u, Ctx& c, Found& found) const noexcept {
  bool cut;
  if (short_of(w::UdpView::kSize, u.cap.size(), u.orig, cut)) {
    c.reason = cut ? C::kUdpTruncated : C::kUdpMalformed;
    return Step::kDropped;
  }
  auto v = w::UdpView::parse(u.cap);
  const PortKind kind = port_kind_[v->destination_port()];
  if (kind == PortKind::kNone) {
    c.reason = C::kUdpUnsupported;
    return Step::kUntunnelled;
  }
  std::uint32_t len = v->length();
  if (len == 0) {
    len = u.orig;  // RFC 2675 §4 jumbogram / BIG TCP: the IP layer gives the length
  } else if (len < w::UdpView::kSize || len > u.orig) {
    c.reason = C::kUdpMalformed;
    return Step::kDropped;
  }
  TunnelInfo& t = *c.tunnel;
  t.outer_udp_src = v->source_port();
  t.outer_udp_dst = v->destination_port();
  const std::size_t end = std::min<std::size_t>(len, u.cap.size());
  const Layer payload{u.cap.subspan(w::UdpView::kSize, end - w::UdpView::kSize),
                      len - static_cast<std::uint32_t>(w::UdpView::kSize)};
  return from_udp_payload(kind, payload, c, found);
}

// ---------------------------------------------------------------------------------------------
// UDP tunnels

LayerWalker::Step LayerWalker::from_udp_payload(PortKind kind, Layer p, Ctx& c,
                                                Found& found) const noexcept {
  TunnelInfo& t = *c.tunnel;
  bool cut;
  switch (kind) {
    case PortKind::kVxlan: {
      // RFC 7348 §5: the I flag MUST be set; other flags and reserved fields are ignored on
      // receipt (GBP, Linux reserved_bits) unless strict.
      if (short_of(w::VxlanView::kSize, p.cap.size(), p.orig, cut)) {
        c.reason = cut ? C::kVxlanTruncated : C::kVxlanMalformed;
        return Step::kDropped;
      }
      auto v = w::VxlanView::parse(p.cap);
      if (!v->vni_valid() || (config_.strict && v->reserved_bits_set())) {
        c.reason = C::kVxlanMalformed;
        return Step::kDropped;
      }
      t.encap = Encap::kVxlan;
      t.vxlan_flags = v->flags();
      t.has_id = true;
      t.id = v->vni();
      found = Found{{p.cap.subspan(w::VxlanView::kSize), p.orig - 8u}, LinkType::kEthernet};
      return Step::kStripped;
    }
    case PortKind::kGeneve: {
      if (short_of(w::GeneveView::kSize, p.cap.size(), p.orig, cut)) {
        c.reason = cut ? C::kGeneveTruncated : C::kGeneveMalformed;
        return Step::kDropped;
      }
      const std::size_t hl = w::GeneveView::kSize + static_cast<std::size_t>(p.cap[0] & 0x3F) * 4;
      if (short_of(hl, p.cap.size(), p.orig, cut)) {
        c.reason = cut ? C::kGeneveTruncated : C::kGeneveMalformed;
        return Step::kDropped;
      }
      auto v = w::GeneveView::parse(p.cap);
      bool critical = false;
      const auto options = v->count_options(critical);
      if (v->ver() != 0 || !options || (config_.strict && v->reserved_bits_set())) {
        c.reason = C::kGeneveMalformed;
        return Step::kDropped;
      }
      if (v->control()) {  // RFC 8926 §3.4: O = control message, not data
        c.reason = C::kGeneveUnsupported;
        return Step::kDropped;
      }
      if (critical || v->critical()) {
        // A collector is a passive observer, not the tunnel endpoint the critical-option rule
        // (RFC 8926 §3.5.1) addresses: skip them, but honour the rule in strict mode.
        if (config_.strict) {
          c.reason = C::kGeneveUnsupported;
          return Step::kDropped;
        }
        c.info |= kInfoCriticalSkipped;
      }
      LinkType lt;
      switch (v->protocol_type()) {
        case w::ethertype::kTeb:
          lt = LinkType::kEthernet;
          break;
        case w::ethertype::kIpv4:
        case w::ethertype::kIpv6:
          lt = LinkType::kRaw;
          break;
        default:
          c.reason = C::kGeneveUnsupported;
          return Step::kDropped;
      }
      t.encap = Encap::kGeneve;
      t.geneve_options = static_cast<std::uint8_t>(*options);
      t.geneve_options_words = static_cast<std::uint8_t>(p.cap[0] & 0x3F);
      t.geneve_critical = critical || v->critical();
      t.has_id = true;
      t.id = v->vni();
      t.gre_proto = v->protocol_type();
      found = Found{{p.cap.subspan(hl), p.orig - static_cast<std::uint32_t>(hl)}, lt};
      return Step::kStripped;
    }
    case PortKind::kTzsp: {
      auto v = w::TzspView::parse(p.cap);
      if (!v) {
        c.reason = C::kTzspTruncated;
        return Step::kDropped;
      }
      const std::size_t hl = v->header_length();
      if (hl > p.orig) {
        c.reason = C::kTzspTruncated;
        return Step::kDropped;
      }
      // protocols.md §3.4: only received frames (Type 0) with Ethernet or raw IP encapsulation.
      if (v->version() != w::tzsp::kVersion || v->type() != w::tzsp::kTypeReceived) {
        c.reason = C::kTzspUnsupported;
        return Step::kDropped;
      }
      LinkType lt;
      if (v->encapsulation() == w::tzsp::kEncapEthernet) {
        lt = LinkType::kEthernet;
      } else if (v->encapsulation() == w::tzsp::kEncapRawIp) {
        lt = LinkType::kRaw;
      } else {
        c.reason = C::kTzspUnsupported;
        return Step::kDropped;
      }
      t.encap = Encap::kTzsp;
      found = Found{{p.cap.subspan(hl), p.orig - static_cast<std::uint32_t>(hl)}, lt};
      // Tag 41 (received frame length): the sensor cut the frame; the record keeps the original.
      if (v->has_original_length() && v->original_length() > found.inner.orig) {
        found.inner.orig = v->original_length();
      }
      return Step::kStripped;
    }
    case PortKind::kNone:
      break;
  }
  c.reason = C::kUdpUnsupported;
  return Step::kUntunnelled;
}

// ---------------------------------------------------------------------------------------------
// GRE and ERSPAN

LayerWalker::Step LayerWalker::from_gre(Layer g, Ctx& c, Found& found) const noexcept {
  bool cut;
  if (short_of(w::GreView::kMinSize, g.cap.size(), g.orig, cut)) {
    c.reason = cut ? C::kGreTruncated : C::kGreMalformed;
    return Step::kDropped;
  }
  const std::uint16_t flags = load_be16(g.cap, 0);
  // protocols.md §1.7 checklist, in order: version, RFC 2784 §2.3 discard bits, length, checksum.
  switch (flags & w::GreView::kVersionMask) {
    case 0:
      break;
    case 1:
      c.reason = C::kGreVersion1;
      return Step::kDropped;
    default:
      c.reason = C::kGreBadVersion;
      return Step::kDropped;
  }
  if ((flags & w::GreView::kMustDiscard) != 0) {
    c.reason = C::kGreUnsupported;
    return Step::kDropped;
  }
  const std::size_t hl = w::GreView::header_length_for(flags);
  if (short_of(hl, g.cap.size(), g.orig, cut)) {
    c.reason = cut ? C::kGreTruncated : C::kGreMalformed;
    return Step::kDropped;
  }
  auto v = w::GreView::parse(g.cap);
  if (config_.strict &&
      ((flags & (w::GreView::kFlagsReserved | w::GreView::kAckPresent |
                 (w::GreView::kRecursionMask & ~w::GreView::kRecursionMsb))) != 0 ||
       v->reserved1().value_or(0) != 0)) {
    c.reason = C::kGreMalformed;
    return Step::kDropped;
  }
  TunnelInfo& t = *c.tunnel;
  t.encap = Encap::kGre;
  t.gre_proto = v->protocol_type();
  t.gre_flags = flags;
  if (auto k = v->key()) {
    t.has_id = true;
    t.id = *k;
  }
  if (auto s = v->sequence()) {
    t.has_seq = true;
    t.seq = *s;
  }
  if (v->checksum_present() && g.cap.size() == g.orig) {
    // Verifiable only when the whole GRE packet was captured. Open vSwitch sends wrong checksums
    // with sequence numbers on (issue 2), so a mismatch is counted and delivered unless strict.
    if (!w::checksum_valid(g.cap)) {
      t.gre_checksum_bad = true;
      if (config_.strict) {
        c.reason = C::kGreBadChecksum;
        return Step::kDropped;
      }
      c.info |= kInfoBadChecksum;
    }
  }
  return gre_protocol(v->protocol_type(), v->sequence_present(),
                      Layer{g.cap.subspan(hl), g.orig - static_cast<std::uint32_t>(hl)}, c, found);
}

LayerWalker::Step LayerWalker::gre_protocol(std::uint16_t proto, bool sequence_bit, Layer p, Ctx& c,
                                            Found& found) const noexcept {
  TunnelInfo& t = *c.tunnel;
  if (proto == 0x0000) {  // protocols.md §1.2: keepalive
    c.reason = C::kGreKeepalive;
    return Step::kKeepalive;
  }
  if (p.orig == 0) {
    c.reason = C::kGreNoPayload;
    return Step::kDropped;
  }
  switch (proto) {
    case w::ethertype::kIpv4:
    case w::ethertype::kIpv6:
      found = Found{p, LinkType::kRaw};
      return Step::kStripped;
    case w::ethertype::kTeb:
      found = Found{p, LinkType::kEthernet};
      return Step::kStripped;
    case w::ethertype::kErspan12:
      // protocols.md §7.1: the S bit decides Type I vs II (Wireshark, Zeek, Suricata, tcpdump).
      if (!sequence_bit) {
        t.encap = Encap::kErspan1;
        found = Found{p, LinkType::kEthernet};
        return Step::kStripped;
      }
      if (!p.cap.empty() && w::erspan_version(p.cap) == w::erspan::kVersionTypeIII)
        return erspan3(p, /*mismatch=*/true, c, found);
      return erspan2(p, false, c, found);
    case w::ethertype::kErspan3:
      if (!p.cap.empty() && w::erspan_version(p.cap) == w::erspan::kVersionTypeII)
        return erspan2(p, /*mismatch=*/true, c, found);
      return erspan3(p, false, c, found);
    default:
      c.reason = C::kGreUnsupported;
      return Step::kDropped;
  }
}

LayerWalker::Step LayerWalker::erspan2(Layer p, bool mismatch, Ctx& c,
                                       Found& found) const noexcept {
  bool cut;
  if (short_of(w::Erspan2View::kSize, p.cap.size(), p.orig, cut)) {
    c.reason = cut ? C::kErspanTruncated : C::kErspanMalformed;
    return Step::kDropped;
  }
  auto v = w::Erspan2View::parse(p.cap);
  // protocols.md §7.2: Wireshark decodes by Ver whatever the GRE protocol; so do we unless strict.
  if (v->ver() != w::erspan::kVersionTypeII || (mismatch && config_.strict) ||
      (config_.strict && v->reserved() != 0)) {
    c.reason = C::kErspanMalformed;
    return Step::kDropped;
  }
  if (mismatch) c.info |= kInfoVersionMismatch;
  TunnelInfo& t = *c.tunnel;
  t.encap = Encap::kErspan2;
  t.has_id = true;
  t.id = v->session_id();
  ErspanInfo& e = t.erspan;
  e.version = v->ver();
  e.vlan = v->vlan();
  e.cos = v->cos();
  e.en_or_bso = v->en();
  e.truncated = v->truncated();
  e.index = v->index();
  found = Found{{p.cap.subspan(w::Erspan2View::kSize), p.orig - 8u}, LinkType::kEthernet};
  return Step::kStripped;
}

LayerWalker::Step LayerWalker::erspan3(Layer p, bool mismatch, Ctx& c,
                                       Found& found) const noexcept {
  bool cut;
  if (short_of(w::Erspan3View::kSize, p.cap.size(), p.orig, cut)) {
    c.reason = cut ? C::kErspanTruncated : C::kErspanMalformed;
    return Step::kDropped;
  }
  const bool o = (load_be32(p.cap, 8) & w::erspan::kOBit) != 0;
  const std::size_t hl = w::Erspan3View::kSize + (o ? w::Erspan3View::kPlatformSize : 0u);
  if (short_of(hl, p.cap.size(), p.orig, cut)) {
    c.reason = cut ? C::kErspanTruncated : C::kErspanMalformed;
    return Step::kDropped;
  }
  auto v = w::Erspan3View::parse(p.cap);
  if (v->ver() != w::erspan::kVersionTypeIII || (mismatch && config_.strict)) {
    c.reason = C::kErspanMalformed;
    return Step::kDropped;
  }
  LinkType lt;
  if (v->ft() == w::erspan::kFrameTypeEthernet) {
    lt = LinkType::kEthernet;
  } else if (v->ft() == w::erspan::kFrameTypeIp) {
    lt = LinkType::kRaw;  // protocols.md §2.5: FT=2 is an IP packet without L2 header
  } else {
    c.reason = C::kErspanUnsupported;
    return Step::kDropped;
  }
  if (mismatch) c.info |= kInfoVersionMismatch;
  TunnelInfo& t = *c.tunnel;
  t.encap = Encap::kErspan3;
  t.has_id = true;
  t.id = v->session_id();
  ErspanInfo& e = t.erspan;
  e.version = v->ver();
  e.vlan = v->vlan();
  e.cos = v->cos();
  e.en_or_bso = v->bso();
  e.truncated = v->truncated();
  e.timestamp = v->timestamp();
  e.sgt = v->sgt();
  e.p = v->p();
  e.ft = v->ft();
  e.hw_id = v->hw_id();
  e.direction_egress = v->direction_egress();
  e.gra = v->gra();
  e.has_platform = v->has_platform();
  e.platform_id = v->platform_id();
  e.platform_info = v->platform_info();
  e.platform_w4 = v->platform_w4();
  found = Found{{p.cap.subspan(hl), p.orig - static_cast<std::uint32_t>(hl)}, lt};
  return Step::kStripped;
}

// ---------------------------------------------------------------------------------------------
// Inner packet and deeper layers

LayerWalker::Step LayerWalker::check_inner(Found& f, Ctx& c) const noexcept {
  const std::size_t need = f.link == LinkType::kEthernet ? w::EthernetView::kSize : 1u;
  if (f.inner.orig < need || f.inner.cap.size() < need) {
    c.reason = C::kInnerTruncated;
    return Step::kDropped;
  }
  return Step::kStripped;
}

WalkResult LayerWalker::finish(Step s, Found& found, Ctx& c, Decapsulated& out) const noexcept {
  WalkResult r;
  if (s == Step::kStripped) s = check_inner(found, c);
  if (s != Step::kStripped) {
    switch (s) {
      case Step::kUntunnelled:
        r.status = WalkStatus::kUntunnelled;
        break;
      case Step::kFragment:
        r.status = WalkStatus::kFragment;
        break;
      case Step::kKeepalive:
        r.status = WalkStatus::kKeepalive;
        break;
      default:
        r.status = WalkStatus::kDropped;
        break;
    }
    r.reason = c.reason;
    r.info = c.info;
    r.fragment = c.fragment;
    return r;
  }
  std::uint8_t layers = 1;
  // --depth: strip further tunnels from the inner packet; the first one that does not strip
  // cleanly ends the walk and the last good inner packet is delivered.
  const int limit = config_.depth >= kMaxEncapDepth ? kMaxEncapDepth + 1 : config_.depth;
  while (layers < limit) {
    TunnelInfo scratch;
    Ctx c2{&scratch, /*allow_fragment=*/false};
    Layer ip;
    Found next;
    Step s2 = from_link(found.link, found.inner, c2, ip, next);
    if (s2 == Step::kIp) s2 = from_ip(ip, c2, next);
    if (s2 == Step::kStripped) s2 = check_inner(next, c2);
    if (s2 != Step::kStripped) break;
    if (layers == kMaxEncapDepth) {
      r.status = WalkStatus::kDropped;
      r.reason = C::kTooDeep;
      r.info = c.info;
      return r;
    }
    found = next;
    ++layers;
  }
  out.inner = found.inner.cap;
  out.inner_orig_len = std::max(found.inner.orig, claimed_inner_len(found.inner.cap, found.link));
  out.inner_link = found.link;
  out.layers_removed = layers;
  r.status = WalkStatus::kInner;
  r.info = c.info;
  return r;
}

WalkResult LayerWalker::walk_frame(ByteSpan data, std::uint32_t orig_len, LinkType link,
                                   Decapsulated& out) const noexcept {
  out = Decapsulated{};
  Ctx c{&out.tunnel, /*allow_fragment=*/true};
  const Layer f{data, std::max<std::uint32_t>(orig_len, static_cast<std::uint32_t>(data.size()))};
  Layer ip;
  Found found;
  Step s = from_link(link, f, c, ip, found);
  if (s == Step::kIp) s = from_ip(ip, c, found);
  return finish(s, found, c, out);
}

WalkResult LayerWalker::walk_ip(ByteSpan datagram, std::uint32_t orig_len,
                                Decapsulated& out) const noexcept {
  out = Decapsulated{};
  Ctx c{&out.tunnel, /*allow_fragment=*/false};
  const Layer ip{datagram,
                 std::max<std::uint32_t>(orig_len, static_cast<std::uint32_t>(datagram.size()))};
  Found found;
  const Step s = from_ip(ip, c, found);
  return finish(s, found, c, out);
}

WalkResult LayerWalker::walk_gre(ByteSpan gre, std::uint32_t orig_len, const IpAddress& src,
                                 const IpAddress& dst, Decapsulated& out) const noexcept {
  out = Decapsulated{};
  out.tunnel.outer_src = src;
  out.tunnel.outer_dst = dst;
  Ctx c{&out.tunnel, false};
  Found found;
  const Step s = from_gre(
      Layer{gre, std::max<std::uint32_t>(orig_len, static_cast<std::uint32_t>(gre.size()))}, c,
      found);
  return finish(s, found, c, out);
}

WalkResult LayerWalker::walk_udp_payload(ByteSpan payload, std::uint32_t orig_len,
                                         const IpAddress& src, const IpAddress& dst,
                                         std::uint16_t src_port, std::uint16_t dst_port,
                                         Decapsulated& out) const noexcept {
  out = Decapsulated{};
  out.tunnel.outer_src = src;
  out.tunnel.outer_dst = dst;
  out.tunnel.outer_udp_src = src_port;
  out.tunnel.outer_udp_dst = dst_port;
  Ctx c{&out.tunnel, false};
  Found found;
  const Step s = from_udp_payload(
      port_kind_[dst_port],
      Layer{payload, std::max<std::uint32_t>(orig_len, static_cast<std::uint32_t>(payload.size()))},
      c, found);
  return finish(s, found, c, out);
}

}  // namespace portmirror::packet

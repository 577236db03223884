// Test helper: composes Ethernet / VLAN / IPv4 / IPv6 (+ extension headers) / UDP / GRE / ERSPAN /
// VXLAN / Geneve / TZSP layers into bytes with the wire/ emitters. Next-protocol fields (EtherType,
// IP protocol, GRE/Geneve protocol type, TZSP encapsulation) and lengths (IPv4 Total Length,
// IPv6 Payload Length, UDP Length) and checksums (IPv4 header, GRE with C) are filled in by build()
// unless given explicitly. trailer() adds bytes after the outermost IP datagram (padding, FCS).
//
//   auto bytes = PacketBuilder()
//                    .eth().ipv4("192.0.2.1", "192.0.2.2")
//                    .gre({.key = 42})
//                    .eth().vlan(100).ipv4("10.0.0.1", "10.0.0.2").payload(64)
//                    .build();
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "portmirror/base/bytes.h"
#include "portmirror/base/check.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/packet/frame.h"
#include "portmirror/wire/checksum.h"
#include "portmirror/wire/erspan.h"
#include "portmirror/wire/ethernet.h"
#include "portmirror/wire/geneve.h"
#include "portmirror/wire/gre.h"
#include "portmirror/wire/ipv4.h"
#include "portmirror/wire/ipv6.h"
#include "portmirror/wire/linux_sll.h"
#include "portmirror/wire/tzsp.h"
#include "portmirror/wire/udp.h"
#include "portmirror/wire/vxlan.h"

namespace portmirror::testing {

class PacketBuilder {
 public:
  enum class Kind : std::uint8_t {
    kEth,
    kVlan,
    kIpv4,
    kIpv6,
    kIpv6Ext,
    kUdp,
    kGre,
    kErspan2,
    kErspan3,
    kVxlan,
    kGeneve,
    kTzsp,
    kPayload,
    kSll,
  };

  static constexpr wire::MacAddress kDst{0x02, 0, 0, 0, 0, 0x02};
  static constexpr wire::MacAddress kSrc{0x02, 0, 0, 0, 0, 0x01};

  /// `ethertype` 0 = derived from the next layer.
  PacketBuilder& eth(std::uint16_t ethertype = 0, wire::MacAddress dst = kDst,
                     wire::MacAddress src = kSrc) {
    return add(Kind::kEth, wire::EthernetHeader{dst, src, ethertype}, ethertype != 0);
  }
  /// An 802.1Q (or 802.1ad with tpid 0x88A8) tag; the TPID lands in the previous layer's EtherType.
  PacketBuilder& vlan(std::uint16_t vid, std::uint16_t tpid = wire::ethertype::kVlan,
                      std::uint8_t pcp = 0) {
    add(Kind::kVlan, wire::VlanHeader{pcp, false, vid, 0}, false);
    layers_.back().aux = tpid;
    return *this;
  }
  PacketBuilder& ipv4(const std::string& src, const std::string& dst, std::uint8_t protocol = 0) {
    wire::Ipv4Header h;
    copy_addr(h.source, src);
    copy_addr(h.destination, dst);
    h.protocol = protocol;
    return ipv4(h);
  }
  /// Total Length 0 and protocol 0 are derived.
  PacketBuilder& ipv4(const wire::Ipv4Header& h) {
    add(Kind::kIpv4, h, h.protocol != 0);
    layers_.back().aux = h.total_length;
    return *this;
  }
  PacketBuilder& ipv6(const std::string& src, const std::string& dst,
                      std::uint8_t next_header = 0) {
    wire::Ipv6Header h;
    copy_addr(h.source, src);
    copy_addr(h.destination, dst);
    h.next_header = next_header;
    return add(Kind::kIpv6, h, next_header != 0);
  }
  /// Hop-by-Hop / Destination Options / Routing header (8·(len+1) octets); `type` is what the
  /// previous header's Next Header becomes.
  PacketBuilder& ipv6_ext(std::uint8_t type, std::uint8_t hdr_ext_len = 0) {
    add(Kind::kIpv6Ext, wire::Ipv6OptionsHeader{0, hdr_ext_len}, false);
    layers_.back().aux = type;
    return *this;
  }
  PacketBuilder& ipv6_fragment(std::uint32_t offset, bool more, std::uint32_t id) {
    add(Kind::kIpv6Ext, wire::Ipv6FragmentHeader{0, offset, more, id}, false);
    layers_.back().aux = wire::ipproto::kFragment;
    return *this;
  }
  PacketBuilder& udp(std::uint16_t src_port, std::uint16_t dst_port) {
    return add(Kind::kUdp, wire::UdpHeader{src_port, dst_port, 0, 0}, false);
  }
  /// protocol_type 0 = derived (0x0800, 0x86DD, 0x6558, 0x88BE, 0x22EB); use gre_keepalive() for 0.
  PacketBuilder& gre(const wire::GreHeader& h = {}) {
    return add(Kind::kGre, h, h.protocol_type != 0);
  }
  PacketBuilder& gre_keepalive() { return add(Kind::kGre, wire::GreHeader{}, true); }
  PacketBuilder& erspan2(const wire::Erspan2Header& h) { return add(Kind::kErspan2, h, false); }
  PacketBuilder& erspan3(const wire::Erspan3Header& h) { return add(Kind::kErspan3, h, false); }
  PacketBuilder& vxlan(std::uint32_t vni) {
    return add(Kind::kVxlan, wire::VxlanHeader{vni}, false);
  }
  PacketBuilder& geneve(const wire::GeneveHeader& h) { return add(Kind::kGeneve, h, false); }
  PacketBuilder& geneve_raw_protocol(const wire::GeneveHeader& h) {
    return add(Kind::kGeneve, h, true);
  }
  PacketBuilder& tzsp(const wire::TzspHeader& h = {}) { return add(Kind::kTzsp, h, false); }
  PacketBuilder& sll(const wire::LinuxSllHeader& h) { return add(Kind::kSll, h, true); }
  PacketBuilder& bytes(std::initializer_list<std::uint8_t> b) {
    Layer l{Kind::kPayload, data_.size(), b.size(), true, 0};
    data_.insert(data_.end(), b.begin(), b.end());
    layers_.push_back(l);
    return *this;
  }
  PacketBuilder& bytes(const std::vector<std::uint8_t>& b) {
    Layer l{Kind::kPayload, data_.size(), b.size(), true, 0};
    data_.insert(data_.end(), b.begin(), b.end());
    layers_.push_back(l);
    return *this;
  }
  /// `n` payload octets counting up from `first`.
  PacketBuilder& payload(std::size_t n, std::uint8_t first = 0) {
    Layer l{Kind::kPayload, data_.size(), n, true, 0};
    for (std::size_t i = 0; i < n; ++i) data_.push_back(static_cast<std::uint8_t>(first + i));
    layers_.push_back(l);
    return *this;
  }
  /// Octets after the outermost datagram (Ethernet padding, FCS): not counted in any length.
  PacketBuilder& trailer(std::size_t n, std::uint8_t fill = 0xFC) {
    trailer_.assign(n, fill);
    return *this;
  }

  std::vector<std::uint8_t> build() const {
    std::vector<std::uint8_t> out = data_;
    const std::size_t end = out.size();
    MutableByteSpan b(out);
    for (std::size_t i = layers_.size(); i-- > 0;) {
      const Layer& l = layers_[i];
      const Layer* next = i + 1 < layers_.size() ? &layers_[i + 1] : nullptr;
      const std::size_t o = l.offset;
      const auto span_len = static_cast<std::uint32_t>(end - o);
      switch (l.kind) {
        case Kind::kEth:
          if (!l.explicit_next && next) store_be16(b, o + 12, ethertype_for(*next));
          break;
        case Kind::kVlan:
          if (next) store_be16(b, o + 2, ethertype_for(*next));
          break;
        case Kind::kIpv4: {
          if (!l.explicit_next && next) b[o + 9] = ipproto_for(*next);
          if (l.aux == 0) store_be16(b, o + 2, static_cast<std::uint16_t>(span_len));
          const std::size_t hl = std::size_t{static_cast<std::uint8_t>(b[o] & 0x0F)} * 4;
          store_be16(b, o + 10, 0);
          store_be16(b, o + 10, wire::internet_checksum(ByteSpan(out.data() + o, hl)));
          break;
        }
        case Kind::kIpv6:
          if (!l.explicit_next && next) b[o + 6] = ipproto_for(*next);
          store_be16(b, o + 4, static_cast<std::uint16_t>(span_len - 40));
          break;
        case Kind::kIpv6Ext:
          if (next) b[o] = ipproto_for(*next);
          break;
        case Kind::kUdp:
          store_be16(b, o + 4, static_cast<std::uint16_t>(span_len));
          break;
        case Kind::kGre:
          if (!l.explicit_next && next) store_be16(b, o + 2, greproto_for(*next));
          if ((load_be16(b, o) & wire::GreView::kChecksumPresent) != 0)
            wire::gre_fill_checksum(b.subspan(o, end - o));
          break;
        case Kind::kGeneve:
          if (!l.explicit_next && next) store_be16(b, o + 2, greproto_for(*next));
          break;
        case Kind::kTzsp:
          if (next && (next->kind == Kind::kIpv4 || next->kind == Kind::kIpv6))
            store_be16(b, o + 2, 7);
          break;
        default:
          break;
      }
    }
    out.insert(out.end(), trailer_.begin(), trailer_.end());
    return out;
  }

  /// Offset of the i-th layer in the built bytes (e.g. to corrupt a field).
  std::size_t offset_of(std::size_t layer) const { return layers_.at(layer).offset; }

 private:
  struct Layer {
    Kind kind;
    std::size_t offset;
    std::size_t size;
    bool explicit_next;
    std::uint32_t aux;  // VLAN TPID, IPv6 extension type, IPv4 explicit total length
  };

  template <typename H>
  PacketBuilder& add(Kind k, const H& h, bool explicit_next) {
    Layer l{k, data_.size(), h.size(), explicit_next, 0};
    data_.resize(data_.size() + h.size());
    h.write_to(MutableByteSpan(data_).subspan(l.offset));
    layers_.push_back(l);
    return *this;
  }
  template <std::size_t N>
  static void copy_addr(std::array<std::uint8_t, N>& to, const std::string& text) {
    auto a = IpAddress::parse(text);
    PM_CHECK(a.has_value() && a->bytes().size() == N);
    for (std::size_t i = 0; i < N; ++i) to[i] = a->bytes()[i];
  }
  static std::uint16_t ethertype_for(const Layer& n) {
    switch (n.kind) {
      case Kind::kVlan:
        return static_cast<std::uint16_t>(n.aux);
      case Kind::kIpv6:
        return wire::ethertype::kIpv6;
      default:
        return wire::ethertype::kIpv4;
    }
  }
  static std::uint8_t ipproto_for(const Layer& n) {
    switch (n.kind) {
      case Kind::kUdp:
        return wire::ipproto::kUdp;
      case Kind::kGre:
        return wire::ipproto::kGre;
      case Kind::kIpv4:
        return wire::ipproto::kIpip;
      case Kind::kIpv6:
        return wire::ipproto::kIpv6;
      case Kind::kIpv6Ext:
        return static_cast<std::uint8_t>(n.aux);
      default:
        return wire::ipproto::kTcp;
    }
  }
  static std::uint16_t greproto_for(const Layer& n) {
    switch (n.kind) {
      case Kind::kIpv4:
        return wire::ethertype::kIpv4;
      case Kind::kIpv6:
        return wire::ethertype::kIpv6;
      case Kind::kEth:
        return wire::ethertype::kTeb;
      case Kind::kErspan2:
        return wire::ethertype::kErspan12;
      case Kind::kErspan3:
        return wire::ethertype::kErspan3;
      default:
        return wire::ethertype::kTeb;
    }
  }

  std::vector<std::uint8_t> data_;
  std::vector<Layer> layers_;
  std::vector<std::uint8_t> trailer_;
};

/// A Frame borrowing `bytes` (orig_len = size unless given).
inline Frame make_frame(const std::vector<std::uint8_t>& bytes, LinkType link = LinkType::kEthernet,
                        TimestampNs ts = 0, std::uint32_t orig_len = 0) {
  Frame f;
  f.data = ByteSpan(bytes);
  f.orig_len = orig_len != 0 ? orig_len : static_cast<std::uint32_t>(bytes.size());
  f.link = link;
  f.ts = ts;
  return f;
}

}  // namespace portmirror::testing

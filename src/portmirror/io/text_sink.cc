#include "portmirror/io/text_sink.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string_view>
#include <utility>

#include "portmirror/wire/checksum.h"

namespace portmirror::io {

namespace {

// Appends into a fixed buffer; silently stops at capacity (the line is then cut, never overrun).
class Out {
 public:
  explicit Out(std::span<char> b) noexcept : b_(b) {}
  void s(std::string_view v) noexcept {
    std::size_t n = std::min(v.size(), b_.size() - std::min(n_, b_.size()));
    std::memcpy(b_.data() + n_, v.data(), n);
    n_ += n;
  }
  void c(char ch) noexcept {
    if (n_ < b_.size()) b_[n_++] = ch;
  }
  template <typename... Args>
  void f(fmt::format_string<Args...> fs, Args&&... args) noexcept {
    std::size_t room = b_.size() - std::min(n_, b_.size());
    auto r = fmt::format_to_n(b_.data() + n_, room, fs, std::forward<Args>(args)...);
    n_ += std::min<std::size_t>(r.size, room);
  }
  void ip(const IpAddress& a) noexcept {
    char t[64];
    s(std::string_view(t, a.format_to(t, sizeof t)));
  }
  std::size_t size() const noexcept { return n_; }

 private:
  std::span<char> b_;
  std::size_t n_ = 0;
};

// Well-known ports tcpdump prints by name (from /etc/services) when -n is not given.
std::string_view port_name(std::uint16_t p, bool tcp) noexcept {
  switch (p) {
    case 20:
      return "ftp-data";
    case 21:
      return "ftp";
    case 22:
      return "ssh";
    case 23:
      return "telnet";
    case 25:
      return "smtp";
    case 53:
      return "domain";
    case 67:
      return "bootps";
    case 68:
      return "bootpc";
    case 69:
      return tcp ? "" : "tftp";
    case 80:
      return "http";
    case 110:
      return "pop3";
    case 123:
      return "ntp";
    case 143:
      return "imap2";
    case 161:
      return "snmp";
    case 162:
      return "snmp-trap";
    case 179:
      return "bgp";
    case 389:
      return "ldap";
    case 443:
      return "https";
    case 514:
      return tcp ? "shell" : "syslog";
    case 4789:
      return tcp ? "" : "vxlan";
    default:
      return "";
  }
}

void port(Out& o, std::uint16_t p, bool tcp, const TextOptions& opt) noexcept {
  std::string_view n = opt.numeric ? std::string_view{} : port_name(p, tcp);
  if (!n.empty()) {
    o.s(n);
  } else {
    o.f("{}", p);
  }
}

void timestamp(Out& o, TimestampNs ts, const TextOptions& opt) noexcept {
  // Cache the broken-down time per second: localtime_r is too slow per packet.
  static thread_local std::time_t cached_sec = -1;
  static thread_local std::tm cached_tm{};
  static thread_local bool cached_utc = false;
  std::time_t sec = static_cast<std::time_t>(ts / kNsPerSec);
  auto usec = static_cast<long>((ts % kNsPerSec) / 1000);
  if (usec < 0) {
    usec += 1'000'000;
    --sec;
  }
  if (sec != cached_sec || cached_utc != opt.utc) {
    if (opt.utc) {
      gmtime_r(&sec, &cached_tm);
    } else {
      localtime_r(&sec, &cached_tm);
    }
    cached_sec = sec;
    cached_utc = opt.utc;
  }
  o.f("{:02}:{:02}:{:02}.{:06} ", cached_tm.tm_hour, cached_tm.tm_min, cached_tm.tm_sec, usec);
}

void tcp_flags(Out& o, std::uint8_t fl) noexcept {
  // tcpdump print-tcp.c tcp_flag_values order: S F P R U W E .
  o.s("Flags [");
  bool any = false;
  auto put = [&](std::uint8_t bit, char ch) {
    if (fl & bit) {
      o.c(ch);
      any = true;
    }
  };
  put(0x02, 'S');
  put(0x01, 'F');
  put(0x08, 'P');
  put(0x04, 'R');
  put(0x20, 'U');
  put(0x80, 'W');
  put(0x40, 'E');
  put(0x10, '.');
  if (!any) o.s("none");
  o.c(']');
}

// tcpdump's ipproto_values (the names -v prints after "proto" / "next-header").
std::string_view ipproto_name(std::uint8_t p) noexcept {
  switch (p) {
    case 0:
      return "Options";
    case 1:
      return "ICMP";
    case 2:
      return "IGMP";
    case 4:
      return "IPIP";
    case 6:
      return "TCP";
    case 17:
      return "UDP";
    case 41:
      return "IPv6";
    case 43:
      return "Routing";
    case 44:
      return "Fragment";
    case 46:
      return "RSVP";
    case 47:
      return "GRE";
    case 50:
      return "ESP";
    case 51:
      return "AH";
    case 58:
      return "ICMPv6";
    case 59:
      return "None";
    case 88:
      return "EIGRP";
    case 89:
      return "OSPF";
    case 103:
      return "PIM";
    case 112:
      return "VRRP";
    case 132:
      return "SCTP";
    default:
      return "unknown";
  }
}

// tcpdump's in_cksum_shouldbe(): the checksum field value that would have been correct, from the
// stored one and the (non-zero) verification result.
std::uint16_t cksum_shouldbe(std::uint16_t stored, std::uint16_t verify) noexcept {
  std::uint32_t v = std::uint32_t{stored} + verify;
  v = (v & 0xFFFFu) + (v >> 16);
  v = (v & 0xFFFFu) + (v >> 16);
  return static_cast<std::uint16_t>(v);
}

// Verification sum of a transport segment with the IPv4/IPv6 pseudo-header (RFC 793, RFC 8200
// §8.1): 0 when the stored checksum is right.
std::uint16_t pseudo_checksum(const IpAddress& src, const IpAddress& dst, std::uint8_t proto,
                              ByteSpan segment) noexcept {
  std::uint32_t sum = wire::checksum_add(src.bytes());
  sum = wire::checksum_add(dst.bytes(), sum);
  sum += proto;
  sum += static_cast<std::uint32_t>(segment.size() & 0xFFFFu) +
         static_cast<std::uint32_t>(segment.size() >> 16);
  return wire::checksum_fold(wire::checksum_add(segment, sum));
}

// Transport layer after IPv4/IPv6. `len` is the transport length from the IP header; `b` what was
// captured of it.
// With -v, TCP (and UDP/ICMPv6 over IPv6) checksums are verified as tcpdump -v does: only for an
// unfragmented datagram captured whole.
void transport(Out& o, std::uint8_t proto, ByteSpan b, std::uint32_t len, const IpAddress& src,
               const IpAddress& dst, bool v6, bool fragmented, const TextOptions& opt) noexcept {
  const bool verify = opt.verbose > 0 && !fragmented && b.size() >= len;
  auto addrs = [&](bool with_ports, std::uint16_t sp, std::uint16_t dp, bool tcp) {
    o.ip(src);
    if (with_ports) {
      o.c('.');
      port(o, sp, tcp, opt);
    }
    o.s(" > ");
    o.ip(dst);
    if (with_ports) {
      o.c('.');
      port(o, dp, tcp, opt);
    }
    o.s(": ");
  };
  switch (proto) {
    case 17: {  // UDP
      if (b.size() < 8) {
        addrs(false, 0, 0, false);
        o.s("[|udp]");
        return;
      }
      std::uint16_t sp = load_be16(b, 0), dp = load_be16(b, 2), ulen = load_be16(b, 4);
      addrs(true, sp, dp, false);
      if (verify && v6) {
        const std::uint16_t bad = pseudo_checksum(src, dst, proto, b.first(len));
        if (bad != 0) {
          o.f("[bad udp cksum 0x{:04x} -> 0x{:04x}!] ", load_be16(b, 6),
              cksum_shouldbe(load_be16(b, 6), bad));
        } else {
          o.s("[udp sum ok] ");
        }
      }
      std::uint32_t payload = ulen >= 8 ? ulen - 8u : 0u;
      o.f("UDP, length {}", payload);  // the same with -q
      return;
    }
    case 6: {  // TCP
      if (b.size() < 20) {
        addrs(false, 0, 0, true);
        o.s("[|tcp]");
        return;
      }
      std::uint16_t sp = load_be16(b, 0), dp = load_be16(b, 2);
      std::uint32_t seq = load_be32(b, 4), ack = load_be32(b, 8);
      std::uint32_t hl = (load_u8(b, 12) >> 4) * 4u;
      std::uint8_t fl = load_u8(b, 13);
      std::uint16_t win = load_be16(b, 14);
      addrs(true, sp, dp, true);
      std::uint32_t payload = len >= hl ? len - hl : 0u;
      if (opt.quiet) {
        o.f("tcp {}", payload);
        return;
      }
      tcp_flags(o, fl);
      if (verify) {
        const std::uint16_t bad = pseudo_checksum(src, dst, proto, b.first(len));
        o.f(", cksum 0x{:04x}", load_be16(b, 16));
        if (bad != 0) {
          o.f(" (incorrect -> 0x{:04x})", cksum_shouldbe(load_be16(b, 16), bad));
        } else {
          o.s(" (correct)");
        }
      }
      if (payload > 0 || (fl & 0x07) != 0) {  // SYN/FIN/RST or data: tcpdump prints seq
        if (payload > 0) {
          o.f(", seq {}:{}", seq, seq + payload);
        } else {
          o.f(", seq {}", seq);
        }
      }
      if (fl & 0x10) o.f(", ack {}", ack);
      o.f(", win {}", win);
      if (hl > 20) o.s(", options [...]");
      o.f(", length {}", payload);
      return;
    }
    case 1:     // ICMP
    case 58: {  // ICMPv6
      addrs(false, 0, 0, false);
      bool is6 = proto == 58;
      if (b.size() < 4) {
        o.s(is6 ? "[|icmp6]" : "[|icmp]");
        return;
      }
      std::uint8_t type = load_u8(b, 0), code = load_u8(b, 1);
      bool echo_req = is6 ? type == 128 : type == 8;
      bool echo_rep = is6 ? type == 129 : type == 0;
      // ICMPv6 checksums cover a pseudo-header, ICMP's only the message (RFC 4443 §2.3, 792).
      const std::uint16_t bad = !verify ? 0
                                : is6   ? pseudo_checksum(src, dst, proto, b.first(len))
                                        : wire::internet_checksum(b.first(len));
      if (verify && is6) {
        if (bad != 0) {
          o.f("[bad icmp6 cksum 0x{:04x} -> 0x{:04x}!] ", load_be16(b, 2),
              cksum_shouldbe(load_be16(b, 2), bad));
        } else {
          o.s("[icmp6 sum ok] ");
        }
      }
      o.s(is6 ? "ICMP6, " : "ICMP ");
      if ((echo_req || echo_rep) && b.size() >= 8) {
        o.f("echo {}, id {}, seq {}", echo_req ? "request" : "reply", load_be16(b, 4),
            load_be16(b, 6));
      } else if (!is6 && type == 3) {
        o.f("unreachable code {}", code);
      } else if (is6 && type == 135) {
        o.s("neighbor solicitation");
      } else if (is6 && type == 136) {
        o.s("neighbor advertisement");
      } else if (is6 && type == 133) {
        o.s("router solicitation");
      } else if (is6 && type == 134) {
        o.s("router advertisement");
      } else if (is6 && (type == 143 || type == 131)) {
        o.f("multicast listener report{}", type == 143 ? " v2" : "");
      } else {
        o.f("type {}, code {}", type, code);
      }
      // tcpdump -v drops ICMPv6's length, keeps ICMP's, and flags a wrong ICMP checksum.
      if (!is6 || opt.verbose == 0) o.f(", length {}", len);
      if (!is6 && bad != 0) {
        o.f(" (wrong icmp cksum {:x} (->{:x})!)", load_be16(b, 2),
            cksum_shouldbe(load_be16(b, 2), bad));
      }
      return;
    }
    case 47:  // GRE (the mirrored port carried GRE itself)
      addrs(false, 0, 0, false);
      if (b.size() < 4) {
        o.s("[|gre]");
        return;
      }
      o.f("GREv{}, proto 0x{:04x}, length {}", load_u8(b, 1) & 0x07, load_be16(b, 2), len);
      return;
    default:
      addrs(false, 0, 0, false);
      (void)v6;
      o.f("ip-proto-{} {}", proto, len);
      return;
  }
}

void ipv4(Out& o, ByteSpan b, const TextOptions& opt) noexcept {
  if (b.size() < 20) {
    o.s("IP [|ip]");
    return;
  }
  std::uint32_t ihl = (load_u8(b, 0) & 0x0fu) * 4u;
  std::uint16_t total = load_be16(b, 2);
  std::uint16_t id = load_be16(b, 4);
  std::uint16_t frag = load_be16(b, 6);
  std::uint8_t ttl = load_u8(b, 8), proto = load_u8(b, 9);
  IpAddress src = IpAddress::v4(b.subspan(12, 4));
  IpAddress dst = IpAddress::v4(b.subspan(16, 4));
  o.s("IP ");
  if (opt.verbose > 0) {
    // tcpdump 4.99 ip_print(): the header on this line, the packet on the next one.
    const std::uint8_t tos = load_u8(b, 1);
    o.f("(tos 0x{:x}", tos);
    static constexpr std::string_view kEcn[] = {"", ",ECT(1)", ",ECT(0)", ",CE"};
    o.s(kEcn[tos & 3u]);
    if (ttl >= 1) o.f(", ttl {}", ttl);
    o.f(", id {}, offset {}, flags [", id, (frag & 0x1fffu) * 8u);
    if ((frag & 0xe000u) == 0) o.s("none");
    bool sep = false;
    for (auto [bit, name] : {std::pair{0x2000u, "+"}, {0x4000u, "DF"}, {0x8000u, "rsvd"}}) {
      if ((frag & bit) == 0) continue;
      if (sep) o.s(", ");
      o.s(name);
      sep = true;
    }
    o.f("], proto {} ({}), length {}", ipproto_name(proto), proto, total);
    if (ihl > 20) o.s(", options (...)");
    if (ihl >= 20 && ihl <= b.size()) {
      const std::uint16_t bad = wire::internet_checksum(b.first(ihl));
      if (bad != 0)
        o.f(", bad cksum {:x} (->{:x})!", load_be16(b, 10), cksum_shouldbe(load_be16(b, 10), bad));
    }
    o.s(")\n    ");
  }
  if (ihl < 20 || ihl > b.size() || total < ihl) {
    o.ip(src);
    o.s(" > ");
    o.ip(dst);
    o.s(": [|ip]");
    return;
  }
  std::uint32_t tlen = total - ihl;
  if ((frag & 0x1fffu) != 0) {  // not the first fragment: no transport header
    o.ip(src);
    o.s(" > ");
    o.ip(dst);
    o.f(": ip-proto-{}", proto);
    return;
  }
  ByteSpan t = b.subspan(ihl, std::min<std::size_t>(b.size() - ihl, tlen));
  transport(o, proto, t, tlen, src, dst, false, (frag & 0x2000u) != 0, opt);
}

void ipv6(Out& o, ByteSpan b, const TextOptions& opt) noexcept {
  if (b.size() < 40) {
    o.s("IP6 [|ip6]");
    return;
  }
  std::uint16_t plen = load_be16(b, 4);
  std::uint8_t nh = load_u8(b, 6);
  IpAddress src = IpAddress::v6(b.subspan(8, 16));
  IpAddress dst = IpAddress::v6(b.subspan(24, 16));
  o.s("IP6 ");
  if (opt.verbose > 0) {
    // tcpdump 4.99 ip6_print(): one line, class and flow label only when not zero.
    const std::uint32_t flow = load_be32(b, 0);
    o.c('(');
    if ((flow & 0x0ff00000u) != 0) o.f("class 0x{:02x}, ", (flow & 0x0ff00000u) >> 20);
    if ((flow & 0x000fffffu) != 0) o.f("flowlabel 0x{:05x}, ", flow & 0x000fffffu);
    o.f("hlim {}, next-header {} ({}) payload length: {}) ", load_u8(b, 7), ipproto_name(nh), nh,
        plen);
  }
  bool fragmented = false;
  std::size_t off = 40;
  std::uint32_t len = plen;
  // Skip hop-by-hop, routing, destination options; stop at a non-first fragment.
  for (int i = 0; i < 8; ++i) {
    if (nh == 0 || nh == 43 || nh == 60) {
      if (off + 8 > b.size()) break;
      std::uint32_t hl = (load_u8(b, off + 1) + 1u) * 8u;
      nh = load_u8(b, off);
      off += hl;
      len = len >= hl ? len - hl : 0u;
    } else if (nh == 44) {
      if (off + 8 > b.size()) break;
      bool first = (load_be16(b, off + 2) & 0xfff8u) == 0;
      fragmented = true;
      nh = load_u8(b, off);
      off += 8;
      len = len >= 8 ? len - 8u : 0u;
      if (!first) {
        o.ip(src);
        o.s(" > ");
        o.ip(dst);
        o.s(": frag");
        return;
      }
    } else {
      break;
    }
  }
  if (off > b.size()) off = b.size();
  ByteSpan t = b.subspan(off, std::min<std::size_t>(b.size() - off, len));
  transport(o, nh, t, len, src, dst, true, fragmented, opt);
}

void arp(Out& o, ByteSpan b, const TextOptions& opt) noexcept {
  if (b.size() < 28 || load_be16(b, 2) != 0x0800 || load_u8(b, 4) != 6 || load_u8(b, 5) != 4) {
    o.s("ARP, [|arp]");
    return;
  }
  std::uint16_t op = load_be16(b, 6);
  IpAddress spa = IpAddress::v4(b.subspan(14, 4));
  IpAddress tpa = IpAddress::v4(b.subspan(24, 4));
  if (opt.verbose > 0) {
    o.s("ARP, Ethernet (len 6), IPv4 (len 4), ");
  } else {
    o.s("ARP, ");
  }
  if (op == 1) {
    o.s("Request who-has ");
    o.ip(tpa);
    o.s(" tell ");
    o.ip(spa);
  } else if (op == 2) {
    o.s("Reply ");
    o.ip(spa);
    o.f(" is-at {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[8], b[9], b[10], b[11], b[12], b[13]);
  } else {
    o.f("op {}", op);
  }
  o.f(", length {}", b.size());
}

void by_ethertype(Out& o, std::uint16_t et, ByteSpan payload, std::uint32_t wire_len,
                  const TextOptions& opt) noexcept {
  switch (et) {
    case 0x0800:
      ipv4(o, payload, opt);
      return;
    case 0x86DD:
      ipv6(o, payload, opt);
      return;
    case 0x0806:
      arp(o, payload, opt);
      return;
    default:
      o.f("ethertype 0x{:04x}, length {}", et, wire_len);
      return;
  }
}

}  // namespace

std::size_t format_inner(ByteSpan inner, LinkType link, std::uint32_t orig_len, TimestampNs ts,
                         const TextOptions& opt, std::span<char> out) noexcept {
  Out o(out);
  timestamp(o, ts, opt);
  if (link == LinkType::kEthernet) {
    if (inner.size() < 14) {
      o.s("[|ether]");
      return o.size();
    }
    std::size_t off = 12;
    std::uint16_t et = load_be16(inner, off);
    // 802.1Q / 802.1ad tags: tcpdump without -e prints only the payload (also with -v).
    int tags = 0;
    while ((et == 0x8100 || et == 0x88a8 || et == 0x9100) && off + 6 <= inner.size() && tags < 8) {
      off += 4;
      et = load_be16(inner, off);
      ++tags;
    }
    off += 2;
    by_ethertype(o, et, inner.subspan(off), orig_len, opt);
  } else {
    if (inner.empty()) {
      o.s("[|ip]");
      return o.size();
    }
    std::uint8_t ver = inner[0] >> 4;
    if (ver == 4) {
      ipv4(o, inner, opt);
    } else if (ver == 6) {
      ipv6(o, inner, opt);
    } else {
      o.f("IP{} [|ip]", ver);
    }
  }
  return o.size();
}

std::size_t format_tunnel(const TunnelInfo& t, const TextOptions& opt,
                          std::span<char> out) noexcept {
  Out o(out);
  o.s(encap_name(t.encap));
  o.c(' ');
  o.ip(t.outer_src);
  if (opt.verbose > 0) {
    o.s(" > ");
    o.ip(t.outer_dst);
  }
  switch (t.encap) {
    case Encap::kGre:
    case Encap::kErspan1:
      o.s(" key ");
      break;
    case Encap::kErspan2:
    case Encap::kErspan3:
      o.s(" session ");
      break;
    case Encap::kVxlan:
    case Encap::kGeneve:
      o.s(" vni ");
      break;
    case Encap::kTzsp:
      o.s(" id ");
      break;
  }
  if (!t.has_id) {
    o.c('-');
  } else if (t.encap == Encap::kGre || t.encap == Encap::kErspan1) {
    o.f("0x{:x}", t.id);
  } else {
    o.f("{}", t.id);
  }
  if (t.has_seq) {
    o.f(" seq {}", t.seq);
  } else {
    o.s(" seq -");
  }
  if (opt.verbose > 0) {
    // Everything the tunnel said, as "name value" pairs (docs/capture.md).
    if (t.has_outer_ttl) o.f(" {} {}", t.outer_src.is_v4() ? "ttl" : "hlim", t.outer_ttl);
    if (t.outer_reassembled) o.s(" reassembled");
    switch (t.encap) {
      case Encap::kGre:
      case Encap::kErspan1:
      case Encap::kErspan2:
      case Encap::kErspan3: {
        // RFC 2784/2890 flags: Checksum, Routing, Key, Sequence number present.
        o.s(" flags [");
        bool any = false;
        for (auto [bit, ch] :
             {std::pair{0x8000u, 'C'}, {0x4000u, 'R'}, {0x2000u, 'K'}, {0x1000u, 'S'}}) {
          if ((t.gre_flags & bit) == 0) continue;
          o.c(ch);
          any = true;
        }
        if (!any) o.s("none");
        o.c(']');
        if (t.encap == Encap::kGre) o.f(" proto 0x{:04x}", t.gre_proto);
        break;
      }
      case Encap::kVxlan:
        o.f(" udp {} > {} flags 0x{:02x}", t.outer_udp_src, t.outer_udp_dst, t.vxlan_flags);
        break;
      case Encap::kGeneve:
        o.f(" udp {} > {} options {} ({} bytes) proto 0x{:04x}{}", t.outer_udp_src, t.outer_udp_dst,
            t.geneve_options, t.geneve_options_words * 4u, t.gre_proto,
            t.geneve_critical ? " critical" : "");
        break;
      case Encap::kTzsp:
        o.f(" udp {} > {}", t.outer_udp_src, t.outer_udp_dst);
        break;
    }
    const ErspanInfo& e = t.erspan;
    if (t.encap == Encap::kErspan2) {
      o.f(" index {} vlan {} cos {} en {}", e.index, e.vlan, e.cos, e.en_or_bso);
    } else if (t.encap == Encap::kErspan3) {
      o.f(" vlan {} cos {} bso {} sgt {} ft {} hw {} dir {} gra {} ts {}", e.vlan, e.cos,
          e.en_or_bso, e.sgt, e.ft, e.hw_id, e.direction_egress ? "egress" : "ingress", e.gra,
          e.timestamp);
      if (e.has_platform) {
        o.f(" platform {} info 0x{:x} 0x{:08x}", e.platform_id, e.platform_info, e.platform_w4);
      }
    }
    if (e.truncated) o.s(" truncated");
    if (t.gre_checksum_bad) o.s(" bad-csum");
  }
  return o.size();
}

std::size_t format_packet_line(const Decapsulated& d, TimestampNs ts, const TextOptions& opt,
                               std::span<char> out) noexcept {
  std::size_t n = format_tunnel(d.tunnel, opt, out);
  static constexpr std::string_view kSep = " | ";
  if (n + kSep.size() >= out.size()) return n;
  std::memcpy(out.data() + n, kSep.data(), kSep.size());
  n += kSep.size();
  n += format_inner(d.inner, d.inner_link, d.inner_orig_len, ts, opt, out.subspan(n));
  return n;
}

TextSink::TextSink(TextOptions options, std::FILE* out, bool flush_each)
    : options_(options), out_(out), flush_each_(flush_each) {}

bool TextSink::write(const collector::Session& /*session*/, const Decapsulated& d,
                     TimestampNs ts) noexcept {
  if (failed_) return false;
  std::size_t n = format_packet_line(d, ts, options_, std::span<char>(line_, sizeof line_ - 1));
  line_[n++] = '\n';
  if (std::fwrite(line_, 1, n, out_) != n) {
    failed_ = true;
    error_ =
        Error{ExitCode::kOutputUnwritable,
              fmt::format("writing to standard output: {}", std::strerror(errno)), std::nullopt};
    return false;
  }
  ++lines_;
  if (flush_each_) return flush();
  return true;
}

bool TextSink::flush() noexcept {
  if (failed_) return false;
  if (std::fflush(out_) != 0) {
    failed_ = true;
    error_ =
        Error{ExitCode::kOutputUnwritable,
              fmt::format("writing to standard output: {}", std::strerror(errno)), std::nullopt};
    return false;
  }
  return true;
}

bool TextSink::close(const collector::SessionTable& /*sessions*/) noexcept {
  return flush();
}

}  // namespace portmirror::io

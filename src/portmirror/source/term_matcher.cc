#include "portmirror/source/term_matcher.h"

#include <algorithm>

namespace portmirror::source {
namespace {

constexpr std::uint8_t kProtoIcmp = 1;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoIcmp6 = 58;

std::uint64_t mask64(int bits) noexcept {
  if (bits <= 0) return 0;
  if (bits >= 64) return ~std::uint64_t{0};
  return ~std::uint64_t{0} << (64 - bits);
}

bool family_accepts(config::Family f, std::uint8_t ip_version) noexcept {
  switch (f) {
    case config::Family::kInet:
      return ip_version == 4;
    case config::Family::kInet6:
      return ip_version == 6;
    case config::Family::kAny:
      return ip_version == 4 || ip_version == 6;
  }
  return false;
}

}  // namespace

Result<TermMatcher::PrefixList> TermMatcher::add_prefixes(
    const std::vector<config::PrefixEntry>& list, config::Family fam, const std::string& term) {
  PrefixList out;
  if (list.empty()) return out;
  out.present = true;
  // Sort a copy by prefix length, longest first: the first containing entry is the LPM result.
  std::vector<config::PrefixEntry> sorted = list;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.prefix.length > b.prefix.length; });
  out.v4.begin = out.v4.end = static_cast<std::uint32_t>(v4_.size());
  out.v6.begin = out.v6.end = static_cast<std::uint32_t>(v6_.size());
  for (const auto& e : sorted) {
    const auto& a = e.prefix.address;
    if (a.is_v4()) {
      if (fam == config::Family::kInet6) {
        return make_error(ExitCode::kBadFilter, "term '" + term + "': IPv4 prefix " +
                                                    e.prefix.to_string() +
                                                    " in a family inet6 filter");
      }
      const int len = std::clamp(e.prefix.length, 0, 32);
      const std::uint32_t m = len == 0 ? 0 : ~std::uint32_t{0} << (32 - len);
      v4_.push_back(V4Prefix{a.v4_host_order() & m, m, e.except});
    } else if (a.is_v6()) {
      if (fam == config::Family::kInet) {
        return make_error(ExitCode::kBadFilter, "term '" + term + "': IPv6 prefix " +
                                                    e.prefix.to_string() +
                                                    " in a family inet filter");
      }
      const int len = std::clamp(e.prefix.length, 0, 128);
      const auto b = a.bytes();
      V6Prefix p{};
      p.mask_hi = mask64(len);
      p.mask_lo = mask64(len - 64);
      p.hi = load_be64(b, 0) & p.mask_hi;
      p.lo = load_be64(b, 8) & p.mask_lo;
      p.except = e.except;
      v6_.push_back(p);
    } else {
      return make_error(ExitCode::kBadFilter, "term '" + term + "': empty address prefix");
    }
  }
  out.v4.end = static_cast<std::uint32_t>(v4_.size());
  out.v6.end = static_cast<std::uint32_t>(v6_.size());
  return out;
}

TermMatcher::Values TermMatcher::add_values(const config::ValueMatch& v) {
  Values out;
  if (v.values.empty()) return out;
  out.present = true;
  out.except = v.except;
  out.ranges.begin = static_cast<std::uint32_t>(ranges_.size());
  for (const auto& r : v.values) ranges_.push_back(r);
  out.ranges.end = static_cast<std::uint32_t>(ranges_.size());
  return out;
}

Result<TermMatcher> TermMatcher::compile(const config::Filter& filter,
                                         const std::vector<std::string>& instance_names) {
  TermMatcher m;
  m.name_ = filter.name;
  m.family_ = filter.family;
  for (const auto& t : filter.terms) {
    CompiledTerm c;
    const auto& f = t.from;
    if (!f.address.empty() && (!f.source_address.empty() || !f.destination_address.empty())) {
      return make_error(ExitCode::kBadFilter,
                        "term '" + t.name +
                            "': 'address' cannot be combined with source-address or "
                            "destination-address in one term");
    }
    auto src = m.add_prefixes(f.source_address, filter.family, t.name);
    if (!src) return Unexpected<Error>(src.error());
    auto dst = m.add_prefixes(f.destination_address, filter.family, t.name);
    if (!dst) return Unexpected<Error>(dst.error());
    auto any = m.add_prefixes(f.address, filter.family, t.name);
    if (!any) return Unexpected<Error>(any.error());
    c.src = *src;
    c.dst = *dst;
    c.any_addr = *any;
    c.protocol = m.add_values(f.protocol);
    c.src_port = m.add_values(f.source_port);
    c.dst_port = m.add_values(f.destination_port);
    c.any_port = m.add_values(f.port);
    c.icmp_type = m.add_values(f.icmp_type);
    c.icmp_code = m.add_values(f.icmp_code);
    c.dscp = m.add_values(f.dscp);
    if (!f.tcp_flags.empty()) {
      auto tf = TcpFlagsMatch::compile(f.tcp_flags);
      if (!tf) {
        Error e = tf.error();
        e.message = "term '" + t.name + "': " + e.message;
        return Unexpected<Error>(std::move(e));
      }
      c.tcp_flags_present = true;
      c.tcp_flags = *tf;
    }
    c.first_fragment = f.first_fragment;
    c.is_fragment = f.is_fragment;
    c.mirror = t.port_mirror;
    if (t.port_mirror) {
      auto it = std::find(instance_names.begin(), instance_names.end(), t.mirror_instance);
      if (it == instance_names.end()) {
        return make_error(
            ExitCode::kConfig,
            "term '" + t.name + "' mirrors to " +
                (t.mirror_instance.empty() ? std::string("the global port-mirroring instance")
                                           : "instance '" + t.mirror_instance + "'") +
                ", which is not configured");
      }
      const auto idx = static_cast<std::size_t>(it - instance_names.begin());
      if (idx >= kMaxInstances) {
        return make_error(ExitCode::kConfig, "more than 64 mirror instances");
      }
      c.instance = static_cast<std::uint8_t>(idx);
    }
    c.next_term = t.verdict == config::TermVerdict::kNextTerm;
    m.terms_.push_back(c);
    m.names_.push_back(t.name);
  }
  return m;
}

TermMatcher TermMatcher::match_all(config::Family family) {
  TermMatcher m;
  m.family_ = family;
  m.match_all_ = true;
  return m;
}

bool TermMatcher::match_prefixes(const PrefixList& l, const PacketInfo& p,
                                 const std::uint8_t* addr) const noexcept {
  if (p.ip_version == 4) {
    const std::uint32_t a = (std::uint32_t{addr[0]} << 24) | (std::uint32_t{addr[1]} << 16) |
                            (std::uint32_t{addr[2]} << 8) | addr[3];
    for (std::uint32_t i = l.v4.begin; i < l.v4.end; ++i) {
      if ((a & v4_[i].mask) == v4_[i].addr) return !v4_[i].except;
    }
    return false;
  }
  const ByteSpan b(addr, 16);
  const std::uint64_t hi = load_be64(b, 0);
  const std::uint64_t lo = load_be64(b, 8);
  for (std::uint32_t i = l.v6.begin; i < l.v6.end; ++i) {
    const auto& e = v6_[i];
    if ((hi & e.mask_hi) == e.hi && (lo & e.mask_lo) == e.lo) return !e.except;
  }
  return false;
}

bool TermMatcher::match_values(const Values& v, std::uint32_t x) const noexcept {
  bool hit = false;
  for (std::uint32_t i = v.ranges.begin; i < v.ranges.end; ++i) {
    if (ranges_[i].contains(x)) {
      hit = true;
      break;
    }
  }
  return hit != v.except;
}

bool TermMatcher::match_term(const CompiledTerm& t, const PacketInfo& p) const noexcept {
  if (t.src.present && !match_prefixes(t.src, p, p.src.data())) return false;
  if (t.dst.present && !match_prefixes(t.dst, p, p.dst.data())) return false;
  if (t.any_addr.present && !match_prefixes(t.any_addr, p, p.src.data()) &&
      !match_prefixes(t.any_addr, p, p.dst.data()))
    return false;
  if (t.protocol.present && !match_values(t.protocol, p.protocol)) return false;
  if (t.dscp.present && !match_values(t.dscp, p.dscp)) return false;
  if (t.first_fragment && !p.first_fragment) return false;
  if (t.is_fragment && !p.later_fragment) return false;
  if (t.src_port.present || t.dst_port.present || t.any_port.present) {
    if (!p.has_l4 || !p.has_ports) return false;
    if (t.src_port.present && !match_values(t.src_port, p.src_port)) return false;
    if (t.dst_port.present && !match_values(t.dst_port, p.dst_port)) return false;
    if (t.any_port.present) {
      // `port` matches when either port matches; `port-except` when neither does.
      const bool s = match_values(t.any_port, p.src_port);
      const bool d = match_values(t.any_port, p.dst_port);
      if (t.any_port.except ? !(s && d) : !(s || d)) return false;
    }
  }
  if (t.icmp_type.present || t.icmp_code.present) {
    const bool icmp = p.protocol == (p.ip_version == 6 ? kProtoIcmp6 : kProtoIcmp);
    if (!icmp || !p.has_l4) return false;
    if (t.icmp_type.present && !match_values(t.icmp_type, p.icmp_type)) return false;
    if (t.icmp_code.present && !match_values(t.icmp_code, p.icmp_code)) return false;
  }
  if (t.tcp_flags_present) {
    if (p.protocol != kProtoTcp || !p.has_l4 || !t.tcp_flags.matches(p.tcp_flags)) return false;
  }
  return true;
}

MatchResult TermMatcher::match(const PacketInfo& p) const noexcept {
  MatchResult r;
  if (match_all_) {
    // No filter bound: everything (family any also takes non-IP frames such as ARP).
    if (family_ == config::Family::kAny || family_accepts(family_, p.ip_version)) {
      r.instances = 1;
      r.term = 0;
    }
    return r;
  }
  if (!family_accepts(family_, p.ip_version)) return r;
  for (std::size_t i = 0; i < terms_.size(); ++i) {
    const auto& t = terms_[i];
    if (!match_term(t, p)) continue;
    if (t.mirror) r.instances |= std::uint64_t{1} << t.instance;
    if (t.next_term) continue;
    r.term = static_cast<int>(i);
    return r;
  }
  return r;
}

}  // namespace portmirror::source

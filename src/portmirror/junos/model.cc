#include "portmirror/junos/model.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>

namespace portmirror::junos {

namespace {

std::optional<std::uint64_t> parse_uint(std::string_view v) {
  std::uint64_t out = 0;
  if (v.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return out;
}

std::optional<config::Range> lookup_or_range(
    const std::string& v, const std::map<std::string, std::uint32_t, std::less<>>& names,
    std::uint32_t max) {
  if (auto it = names.find(v); it != names.end()) return config::Range{it->second, it->second};
  auto number = [&](std::string_view s) -> std::optional<std::uint32_t> {
    if (auto it = names.find(s); it != names.end()) return it->second;
    auto n = parse_uint(s);
    if (!n || *n > max) return std::nullopt;
    return static_cast<std::uint32_t>(*n);
  };
  if (auto n = number(v)) return config::Range{*n, *n};
  // Range "lo-hi"; names contain '-' too, so try every split point.
  for (std::size_t dash = v.find('-'); dash != std::string::npos; dash = v.find('-', dash + 1)) {
    auto lo = number(std::string_view(v).substr(0, dash));
    auto hi = number(std::string_view(v).substr(dash + 1));
    if (lo && hi && *lo <= *hi) return config::Range{*lo, *hi};
  }
  return std::nullopt;
}

// Prefix forms of protocols.md §4.5: "10.0.0.0/8", bare "10" (= 10.0.0.0/32), dotted masks.
std::optional<IpPrefix> parse_junos_prefix(const std::string& text, std::string& why) {
  std::string addr = text;
  std::string len;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    addr = text.substr(0, slash);
    len = text.substr(slash + 1);
  }
  if (addr.find(':') == std::string::npos) {
    auto dots = std::count(addr.begin(), addr.end(), '.');
    for (auto k = dots; k < 3; ++k) addr += ".0";
  }
  auto a = IpAddress::parse(addr);
  if (!a) {
    why = "not an IP address or prefix";
    return std::nullopt;
  }
  int max = a->is_v4() ? 32 : 128;
  int bits = max;
  if (!len.empty()) {
    if (len.find('.') != std::string::npos) {
      auto mask = IpAddress::parse(len);
      if (!mask || !mask->is_v4()) {
        why = "bad mask";
        return std::nullopt;
      }
      std::uint32_t m = mask->v4_host_order();
      int ones = 0;
      while (ones < 32 && (m & (0x80000000u >> ones)) != 0) ++ones;
      std::uint32_t contiguous = ones == 0 ? 0 : ~std::uint32_t{0} << (32 - ones);
      if (m != contiguous) {
        why = "non-contiguous masks are not supported by the software mirror";
        return std::nullopt;
      }
      bits = ones;
    } else {
      auto n = parse_uint(len);
      if (!n || *n > static_cast<std::uint64_t>(max)) {
        why = fmt::format("prefix length must be 0-{}", max);
        return std::nullopt;
      }
      bits = static_cast<int>(*n);
    }
  }
  return IpPrefix{*a, bits};
}

class Builder {
 public:
  Builder(const SourceSet& sources, std::vector<Diagnostic>& diags)
      : sources_(sources), diags_(diags) {}

  RouterModel build(const Node& root) {
    prefix_lists_ = &root;
    if (const Node* ifs = root.find("interfaces")) {
      m_.has_interfaces = true;
      for (const Node& i : ifs->children) {
        if (!i.inactive && !i.unknown && i.spec && i.spec->kind == SpecKind::kEntry) {
          interface(i);
        }
      }
    }
    if (const Node* fo = root.find("forwarding-options")) {
      groups_ = fo;
      if (const Node* pm = fo->find("port-mirroring")) {
        m_.has_port_mirroring = true;
        m_.port_mirroring_location = pm->location;
        mirror_instance(*pm, "");
        for (const Node* inst : pm->all("instance")) mirror_instance(*inst, inst->value());
        if (pm->find("mirror-once")) m_.mirror_once = true;
      }
    }
    if (const Node* fw = root.find("firewall")) {
      m_.has_firewall = true;
      for (const Node* pol : fw->all("policer")) policer(*pol);
      for (const Node* fam : fw->all("family")) {
        std::optional<config::Family> f = family(*fam);
        if (!f) continue;
        for (const Node* flt : fam->all("filter")) filter(*flt, *f);
      }
      for (const Node* flt : fw->all("filter")) filter(*flt, config::Family::kInet);
    }
    if (const Node* ro = root.find("routing-options")) {
      m_.has_routing_options = true;
      if (const Node* st = ro->find("static")) {
        for (const Node* r : st->all("route")) route(*r);
      }
      for (const Node* rib : ro->all("rib")) {
        if (rib->value() != "inet.0" && rib->value() != "inet6.0") continue;
        if (const Node* st = rib->find("static")) {
          for (const Node* r : st->all("route")) route(*r);
        }
      }
    }
    if (const Node* ch = root.find("chassis")) {
      m_.has_chassis = true;
      for (const Node* fpc : ch->all("fpc")) chassis_fpc(*fpc);
    }
    for (const Node* fpc : root.all("fpc")) {
      m_.has_chassis = true;
      diags_.push_back(sources_.diagnostic(
          Severity::kNote, fpc->location,
          fmt::format("'fpc {}' at the top level: read as [edit chassis fpc {}] (the seed's MX "
                      "snippet omits 'chassis')",
                      fpc->value(), fpc->value())));
      chassis_fpc(*fpc);
    }
    return std::move(m_);
  }

 private:
  void error(const SourceLocation& at, std::string msg) {
    diags_.push_back(sources_.diagnostic(Severity::kError, at, std::move(msg)));
  }
  void warning(const SourceLocation& at, std::string msg) {
    diags_.push_back(sources_.diagnostic(Severity::kWarning, at, std::move(msg)));
  }

  // Unsigned value of `n` in [lo, hi]; error with location otherwise.
  std::optional<std::uint32_t> number(const Node& n, std::uint64_t lo, std::uint64_t hi,
                                      std::size_t index = 0) {
    const std::string& v = index < n.values.size() ? n.values[index] : n.value();
    auto x = parse_uint(v);
    if (!x) {
      error(n.value_location(index), fmt::format("'{}' needs a number, got '{}'", n.keyword, v));
      return std::nullopt;
    }
    if (*x < lo || *x > hi) {
      error(n.value_location(index),
            fmt::format("{} {} is out of range: must be {}-{}", n.keyword, v, lo, hi));
      return std::nullopt;
    }
    return static_cast<std::uint32_t>(*x);
  }

  std::optional<IpAddress> address(const Node& n) {
    auto a = IpAddress::parse(n.value());
    if (!a) error(n.value_location(), fmt::format("'{}' is not an IP address", n.value()));
    return a;
  }

  std::optional<config::Family> family(const Node& n) {
    if (n.value() == "inet") return config::Family::kInet;
    if (n.value() == "inet6") return config::Family::kInet6;
    warning(n.value_location(),
            fmt::format("family '{}' is not used for mirroring by portmirror; ignored", n.value()));
    return std::nullopt;
  }

  void interface(const Node& i) {
    InterfaceModel im;
    im.name = i.keyword;
    im.location = i.location;
    if (const Node* d = i.find("description")) im.description = d->value();
    if (const Node* sp = i.find("speed")) {
      im.speed = sp->value();
      im.speed_location = sp->value_location();
      if (im.speed != "auto" && !parse_scaled(im.speed)) {
        error(sp->value_location(),
              fmt::format("speed '{}' is not a speed (10m, 100m, 1g, 10g, 100g, ...)", im.speed));
      }
    }
    for (const Node* u : i.all("unit")) {
      UnitModel um;
      um.interface = im.name;
      um.location = u->location;
      auto n = number(*u, 0, 1073741823);
      if (!n) continue;
      um.unit = *n;
      if (const Node* d = u->find("description")) um.description = d->value();
      if (const Node* t = u->find("tunnel")) {
        TunnelModel tm;
        tm.location = t->location;
        if (const Node* s = t->find("source")) tm.source = address(*s);
        if (const Node* s = t->find("destination")) tm.destination = address(*s);
        if (const Node* s = t->find("ttl")) {
          if (auto v = number(*s, 1, 255)) tm.ttl = static_cast<std::uint8_t>(*v);
        }
        if (const Node* s = t->find("key")) {
          if (auto v = number(*s, 0, 4294967295u)) tm.key = *v;
        }
        um.tunnel = tm;
      }
      for (const Node* fam : u->all("family")) {
        bool v6 = fam->value() == "inet6";
        if (fam->value() != "inet" && !v6) continue;
        (v6 ? um.has_family_inet6 : um.has_family_inet) = true;
        for (const Node* a : fam->all("address")) {
          std::string why;
          auto p = parse_junos_prefix(a->value(), why);
          if (!p) {
            error(a->value_location(), fmt::format("address '{}': {}", a->value(), why));
            continue;
          }
          if (p->address.is_v4() == v6) {
            error(a->value_location(),
                  fmt::format("address '{}' is an {} address under 'family {}'", a->value(),
                              v6 ? "IPv4" : "IPv6", fam->value()));
            continue;
          }
          (v6 ? um.inet6_addresses : um.inet_addresses).push_back(*p);
        }
        if (const Node* f = fam->find("filter")) {
          if (const Node* in = f->find("input")) {
            (v6 ? um.filter6_input : um.filter_input) = in->value();
            (v6 ? um.filter6_input_location : um.filter_input_location) = in->value_location();
          }
          if (const Node* out = f->find("output")) {
            (v6 ? um.filter6_output : um.filter_output) = out->value();
            (v6 ? um.filter6_output_location : um.filter_output_location) = out->value_location();
          }
        }
      }
      im.units.push_back(std::move(um));
    }
    m_.interfaces.push_back(std::move(im));
  }

  void read_input(const Node* in, InstanceModel& im) {
    if (in == nullptr) return;
    if (const Node* r = in->find("rate")) {
      im.rate_location = r->value_location();
      if (auto v = number(*r, 1, 65535)) {
        im.rate = *v;
        im.rate_set = true;
      }
    }
    if (const Node* r = in->find("run-length")) {
      im.run_length_location = r->value_location();
      if (auto v = number(*r, 0, 20)) {
        im.run_length = *v;
        im.run_length_set = true;
      }
    }
    if (const Node* r = in->find("maximum-packet-length")) {
      if (auto v = number(*r, 0, 9216)) im.maximum_packet_length = *v;
    }
  }

  void read_output(const Node* out, InstanceModel& im) {
    if (out == nullptr) return;
    for (const Node* i : out->all("interface")) {
      MirrorOutput mo{i->value(), {}, i->value_location()};
      if (const Node* nh = i->find("next-hop")) {
        for (std::size_t k = 0; k < nh->values.size(); ++k) {
          auto a = IpAddress::parse(nh->values[k]);
          if (a) {
            mo.next_hops.push_back(*a);
          } else {
            error(nh->value_location(k), fmt::format("'{}' is not an IP address", nh->values[k]));
          }
        }
      }
      im.outputs.push_back(std::move(mo));
    }
    if (const Node* g = out->find("next-hop-group")) {
      im.next_hop_group = g->value();
      const Node* grp = groups_ ? groups_->find("next-hop-group", g->value()) : nullptr;
      if (grp == nullptr) {
        error(
            g->value_location(),
            fmt::format("next-hop-group '{}' is not defined under forwarding-options", g->value()));
      } else {
        for (const Node* i : grp->all("interface")) {
          im.outputs.push_back(MirrorOutput{i->value(), {}, i->value_location()});
        }
      }
    }
    if (out->find("no-filter-check")) im.no_filter_check = true;
  }

  void mirror_instance(const Node& pm, const std::string& name) {
    InstanceModel base;
    base.name = name;
    base.location = pm.location;
    base.instance_location = pm.location;
    read_input(pm.find("input"), base);
    bool any = false;
    for (const Node* fam : pm.all("family")) {
      std::optional<config::Family> f = family(*fam);
      if (!f) continue;
      InstanceModel im = base;
      im.family = *f;
      im.location = fam->location;
      read_input(fam->find("input"), im);
      read_output(fam->find("output"), im);
      if (*f == config::Family::kInet) read_output(pm.find("output"), im);  // deprecated place
      m_.instances.push_back(std::move(im));
      any = true;
    }
    if (!any && (pm.find("input") || pm.find("output") || !name.empty())) {
      read_output(pm.find("output"), base);
      m_.instances.push_back(std::move(base));
    }
  }

  void prefixes(const Node& list, std::vector<config::PrefixEntry>& out,
                std::vector<SourceLocation>* locs, bool except_all = false) {
    for (const Node& e : list.children) {
      if (e.inactive || e.unknown) continue;
      std::string why;
      auto p = parse_junos_prefix(e.keyword, why);
      if (!p) {
        error(e.location, fmt::format("'{}': {}", e.keyword, why));
        continue;
      }
      out.push_back(config::PrefixEntry{*p, except_all || e.find("except") != nullptr});
      if (locs) locs->push_back(e.location);
    }
  }

  void prefix_list_refs(const Node& refs, std::vector<config::PrefixEntry>& out) {
    const Node* po = prefix_lists_->find("policy-options");
    for (const Node& e : refs.children) {
      if (e.inactive || e.unknown) continue;
      const Node* pl = po ? po->find("prefix-list", e.keyword) : nullptr;
      if (pl == nullptr) {
        error(e.location,
              fmt::format("prefix-list '{}' is not defined under policy-options", e.keyword));
        continue;
      }
      prefixes(*pl, out, nullptr, e.find("except") != nullptr);
    }
  }

  void values(const Node& from, const char* kw, config::ValueMatch& vm,
              std::optional<config::Range> (*parse)(const std::string&)) {
    for (bool except : {false, true}) {
      const Node* n = from.find(except ? std::string(kw) + "-except" : std::string(kw));
      if (n == nullptr) continue;
      vm.except = except;
      for (std::size_t k = 0; k < n->values.size(); ++k) {
        auto r = parse(n->values[k]);
        if (!r) {
          error(n->value_location(k),
                fmt::format("{} '{}' is not a known name, number or range", kw, n->values[k]));
          continue;
        }
        vm.values.push_back(*r);
      }
    }
  }

  void filter(const Node& f, config::Family fam) {
    FilterModel fm;
    fm.filter.name = f.value();
    fm.filter.family = fam;
    fm.location = f.location;
    for (const Node* t : f.all("term")) {
      TermModel tm;
      tm.location = t->location;
      config::Term& term = tm.term;
      term.name = t->value();
      if (const Node* from = t->find("from")) {
        auto& m = term.from;
        if (const Node* n = from->find("source-address")) {
          prefixes(*n, m.source_address, &tm.source_address_locations);
        }
        if (const Node* n = from->find("destination-address"))
          prefixes(*n, m.destination_address, nullptr);
        if (const Node* n = from->find("address")) prefixes(*n, m.address, nullptr);
        if (const Node* n = from->find("source-prefix-list"))
          prefix_list_refs(*n, m.source_address);
        if (const Node* n = from->find("destination-prefix-list")) {
          prefix_list_refs(*n, m.destination_address);
        }
        if (const Node* n = from->find("prefix-list")) prefix_list_refs(*n, m.address);
        values(*from, "protocol", m.protocol, parse_protocol);
        values(*from, "next-header", m.protocol, parse_protocol);
        values(*from, "payload-protocol", m.protocol, parse_protocol);
        values(*from, "source-port", m.source_port, parse_port);
        values(*from, "destination-port", m.destination_port, parse_port);
        values(*from, "port", m.port, parse_port);
        values(*from, "icmp-type", m.icmp_type, parse_icmp_type);
        values(*from, "icmp-code", m.icmp_code,
               [](const std::string& v) { return lookup_or_range(v, {}, 255); });
        values(*from, "dscp", m.dscp, parse_dscp);
        values(*from, "traffic-class", m.dscp, parse_dscp);
        std::vector<std::string> flags;
        if (const Node* n = from->find("tcp-flags")) flags.push_back(n->value());
        if (from->find("tcp-established")) flags.emplace_back("(ack | rst)");
        if (from->find("tcp-initial")) flags.emplace_back("(syn & !ack)");
        for (const auto& s : flags) m.tcp_flags += (m.tcp_flags.empty() ? "" : " & ") + s;
        if (from->find("first-fragment")) m.first_fragment = true;
        if (from->find("is-fragment")) m.is_fragment = true;
        if (!m.address.empty() && !m.destination_address.empty()) {
          error(from->location,
                "'address' cannot be combined with 'destination-address' in one "
                "term (protocols.md §4.5)");
        }
      }
      if (const Node* then = t->find("then")) {
        if (const Node* n = then->find("port-mirror")) {
          term.port_mirror = true;
          tm.mirror_location = n->location;
        }
        if (const Node* n = then->find("port-mirror-instance")) {
          term.port_mirror = true;
          term.mirror_instance = n->value();
          tm.mirror_location = n->location;
        }
        if (const Node* n = then->find("count")) term.count = n->value();
        if (then->find("policer") || then->find("three-color-policer")) tm.has_policer = true;
        if (const Node* n = then->find("policer")) {
          tm.policer = n->value();
          tm.policer_location = n->value_location();
          if (m_.find_policer(tm.policer) == nullptr) {
            error(n->value_location(),
                  fmt::format("term {} of filter {} uses policer '{}', which is not defined "
                              "under 'firewall' (firewall policer {} {{ if-exceeding {{ "
                              "bandwidth-limit ...; burst-size-limit ...; }} then discard; }})",
                              t->value(), f.value(), tm.policer, tm.policer));
          }
        }
        int terminating = 0;
        if (then->find("accept")) {
          term.verdict = config::TermVerdict::kAccept;
          ++terminating;
        }
        if (then->find("discard")) {
          term.verdict = config::TermVerdict::kDiscard;
          ++terminating;
        }
        if (then->find("reject")) {
          term.verdict = config::TermVerdict::kReject;
          ++terminating;
        }
        if (const Node* n = then->find("next")) {
          if (n->value() != "term") {
            error(n->value_location(), "only 'next term' is supported");
          } else {
            tm.next_term = true;
            tm.next_term_location = n->location;
            if (terminating > 0) {
              error(n->location,
                    "'next term' cannot be combined with a terminating action "
                    "(protocols.md §4.4)");
            }
            term.verdict = config::TermVerdict::kNextTerm;
          }
        }
        if (terminating > 1) error(then->location, "more than one terminating action in one term");
      }
      fm.filter.terms.push_back(term);
      fm.terms.push_back(std::move(tm));
    }
    m_.filters.push_back(std::move(fm));
  }

  // A Junos rate or size with k/m/g suffix, in [lo, hi]; error with location otherwise.
  std::optional<std::uint64_t> scaled(const Node& n, std::uint64_t lo, std::uint64_t hi,
                                      const char* unit) {
    auto v = parse_scaled(n.value());
    if (!v) {
      error(n.value_location(), fmt::format("{} '{}' is not a number with an optional k, m or g "
                                            "suffix (e.g. 10m)",
                                            n.keyword, n.value()));
      return std::nullopt;
    }
    if (*v < lo || *v > hi) {
      error(n.value_location(), fmt::format("{} {} is out of range: must be {}-{} {}", n.keyword,
                                            n.value(), lo, hi, unit));
      return std::nullopt;
    }
    return v;
  }

  void policer(const Node& p) {
    PolicerModel pm;
    pm.name = p.value();
    pm.location = p.location;
    if (const Node* ie = p.find("if-exceeding")) {
      // Ranges of Junos' "Policer Bandwidth and Burst-Size Limits" table (single-rate two-color):
      // bandwidth-limit 8000 up to 2^64-1 on MX (M and T Series stop at 100g), burst-size-limit
      // 1500 to 10,000,000,000 bytes.
      if (const Node* n = ie->find("bandwidth-limit")) {
        if (auto v = scaled(*n, 8'000, std::numeric_limits<std::uint64_t>::max(), "bit/s"))
          pm.bandwidth_bps = *v;
      }
      if (const Node* n = ie->find("bandwidth-percent")) {
        if (auto v = number(*n, 1, 100)) pm.bandwidth_percent = *v;
      }
      if (const Node* n = ie->find("burst-size-limit")) {
        if (auto v = scaled(*n, 1'500, 10'000'000'000, "bytes")) pm.burst_bytes = *v;
      }
      if (ie->find("bandwidth-limit") && ie->find("bandwidth-percent")) {
        error(ie->location,
              fmt::format("policer {}: 'bandwidth-limit' and 'bandwidth-percent' exclude each "
                          "other",
                          pm.name));
      } else if (!ie->find("bandwidth-limit") && !ie->find("bandwidth-percent")) {
        error(ie->location, fmt::format("policer {}: 'if-exceeding' needs 'bandwidth-limit' or "
                                        "'bandwidth-percent'",
                                        pm.name));
      }
      if (!ie->find("burst-size-limit")) {
        error(ie->location,
              fmt::format("policer {}: 'if-exceeding' needs 'burst-size-limit'", pm.name));
      }
    }
    if (const Node* ie = p.find("if-exceeding-pps")) {
      if (const Node* n = ie->find("pps-limit")) {
        if (auto v = scaled(*n, 1, 100'000'000'000, "packets/s")) pm.pps = *v;
      }
      if (const Node* n = ie->find("packet-burst")) {
        if (auto v = scaled(*n, 1, 100'000'000'000, "packets")) pm.packet_burst = *v;
      }
    }
    if (!p.find("if-exceeding") && !p.find("if-exceeding-pps")) {
      error(p.location, fmt::format("policer {} has no 'if-exceeding' limits", pm.name));
    }
    if (const Node* th = p.find("then")) pm.discard = th->find("discard") != nullptr;
    m_.policers.push_back(std::move(pm));
  }

  void route(const Node& r) {
    std::string why;
    auto p = parse_junos_prefix(r.value(), why);
    if (!p) {
      error(r.value_location(), fmt::format("route '{}': {}", r.value(), why));
      return;
    }
    StaticRoute sr{*p, {}, r.location};
    if (const Node* nh = r.find("next-hop")) {
      for (std::size_t k = 0; k < nh->values.size(); ++k) {
        if (auto a = IpAddress::parse(nh->values[k])) sr.next_hops.push_back(*a);
        // An interface name as next-hop is legal Junos; it is not an address we can route by.
      }
    }
    m_.routes.push_back(std::move(sr));
  }

  void chassis_fpc(const Node& fpc) {
    auto slot = number(fpc, 0, 255);
    if (!slot) return;
    auto bind = [&](const Node& at, std::optional<std::uint32_t> pic) {
      if (const Node* pmi = at.find("port-mirror-instance")) {
        for (std::size_t k = 0; k < pmi->values.size(); ++k) {
          m_.instance_bindings.push_back(
              InstanceBinding{*slot, pic, pmi->values[k], pmi->value_location(k)});
        }
      }
    };
    bind(fpc, std::nullopt);
    for (const Node* pic : fpc.all("pic")) {
      auto p = number(*pic, 0, 255);
      if (!p) continue;
      bind(*pic, *p);
      if (const Node* ts = pic->find("tunnel-services")) {
        TunnelServices t{*slot, *p, "", ts->location};
        if (const Node* bw = ts->find("bandwidth")) {
          t.bandwidth = bw->value();
          static const char* const kOk[] = {"1g",  "10g",  "20g",  "30g",  "40g",
                                            "50g", "60g",  "65g",  "70g",  "80g",
                                            "90g", "100g", "200g", "300g", "400g"};
          if (std::find_if(std::begin(kOk), std::end(kOk),
                           [&](const char* s) { return t.bandwidth == s; }) == std::end(kOk)) {
            error(bw->value_location(),
                  fmt::format("tunnel-services bandwidth '{}' is not one of 1g, 10g, 20g, ... "
                              "100g (protocols.md §4.3)",
                              t.bandwidth));
          }
        }
        m_.tunnel_services.push_back(std::move(t));
      }
    }
  }

  const SourceSet& sources_;
  std::vector<Diagnostic>& diags_;
  RouterModel m_;
  const Node* groups_ = nullptr;
  const Node* prefix_lists_ = nullptr;
};

}  // namespace

std::pair<std::string, std::uint32_t> split_unit(const std::string& name) {
  auto dot = name.rfind('.');
  auto slash = name.rfind('/');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) {
    if (auto u = parse_uint(std::string_view(name).substr(dot + 1)); u && *u <= 0xFFFFFFFFu) {
      return {name.substr(0, dot), static_cast<std::uint32_t>(*u)};
    }
  }
  return {name, 0};
}

const std::string& UnitModel::filter(config::Family family, bool output) const {
  if (family == config::Family::kInet6) return output ? filter6_output : filter6_input;
  return output ? filter_output : filter_input;
}

SourceLocation UnitModel::filter_location(config::Family family, bool output) const {
  if (family == config::Family::kInet6) {
    return output ? filter6_output_location : filter6_input_location;
  }
  return output ? filter_output_location : filter_input_location;
}

bool parse_fpc_pic_port(const std::string& ifname, std::uint32_t& fpc, std::uint32_t& pic,
                        std::uint32_t& port) {
  auto dash = ifname.find('-');
  if (dash == std::string::npos) return false;
  std::uint32_t v[3] = {0, 0, 0};
  const char* p = ifname.data() + dash + 1;
  const char* end = ifname.data() + ifname.size();
  for (int k = 0; k < 3; ++k) {
    auto [q, ec] = std::from_chars(p, end, v[k]);
    if (ec != std::errc()) return false;
    p = q;
    if (k < 2) {
      if (p == end || *p != '/') return false;
      ++p;
    }
  }
  // A channel (`t1-1/0/3:3`) is allowed after the port.
  if (p != end && (*p != ':' || !parse_uint(std::string_view(p + 1, end)))) return false;
  fpc = v[0];
  pic = v[1];
  port = v[2];
  return true;
}

std::optional<std::uint64_t> parse_scaled(const std::string& v) {
  if (v.empty()) return std::nullopt;
  std::uint64_t scale = 1;
  std::string_view digits(v);
  switch (v.back()) {
    case 'k':
    case 'K':
      scale = 1'000;
      break;
    case 'm':
    case 'M':
      scale = 1'000'000;
      break;
    case 'g':
    case 'G':
      scale = 1'000'000'000;
      break;
    default:
      break;
  }
  if (scale != 1) digits.remove_suffix(1);
  // One decimal part is allowed with a suffix (2.5g).
  std::string_view frac;
  if (auto dot = digits.find('.'); dot != std::string_view::npos && scale != 1) {
    frac = digits.substr(dot + 1);
    digits = digits.substr(0, dot);
    if (frac.empty() || frac.size() > 9) return std::nullopt;
  }
  auto whole = parse_uint(digits);
  if (!whole || *whole > std::numeric_limits<std::uint64_t>::max() / scale) return std::nullopt;
  std::uint64_t out = *whole * scale;
  if (!frac.empty()) {
    auto f = parse_uint(frac);
    if (!f) return std::nullopt;
    std::uint64_t div = 1;
    for (std::size_t k = 0; k < frac.size(); ++k) div *= 10;
    out += *f * scale / div;
  }
  return out;
}

const InterfaceModel* RouterModel::find_interface(const std::string& name) const {
  for (const auto& i : interfaces) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

const PolicerModel* RouterModel::find_policer(const std::string& name) const {
  for (const auto& p : policers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const FilterModel* RouterModel::find_filter(const std::string& name, config::Family family) const {
  for (const auto& f : filters) {
    if (f.filter.name == name && f.filter.family == family) return &f;
  }
  return nullptr;
}

namespace {

InterfaceSpeed speed_from_name(const std::string& ifname) {
  auto dash = ifname.find('-');
  std::string media = dash == std::string::npos ? ifname : ifname.substr(0, dash);
  struct Entry {
    const char* media;
    std::uint64_t bps;
    const char* text;
    bool high;
  };
  static const Entry kMedia[] = {
      {"ge", 1'000'000'000, "1 Gb/s Ethernet", true},
      {"xe", 10'000'000'000, "10 Gb/s Ethernet", true},
      {"et", 0, "40/100 Gb/s Ethernet", true},
      {"mge", 0, "multi-gigabit Ethernet", true},
      {"fe", 100'000'000, "100 Mb/s Ethernet", false},
      {"t1", 1'544'000, "T1, 1.544 Mb/s", false},
      {"e1", 2'048'000, "E1, 2.048 Mb/s", false},
      {"t3", 44'736'000, "T3, 45 Mb/s", false},
      {"e3", 34'368'000, "E3, 34 Mb/s", false},
  };
  InterfaceSpeed s;
  for (const auto& e : kMedia) {
    if (media == e.media) {
      s.bps = e.bps;
      s.text = e.text;
      s.high = e.high;
      return s;
    }
  }
  if (ifname.rfind("ae", 0) == 0) {
    s.text = "aggregated Ethernet";
    s.high = true;
  }
  return s;
}

std::string speed_text(std::uint64_t bps) {
  if (bps >= 1'000'000'000 && bps % 100'000'000 == 0) {
    return bps % 1'000'000'000 == 0
               ? fmt::format("{} Gb/s", bps / 1'000'000'000)
               : fmt::format("{}.{} Gb/s", bps / 1'000'000'000, bps % 1'000'000'000 / 100'000'000);
  }
  if (bps >= 1'000'000 && bps % 1'000'000 == 0) return fmt::format("{} Mb/s", bps / 1'000'000);
  return fmt::format("{} b/s", bps);
}

}  // namespace

const InstanceBinding* RouterModel::bound_instance(const std::string& interface,
                                                   bool* ambiguous) const {
  if (ambiguous != nullptr) *ambiguous = false;
  std::uint32_t fpc = 0;
  std::uint32_t pic = 0;
  std::uint32_t port = 0;
  if (!parse_fpc_pic_port(split_unit(interface).first, fpc, pic, port)) return nullptr;
  std::vector<const InstanceBinding*> at_pic;
  std::vector<const InstanceBinding*> at_fpc;
  for (const auto& b : instance_bindings) {
    if (b.fpc != fpc) continue;
    if (b.pic && *b.pic == pic) at_pic.push_back(&b);
    if (!b.pic) at_fpc.push_back(&b);
  }
  const auto& level = at_pic.empty() ? at_fpc : at_pic;
  if (level.size() > 1) {
    if (ambiguous != nullptr) *ambiguous = true;
    return nullptr;
  }
  return level.empty() ? nullptr : level[0];
}

std::string RouterModel::effective_instance(const std::string& interface,
                                            const std::string& term_instance) const {
  if (!term_instance.empty()) return term_instance;
  const InstanceBinding* b = bound_instance(interface);
  return b != nullptr ? b->instance : std::string();
}

InterfaceSpeed RouterModel::speed(const std::string& interface) const {
  const InterfaceModel* i = find_interface(interface);
  if (i != nullptr && !i->speed.empty() && i->speed != "auto") {
    if (auto bps = parse_scaled(i->speed)) {
      InterfaceSpeed s;
      s.bps = *bps;
      s.text = speed_text(*bps);
      s.high = *bps >= 1'000'000'000;
      s.configured = true;
      s.location = i->speed_location;
      return s;
    }
  }
  return speed_from_name(interface);
}

const UnitModel* RouterModel::find_unit(const std::string& interface, std::uint32_t unit) const {
  for (const auto& i : interfaces) {
    if (i.name != interface) continue;
    for (const auto& u : i.units) {
      if (u.unit == unit) return &u;
    }
  }
  return nullptr;
}

const UnitModel* RouterModel::find_unit(const std::string& dotted) const {
  auto [i, u] = split_unit(dotted);
  return find_unit(i, u);
}

const FilterModel* RouterModel::find_filter(const std::string& name) const {
  for (const auto& f : filters) {
    if (f.filter.name == name) return &f;
  }
  return nullptr;
}

RouterModel build_model(const Node& root, const SourceSet& sources,
                        std::vector<Diagnostic>& diags) {
  return Builder(sources, diags).build(root);
}

std::optional<config::Range> parse_port(const std::string& v) {
  static const std::map<std::string, std::uint32_t, std::less<>> kNames = {
      {"ftp-data", 20},     {"ftp", 21},          {"ssh", 22},
      {"telnet", 23},       {"smtp", 25},         {"tacacs", 49},
      {"domain", 53},       {"bootps", 67},       {"bootpc", 68},
      {"tftp", 69},         {"http", 80},         {"kerberos-sec", 88},
      {"pop3", 110},        {"sunrpc", 111},      {"ident", 113},
      {"nntp", 119},        {"ntp", 123},         {"netbios-ns", 137},
      {"netbios-dgm", 138}, {"netbios-ssn", 139}, {"imap", 143},
      {"snmp", 161},        {"snmptrap", 162},    {"xdmcp", 177},
      {"bgp", 179},         {"ldap", 389},        {"https", 443},
      {"ike", 500},         {"biff", 512},        {"exec", 512},
      {"login", 513},       {"who", 513},         {"cmd", 514},
      {"syslog", 514},      {"printer", 515},     {"talk", 517},
      {"ntalk", 518},       {"rip", 520},         {"timed", 525},
      {"klogin", 543},      {"kpasswd", 761},     {"ldp", 646},
      {"eklogin", 2105},    {"krb-prop", 754},    {"mobileip-agent", 434},
      {"mobilip-mn", 435},  {"msdp", 639},        {"radius", 1812},
      {"radacct", 1813},    {"nfsd", 2049},       {"pptp", 1723},
      {"cvspserver", 2401}, {"hostname", 101},    {"socks", 1080},
      {"zephyr-srv", 2102}, {"zephyr-clt", 2103}, {"zephyr-hm", 2104},
      {"dhcp", 67},         {"afs", 1483},        {"http-alt", 8080}};
  return lookup_or_range(v, kNames, 65535);
}

std::optional<config::Range> parse_protocol(const std::string& v) {
  static const std::map<std::string, std::uint32_t, std::less<>> kNames = {{"hop-by-hop", 0},
                                                                           {"icmp", 1},
                                                                           {"igmp", 2},
                                                                           {"ipip", 4},
                                                                           {"tcp", 6},
                                                                           {"egp", 8},
                                                                           {"udp", 17},
                                                                           {"ipv6", 41},
                                                                           {"routing", 43},
                                                                           {"fragment", 44},
                                                                           {"rsvp", 46},
                                                                           {"gre", 47},
                                                                           {"esp", 50},
                                                                           {"ah", 51},
                                                                           {"icmp6", 58},
                                                                           {"icmpv6", 58},
                                                                           {"no-next-header", 59},
                                                                           {"dstopts", 60},
                                                                           {"ospf", 89},
                                                                           {"pim", 103},
                                                                           {"vrrp", 112},
                                                                           {"sctp", 132}};
  return lookup_or_range(v, kNames, 255);
}

std::optional<config::Range> parse_icmp_type(const std::string& v) {
  static const std::map<std::string, std::uint32_t, std::less<>> kNames = {
      {"echo-reply", 0},      {"unreachable", 3},      {"source-quench", 4},
      {"redirect", 5},        {"echo-request", 8},     {"router-advertisement", 9},
      {"router-solicit", 10}, {"time-exceeded", 11},   {"parameter-problem", 12},
      {"timestamp", 13},      {"timestamp-reply", 14}, {"info-request", 15},
      {"info-reply", 16},     {"mask-request", 17},    {"mask-reply", 18}};
  return lookup_or_range(v, kNames, 255);
}

std::optional<config::Range> parse_dscp(const std::string& v) {
  static const std::map<std::string, std::uint32_t, std::less<>> kNames = [] {
    std::map<std::string, std::uint32_t, std::less<>> m = {{"be", 0}, {"ef", 46}};
    for (std::uint32_t x = 1; x <= 4; ++x) {
      for (std::uint32_t y = 1; y <= 3; ++y) m[fmt::format("af{}{}", x, y)] = 8 * x + 2 * y;
    }
    for (std::uint32_t n = 0; n <= 7; ++n) m[fmt::format("cs{}", n)] = 8 * n;
    return m;
  }();
  return lookup_or_range(v, kNames, 63);
}

}  // namespace portmirror::junos

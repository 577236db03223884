#include "portmirror/junos/check.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace portmirror::junos {

namespace {

// Longest-prefix match over a Junos address list (protocols.md §4.5): the most specific entry
// decides, `except` entries exclude; no entry => no match.
bool list_matches(const std::vector<config::PrefixEntry>& list, const IpAddress& a) {
  const config::PrefixEntry* best = nullptr;
  for (const auto& e : list) {
    if (e.prefix.contains(a) && (best == nullptr || e.prefix.length > best->prefix.length)) {
      best = &e;
    }
  }
  return best != nullptr && !best->except;
}

bool value_matches(const config::ValueMatch& vm, std::uint32_t v) {
  if (vm.empty()) return true;
  bool any = std::any_of(vm.values.begin(), vm.values.end(),
                         [&](const config::Range& r) { return r.contains(v); });
  return vm.except ? !any : any;
}

// Would a GRE packet (protocol 47, no ports, DSCP 0) from `src` to `dst` match term `m`?
bool gre_matches(const config::MatchSpec& m, const std::optional<IpAddress>& src,
                 const IpAddress& dst) {
  if (!m.source_address.empty() && (!src || !list_matches(m.source_address, *src))) return false;
  if (!m.destination_address.empty() && !list_matches(m.destination_address, dst)) return false;
  if (!m.address.empty() && !list_matches(m.address, dst) &&
      (!src || !list_matches(m.address, *src))) {
    return false;
  }
  if (!value_matches(m.protocol, 47)) return false;
  if (!m.source_port.empty() || !m.destination_port.empty() || !m.port.empty() ||
      !m.icmp_type.empty() || !m.icmp_code.empty() || !m.tcp_flags.empty() || m.is_fragment) {
    return false;
  }
  return value_matches(m.dscp, 0);
}

bool overlaps(const IpPrefix& a, const IpPrefix& b) {
  if (a.address.family() != b.address.family()) return false;
  return a.length <= b.length ? a.contains(b.address) : b.contains(a.address);
}

// The network of an interface address: 192.168.35.1/30 -> 192.168.35.0/30.
IpPrefix network_of(const IpPrefix& p) {
  IpPrefix out = p;
  if (p.address.is_v4()) {
    std::uint32_t mask = p.length == 0 ? 0 : ~std::uint32_t{0} << (32 - p.length);
    out.address = IpAddress::v4(p.address.v4_host_order() & mask);
  } else if (p.address.is_v6()) {
    std::array<std::uint8_t, 16> b{};
    ByteSpan in = p.address.bytes();
    for (std::size_t k = 0; k < 16; ++k) {
      int keep = std::clamp(p.length - static_cast<int>(k) * 8, 0, 8);
      b[k] = static_cast<std::uint8_t>(in[k] & (0xFF00u >> keep));
    }
    out.address = IpAddress::v6(ByteSpan(b));
  }
  return out;
}

const char* family_name(config::Family f) {
  return f == config::Family::kInet6 ? "inet6" : "inet";
}

// " (family inet6)" after a filter or unit name; nothing for inet, the common case.
std::string family_suffix(config::Family f) {
  return f == config::Family::kInet6 ? " (family inet6)" : "";
}

constexpr config::Family kFamilies[] = {config::Family::kInet, config::Family::kInet6};

const std::vector<IpPrefix>& addresses(const UnitModel& u, config::Family f) {
  return f == config::Family::kInet6 ? u.inet6_addresses : u.inet_addresses;
}

bool is_gr(const std::string& ifname) {
  return ifname.rfind("gr-", 0) == 0;
}

class Checker {
 public:
  Checker(const LoadedConfig& cfg, std::vector<Diagnostic>& diags)
      : cfg_(cfg), m_(cfg.model), diags_(diags) {}

  void run() {
    gr_units();
    outputs();
    mirror_actions();
    instances_used();
    instance_bindings();
    filter_bindings();
    run_length();
    tunnel_services();
    loops();
    output_direction();
    rate_one();
  }

 private:
  Diagnostic& add(Severity sev, const SourceLocation& at, std::string msg) {
    diags_.push_back(cfg_.sources.diagnostic(sev, at, std::move(msg)));
    return diags_.back();
  }
  void note(Diagnostic& d, const SourceLocation& at, const std::string& msg) {
    d.notes.push_back(cfg_.sources.note(at, msg));
  }

  bool instance_exists(const std::string& name) const {
    return std::any_of(m_.instances.begin(), m_.instances.end(),
                       [&](const InstanceModel& i) { return i.name == name; });
  }
  bool instance_exists(const std::string& name, config::Family family) const {
    return std::any_of(m_.instances.begin(), m_.instances.end(), [&](const InstanceModel& i) {
      return i.name == name && i.family == family;
    });
  }
  const InstanceModel* find_instance(const std::string& name) const {
    for (const auto& i : m_.instances) {
      if (i.name == name) return &i;
    }
    return nullptr;
  }

  // Units whose bound filter has a term mirroring to `instance`; with the direction.
  struct Mirrored {
    const UnitModel* unit;
    const FilterModel* filter;
    bool output;
  };
  std::vector<Mirrored> mirrored_units() const {
    std::vector<Mirrored> out;
    for (const auto& i : m_.interfaces) {
      for (const auto& u : i.units) {
        for (config::Family fam : kFamilies) {
          for (bool output : {false, true}) {
            const std::string& fname = u.filter(fam, output);
            const FilterModel* f = fname.empty() ? nullptr : m_.find_filter(fname, fam);
            if (f == nullptr) continue;
            bool mirrors = std::any_of(f->terms.begin(), f->terms.end(),
                                       [](const TermModel& t) { return t.term.port_mirror; });
            if (mirrors) out.push_back({&u, f, output});
          }
        }
      }
    }
    return out;
  }

  // Rule: gr- units need `family inet address` (seed note) and tunnel endpoints (§4.3).
  void gr_units() {
    for (const auto& i : m_.interfaces) {
      if (!is_gr(i.name)) continue;
      for (const auto& u : i.units) {
        if (!u.has_family_inet || u.inet_addresses.empty()) {
          add(Severity::kError, u.location,
              fmt::format("{} has no 'family inet address': a gr- unit needs one even if it is "
                          "never used (the seed: \"the family inet address is required, even "
                          "if not used\"); add e.g. 'family inet {{ address 172.16.28.1/30; }}'",
                          u.name()));
        }
        if (!u.tunnel) continue;
        const TunnelModel& t = *u.tunnel;
        if (!t.source || !t.destination) {
          add(Severity::kError, t.location,
              fmt::format("tunnel of {} needs both 'source' and 'destination' (protocols.md "
                          "§4.3)",
                          u.name()));
        }
        for (const auto& p : u.inet_addresses) {
          for (const auto* a : {&t.source, &t.destination}) {
            if (*a && p.contains(**a)) {
              add(Severity::kError, t.location,
                  fmt::format("tunnel endpoint {} of {} lies in the unit's own subnet {} "
                              "(Junos rejects this, protocols.md §4.3)",
                              (*a)->to_string(), u.name(), p.to_string()));
            }
          }
        }
      }
    }
  }

  // Rule: port-mirroring output names an undefined unit, or a unit that is not a tunnel.
  void outputs() {
    for (const auto& im : m_.instances) {
      for (const auto& o : im.outputs) {
        const UnitModel* u = m_.find_unit(o.interface);
        if (u == nullptr) {
          if (m_.has_interfaces) {
            add(Severity::kError, o.location,
                fmt::format("port-mirroring output interface {} is not defined under "
                            "'interfaces'",
                            o.interface));
          } else {
            add(Severity::kWarning, o.location,
                fmt::format("port-mirroring output interface {} is not defined in this "
                            "configuration (it has no 'interfaces'); check it together with the "
                            "file that defines it: portmirror check a.conf b.conf ...",
                            o.interface));
          }
          continue;
        }
        if (!u->tunnel && o.next_hops.empty() && !is_gr(u->interface)) {
          add(Severity::kWarning, o.location,
              fmt::format("port-mirroring output {} is neither a tunnel nor given a 'next-hop': "
                          "on a multipoint interface Junos needs 'next-hop' (protocols.md §4.1)",
                          o.interface));
        }
        if (u->has_filter() && !im.no_filter_check) {
          add(Severity::kWarning, o.location,
              fmt::format("mirror destination {} carries a filter but the output has no "
                          "'no-filter-check': Junos refuses to commit this (protocols.md §4.1)",
                          o.interface));
        }
      }
      if (im.outputs.empty()) {
        add(Severity::kWarning, im.location,
            fmt::format("port-mirroring {}{} has no output: mirrored copies go nowhere",
                        im.name.empty() ? "" : "instance " + im.name + " ",
                        im.family == config::Family::kInet6 ? "family inet6" : "family inet"));
      }
    }
  }

  // Rule: a port-mirror action with nowhere to go.
  void mirror_actions() {
    for (const auto& f : m_.filters) {
      for (std::size_t k = 0; k < f.terms.size(); ++k) {
        const TermModel& t = f.terms[k];
        if (t.next_term && k + 1 == f.terms.size()) {
          add(Severity::kError, t.next_term_location,
              fmt::format("'next term' in the last term of filter {} (protocols.md §4.4)",
                          f.filter.name));
        }
        if (!t.term.port_mirror) continue;
        const std::string& inst = t.term.mirror_instance;
        if (!m_.has_port_mirroring) {
          add(Severity::kWarning, t.mirror_location,
              fmt::format("term {} of filter {} says '{}' but no 'forwarding-options "
                          "port-mirroring' is configured here, so its copies go nowhere",
                          t.term.name, f.filter.name,
                          inst.empty() ? "port-mirror" : "port-mirror-instance " + inst));
        } else if (!instance_exists(inst)) {
          add(Severity::kError, t.mirror_location,
              inst.empty()
                  ? fmt::format("term {} says 'port-mirror' but port-mirroring has no global "
                                "instance (only named instances)",
                                t.term.name)
                  : fmt::format("port-mirror-instance '{}' is not configured", inst));
        } else if (!instance_exists(inst, f.filter.family)) {
          add(Severity::kWarning, t.mirror_location,
              fmt::format("term {} of family {} filter {} mirrors to {}, which has no 'family {}': "
                          "its output is configured per family, so these copies go nowhere",
                          t.term.name, family_name(f.filter.family), f.filter.name,
                          inst.empty() ? "the global port-mirroring" : "instance " + inst,
                          family_name(f.filter.family)));
        }
      }
    }
  }

  // Rule: port-mirroring that no filter term uses.
  void instances_used() {
    std::vector<std::string> seen;
    for (const auto& im : m_.instances) {
      if (std::find(seen.begin(), seen.end(), im.name) != seen.end()) continue;
      seen.push_back(im.name);
      bool used = false;
      for (const auto& f : m_.filters) {
        for (const auto& t : f.terms) {
          used = used || (t.term.port_mirror && t.term.mirror_instance == im.name);
        }
      }
      // A bound instance also serves `then port-mirror` on its FPC/PIC (PIC > FPC > global).
      for (const auto& mu : mirrored_units()) {
        for (const auto& t : mu.filter->terms) {
          used = used ||
                 (t.term.port_mirror && !im.name.empty() &&
                  m_.effective_instance(mu.unit->interface, t.term.mirror_instance) == im.name);
        }
      }
      if (used) continue;
      std::string what = im.name.empty() ? "port-mirroring" : "port-mirroring instance " + im.name;
      add(Severity::kWarning, im.name.empty() ? m_.port_mirroring_location : im.location,
          fmt::format("{} is configured but no firewall filter term {} it{}: only packets "
                      "matching such a term are mirrored (protocols.md §4.1)",
                      what,
                      im.name.empty() ? "says 'then port-mirror' to use"
                                      : "says 'then port-mirror-instance " + im.name + "' to use",
                      m_.has_firewall ? "" : " (this configuration has no 'firewall')"));
    }
  }

  // Rule: on MX a named instance used by `then port-mirror-instance NAME` takes effect only when
  // bound with `chassis fpc N [pic M] port-mirror-instance NAME` to the FPC carrying the mirrored
  // interface (protocols.md §4.1); bindings must name configured instances.
  void instance_bindings() {
    for (const auto& b : m_.instance_bindings) {
      if (find_instance(b.instance) != nullptr) continue;
      std::string where = b.pic ? fmt::format("chassis fpc {} pic {}", b.fpc, *b.pic)
                                : fmt::format("chassis fpc {}", b.fpc);
      add(Severity::kWarning, b.location,
          fmt::format("{} port-mirror-instance {}: no port-mirroring instance {} is configured{}",
                      where, b.instance, b.instance,
                      m_.has_port_mirroring
                          ? " under 'forwarding-options port-mirroring'"
                          : " (this configuration has no 'forwarding-options port-mirroring')"));
    }
    // `then port-mirror` (global) on a PFE with a bound instance goes to that instance.
    std::vector<std::string> said;
    for (const auto& mu : mirrored_units()) {
      bool ambiguous = false;
      const InstanceBinding* b = m_.bound_instance(mu.unit->interface, &ambiguous);
      if (b == nullptr) continue;
      for (const auto& t : mu.filter->terms) {
        if (!t.term.port_mirror || !t.term.mirror_instance.empty()) continue;
        std::string key = mu.unit->name() + "|" + mu.filter->filter.name;
        if (std::find(said.begin(), said.end(), key) != said.end()) break;
        said.push_back(std::move(key));
        add(Severity::kNote, b->location,
            fmt::format("'then port-mirror' of filter {} on {} mirrors to instance {} bound here, "
                        "not to the global port-mirroring (precedence PIC > FPC > global, "
                        "protocols.md §4.1)",
                        mu.filter->filter.name, mu.unit->name(), b->instance));
        break;
      }
    }
    std::vector<std::string> done;
    auto mirrored = mirrored_units();
    for (const auto& f : m_.filters) {
      for (const auto& t : f.terms) {
        const std::string& name = t.term.mirror_instance;
        if (!t.term.port_mirror || name.empty()) continue;
        if (std::find(done.begin(), done.end(), name) != done.end()) continue;
        const InstanceModel* im = find_instance(name);
        if (im == nullptr) continue;  // mirror_actions() reports it
        done.push_back(name);
        // FPCs of the interfaces whose filters use the instance.
        std::vector<std::pair<std::uint32_t, const UnitModel*>> fpcs;
        for (const auto& mu : mirrored) {
          bool uses = std::any_of(mu.filter->terms.begin(), mu.filter->terms.end(),
                                  [&](const TermModel& x) {
                                    return x.term.port_mirror && x.term.mirror_instance == name;
                                  });
          if (!uses) continue;
          std::uint32_t fpc = 0;
          std::uint32_t pic = 0;
          std::uint32_t port = 0;
          if (parse_fpc_pic_port(mu.unit->interface, fpc, pic, port) &&
              std::none_of(fpcs.begin(), fpcs.end(),
                           [&](const auto& p) { return p.first == fpc; })) {
            fpcs.emplace_back(fpc, mu.unit);
          }
        }
        std::vector<const InstanceBinding*> binds;
        for (const auto& b : m_.instance_bindings) {
          if (b.instance == name) binds.push_back(&b);
        }
        if (binds.empty()) {
          std::string fix;
          for (const auto& [fpc, unit] : fpcs) {
            fix += fmt::format("{}'chassis fpc {} port-mirror-instance {}' (FPC {} carries {})",
                               fix.empty() ? "" : " and ", fpc, name, fpc, unit->name());
          }
          auto& d =
              add(Severity::kWarning, t.mirror_location,
                  fmt::format("port-mirroring instance {} is used by term {} of filter {} but no "
                              "'chassis fpc N port-mirror-instance {}' binds it{}: on MX Series a "
                              "named instance takes effect only when bound to the FPC that carries "
                              "the mirrored interface{}",
                              name, t.term.name, f.filter.name, name,
                              m_.has_chassis ? "" : " (this configuration has no 'chassis')",
                              fix.empty() ? "" : "; add " + fix));
          note(d, im->instance_location, fmt::format("instance {} is defined here", name));
          continue;
        }
        for (const auto& [fpc, unit] : fpcs) {
          bool on_fpc =
              std::any_of(binds.begin(), binds.end(),
                          [&, f_ = fpc](const InstanceBinding* b) { return b->fpc == f_; });
          if (on_fpc) continue;
          std::string bound;
          for (const InstanceBinding* b : binds) {
            bound += fmt::format("{}FPC {}", bound.empty() ? "" : ", ", b->fpc);
          }
          auto& d = add(Severity::kWarning, binds.front()->location,
                        fmt::format("port-mirroring instance {} is bound to {} only, but {} "
                                    "(whose filter uses it) is on FPC {}: on MX Series the "
                                    "instance must be bound to the FPC carrying the mirrored "
                                    "interface; add 'chassis fpc {} port-mirror-instance {}'",
                                    name, bound, unit->name(), fpc, fpc, name));
          note(d, t.mirror_location,
               fmt::format("term {} of filter {} uses instance {}", t.term.name, f.filter.name,
                           name));
        }
      }
    }
  }

  // Rule: filters defined but bound nowhere; filters bound but not defined. A filter applies to
  // its own family only: a `family inet6` binding names a `firewall family inet6` filter.
  void filter_bindings() {
    for (const auto& f : m_.filters) {
      const config::Family fam = f.filter.family;
      bool bound = false;
      for (const auto& i : m_.interfaces) {
        for (const auto& u : i.units) {
          bound = bound || u.filter(fam, false) == f.filter.name ||
                  u.filter(fam, true) == f.filter.name;
        }
      }
      if (bound) continue;
      std::string other;  // bound, but in the other family
      for (const auto& i : m_.interfaces) {
        for (const auto& u : i.units) {
          for (config::Family of : kFamilies) {
            if (of == fam || !other.empty()) continue;
            for (bool output : {false, true}) {
              if (other.empty() && u.filter(of, output) == f.filter.name) {
                other = fmt::format(
                    " ({} names it under 'family {}', which takes a family {} "
                    "filter only)",
                    u.name(), family_name(of), family_name(of));
              }
            }
          }
        }
      }
      add(Severity::kWarning, f.location,
          fmt::format("filter {}{} is not bound to any interface{}{}: add 'filter {{ "
                      "input {}; }}' under the interface unit's 'family {}'",
                      f.filter.name, family_suffix(fam),
                      m_.has_interfaces ? "" : " (this configuration has no 'interfaces')", other,
                      f.filter.name, family_name(fam)));
    }
    for (const auto& i : m_.interfaces) {
      for (const auto& u : i.units) {
        for (config::Family fam : kFamilies) {
          for (bool output : {false, true}) {
            const std::string& name = u.filter(fam, output);
            if (name.empty() || m_.find_filter(name, fam) != nullptr) continue;
            const FilterModel* other = m_.find_filter(name);
            std::string hint;
            if (other != nullptr) {
              hint = fmt::format(
                  "; there is a family {} filter {}, but a filter applies only to the family it "
                  "is defined in: define it under 'firewall family {}'",
                  family_name(other->filter.family), name, family_name(fam));
            }
            auto& d =
                add(m_.has_firewall ? Severity::kError : Severity::kWarning,
                    u.filter_location(fam, output),
                    fmt::format("filter {} bound {} on {}{} is not defined{}{}", name,
                                output ? "output" : "input", u.name(), family_suffix(fam),
                                m_.has_firewall ? " under 'firewall'"
                                                : " in this configuration (it has no 'firewall')",
                                hint));
            if (other != nullptr) {
              note(d, other->location,
                   fmt::format("family {} filter {} is here", family_name(other->filter.family),
                               name));
            }
          }
        }
      }
    }
  }

  // Rule: run-length, with the platform note of protocols.md §4.2.
  void run_length() {
    for (const auto& im : m_.instances) {
      if (!im.run_length_set || im.run_length == 0) continue;
      std::string msg = fmt::format(
          "run-length {} is not supported on MX Series with MPCs (Trio) or on T4000 FPC5 "
          "(protocols.md §4.2); there it is ignored or refused",
          im.run_length);
      if (im.rate == 1) {
        msg += fmt::format(
            "; and with rate 1 every matching packet is already mirrored, so "
            "run-length {} adds nothing",
            im.run_length);
      }
      add(Severity::kWarning, im.run_length_location, msg);
    }
  }

  // Rule: gr- interfaces need tunnel-services on their FPC/PIC; port 10 for 1g, else 0 (§4.3).
  void tunnel_services() {
    auto created = [](const TunnelServices& ts) {
      return fmt::format("gr-{}/{}/{}", ts.fpc, ts.pic, ts.bandwidth == "1g" ? 10 : 0);
    };
    for (const auto& ts : m_.tunnel_services) {
      bool used = false;
      for (const auto& i : m_.interfaces) {
        std::uint32_t fpc = 0;
        std::uint32_t pic = 0;
        std::uint32_t port = 0;
        used = used || (is_gr(i.name) && parse_fpc_pic_port(i.name, fpc, pic, port) &&
                        fpc == ts.fpc && pic == ts.pic);
      }
      if (used) continue;
      add(Severity::kNote, ts.location,
          fmt::format("tunnel-services on FPC {} PIC {}{} creates {} (port {} because the "
                      "bandwidth is {}1g, protocols.md §4.3); no gr- interface in this "
                      "configuration uses it",
                      ts.fpc, ts.pic, ts.bandwidth.empty() ? "" : " with bandwidth " + ts.bandwidth,
                      created(ts), ts.bandwidth == "1g" ? 10 : 0,
                      ts.bandwidth == "1g" ? "" : "not "));
    }
    for (const auto& i : m_.interfaces) {
      if (!is_gr(i.name)) continue;
      std::uint32_t fpc = 0;
      std::uint32_t pic = 0;
      std::uint32_t port = 0;
      if (!parse_fpc_pic_port(i.name, fpc, pic, port)) {
        add(Severity::kWarning, i.location,
            fmt::format("'{}' is not a gr-FPC/PIC/PORT name", i.name));
        continue;
      }
      if (!m_.has_chassis) {
        add(Severity::kNote, i.location,
            fmt::format("on MX, {} exists only with 'chassis fpc {} pic {} tunnel-services' "
                        "(not part of this configuration)",
                        i.name, fpc, pic));
        continue;
      }
      const TunnelServices* ts = nullptr;
      for (const auto& t : m_.tunnel_services) {
        if (t.fpc == fpc && t.pic == pic) ts = &t;
      }
      if (ts == nullptr) {
        std::string where;
        for (const auto& t : m_.tunnel_services) {
          where += fmt::format("{}FPC {} PIC {} (which creates {})", where.empty() ? "" : ", ",
                               t.fpc, t.pic, created(t));
        }
        auto& d =
            add(Severity::kWarning, i.location,
                fmt::format("{} is on FPC {} PIC {}, which has no tunnel-services: on MX "
                            "this interface does not exist{}",
                            i.name, fpc, pic,
                            where.empty() ? "" : "; tunnel-services is configured on " + where));
        for (const auto& t : m_.tunnel_services) {
          note(d, t.location, fmt::format("tunnel-services for FPC {} PIC {}", t.fpc, t.pic));
        }
        continue;
      }
      std::uint32_t want = ts->bandwidth == "1g" ? 10 : 0;
      if (port != want) {
        auto& d =
            add(Severity::kWarning, i.location,
                fmt::format("{}: tunnel-services on FPC {} PIC {} with bandwidth {} "
                            "creates port {} ({}), not port {} (protocols.md §4.3)",
                            i.name, fpc, pic, ts->bandwidth.empty() ? "(none)" : ts->bandwidth,
                            want, created(*ts), port));
        note(d, ts->location, "tunnel-services configured here");
      }
    }
  }

  // Interfaces (units) a static route sends `a` out of: the unit whose subnet holds the next hop of
  // the most specific route containing `a`, or the unit whose own subnet contains `a`.
  std::vector<std::pair<const UnitModel*, const StaticRoute*>> egress_units(
      const IpAddress& a) const {
    std::vector<std::pair<const UnitModel*, const StaticRoute*>> out;
    const StaticRoute* best = nullptr;
    for (const auto& r : m_.routes) {
      if (r.prefix.contains(a) && (best == nullptr || r.prefix.length > best->prefix.length)) {
        best = &r;
      }
    }
    for (const auto& i : m_.interfaces) {
      for (const auto& u : i.units) {
        for (const auto& p :
             addresses(u, a.is_v6() ? config::Family::kInet6 : config::Family::kInet)) {
          bool direct = p.contains(a) && (best == nullptr || p.length >= best->prefix.length);
          bool via = false;
          if (best != nullptr) {
            for (const auto& nh : best->next_hops) via = via || p.contains(nh);
          }
          if (direct) out.emplace_back(&u, nullptr);
          if (via && !direct) out.emplace_back(&u, best);
        }
      }
    }
    return out;
  }

  // Rule: the tunnel destination is routed back out of an output-mirrored interface (loop).
  void loops() {
    auto mirrored = mirrored_units();
    for (const auto& im : m_.instances) {
      for (const auto& o : im.outputs) {
        const UnitModel* gr = m_.find_unit(o.interface);
        if (gr == nullptr || !gr->tunnel || !gr->tunnel->destination) continue;
        const IpAddress& dst = *gr->tunnel->destination;
        for (const auto& [unit, route] : egress_units(dst)) {
          for (const auto& mu : mirrored) {
            if (mu.unit != unit || !mu.output) continue;
            // An output filter sees the tunnel's packets only in the tunnel's own family.
            if ((mu.filter->filter.family == config::Family::kInet6) != dst.is_v6()) continue;
            // First matching term decides (§4.4): does it mirror the GRE packet itself?
            const TermModel* hit = nullptr;
            for (const auto& t : mu.filter->terms) {
              if (gre_matches(t.term.from, gr->tunnel->source, dst)) {
                hit = &t;
                if (!t.next_term) break;
              }
            }
            if (hit == nullptr || !hit->term.port_mirror) continue;
            auto& d =
                add(Severity::kWarning, gr->tunnel->location,
                    fmt::format("mirror loop: tunnel destination {} of {} is reached {} out of {}, "
                                "whose output filter {} mirrors the tunnel's own GRE packets (term "
                                "{}): every copy would be mirrored again",
                                dst.to_string(), gr->name(),
                                route ? "via static route " + route->prefix.to_string()
                                      : std::string("directly"),
                                unit->name(), mu.filter->filter.name, hit->term.name));
            if (route) note(d, route->location, "route that sends the tunnel out there");
          }
        }
      }
    }
  }

  // Rule: a filter bound `output` matching as source-address the prefixes routed out there.
  void output_direction() {
    for (const auto& i : m_.interfaces) {
      for (const auto& u : i.units) {
        for (config::Family fam : kFamilies) {
          output_direction(u, fam);
        }
      }
    }
  }

  void output_direction(const UnitModel& u, config::Family fam) {
    const std::string& bound = u.filter(fam, true);
    if (bound.empty()) return;
    const FilterModel* f = m_.find_filter(bound, fam);
    if (f == nullptr) return;
    // Prefixes that leave through this unit: its own subnets and static routes via them.
    std::vector<std::pair<IpPrefix, std::string>> out_prefixes;
    for (const auto& p : addresses(u, fam)) {
      IpPrefix net = network_of(p);
      out_prefixes.emplace_back(net,
                                fmt::format("the unit's own subnet, address {}", p.to_string()));
    }
    for (const auto& r : m_.routes) {
      for (const auto& nh : r.next_hops) {
        for (const auto& p : addresses(u, fam)) {
          if (p.contains(nh)) {
            out_prefixes.emplace_back(r.prefix,
                                      fmt::format("static route {} next-hop {} leaves through {}",
                                                  r.prefix.to_string(), nh.to_string(), u.name()));
          }
        }
      }
    }
    for (const auto& t : f->terms) {
      if (!t.term.port_mirror) continue;
      std::vector<std::string> hits;
      for (const auto& e : t.term.from.source_address) {
        if (e.except) continue;
        for (const auto& [p, why] : out_prefixes) {
          if (overlaps(e.prefix, p)) {
            hits.push_back(fmt::format("{} ({})", e.prefix.to_string(), why));
            break;
          }
        }
      }
      if (hits.empty()) continue;
      std::string list;
      for (const auto& h : hits) list += (list.empty() ? "" : "; ") + h;
      auto& d = add(Severity::kWarning, u.filter_location(fam, true),
                    fmt::format("filter {}{} is bound 'output' on {}, but its term {} mirrors "
                                "packets whose source-address is a network reached through this "
                                "very interface: {}. Traffic leaving toward a network rarely comes "
                                "from it, so the term will match almost nothing; bind the filter "
                                "'input' instead (filter {{ input {}; }}) to mirror traffic from "
                                "those networks",
                                f->filter.name, family_suffix(fam), u.name(), t.term.name, list,
                                f->filter.name));
      note(d, t.location, fmt::format("term {} is here", t.term.name));
    }
  }

  // Rule: rate 1 without a policer on a high-speed interface (the seed's DoS warning). The speed
  // comes from the interface's `speed` statement, else from the media prefix of its name.
  void rate_one() {
    for (const auto& mu : mirrored_units()) {
      for (const auto& t : mu.filter->terms) {
        if (!t.term.port_mirror || t.has_policer) continue;
        // The instance in effect on this unit: the term's own, else the one bound to its PFE.
        const std::string effective =
            m_.effective_instance(mu.unit->interface, t.term.mirror_instance);
        for (const auto& im : m_.instances) {
          if (im.name != effective || im.rate != 1) continue;
          if (im.family != mu.filter->filter.family) continue;
          InterfaceSpeed s = m_.speed(mu.unit->interface);
          SourceLocation at = im.rate_set ? im.rate_location : im.location;
          std::string rate = im.rate_set ? "rate 1" : "rate 1 (the default)";
          std::string origin;
          if (s.configured) {
            origin = fmt::format(" (speed from the 'speed {}' statement of {})",
                                 m_.find_interface(mu.unit->interface)->speed, mu.unit->interface);
          } else if (!s.text.empty()) {
            origin = " (speed judged from the interface name)";
          }
          Diagnostic* d = nullptr;
          if (s.high) {
            d = &add(Severity::kWarning, at,
                     fmt::format("{} mirrors every packet that term {} matches on {} ({}) with no "
                                 "policer: the seed warns this \"can also cause DoS-type "
                                 "consequences\"; add 'then policer NAME' to the term or raise "
                                 "the rate{}",
                                 rate, t.term.name, mu.unit->name(), s.text, origin));
          } else {
            d = &add(
                Severity::kNote, at,
                fmt::format("{} mirrors every packet that term {} matches on {}{}; fine at "
                            "low speed, but on a high-speed interface add a policer (the "
                            "seed's DoS warning); portmirror mirror polices its output by "
                            "default{}",
                            rate, t.term.name, mu.unit->name(),
                            s.text.empty() ? std::string() : fmt::format(" ({})", s.text), origin));
          }
          if (s.configured) note(*d, s.location, "speed configured here");
        }
      }
    }
  }

  const LoadedConfig& cfg_;
  const RouterModel& m_;
  std::vector<Diagnostic>& diags_;
};

int exit_code_for(const std::vector<Diagnostic>& diags) {
  int code = 0;
  for (const auto& d : diags) {
    if (d.severity == Severity::kError) return 2;
    if (d.severity == Severity::kWarning) code = 1;
  }
  return code;
}

CheckResult finish(const LoadedConfig& cfg, std::vector<Diagnostic> diags) {
  CheckResult r;
  check_model(cfg, diags);
  if (cfg.syntax_errors) {
    Diagnostic d;
    d.severity = Severity::kNote;
    d.message =
        "the checks after the syntax errors ran on the configuration as recovered by "
        "indentation";
    diags.push_back(std::move(d));
  }
  // Report in reading order: files as given, then line and column; file-less notes last.
  auto file_index = [&](const Diagnostic& d) {
    for (std::size_t k = 0; k < cfg.sources.files.size(); ++k) {
      if (cfg.sources.files[k]->name == d.location.file) return k;
    }
    return cfg.sources.files.size();
  };
  std::stable_sort(diags.begin(), diags.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    auto fa = file_index(a);
    auto fb = file_index(b);
    if (fa != fb) return fa < fb;
    if (a.location.line != b.location.line) return a.location.line < b.location.line;
    return a.location.column < b.location.column;
  });
  r.diags = std::move(diags);
  r.exit_code = exit_code_for(r.diags);
  collector_commands(cfg.model, r);
  return r;
}

}  // namespace

void check_model(const LoadedConfig& cfg, std::vector<Diagnostic>& diags) {
  Checker(cfg, diags).run();
}

void collector_commands(const RouterModel& m, CheckResult& result) {
  std::vector<const UnitModel*> tunnels;
  bool from_outputs = false;
  for (const auto& im : m.instances) {
    for (const auto& o : im.outputs) {
      const UnitModel* u = m.find_unit(o.interface);
      if (u && u->tunnel && u->tunnel->destination &&
          std::find(tunnels.begin(), tunnels.end(), u) == tunnels.end()) {
        tunnels.push_back(u);
        from_outputs = true;
      }
    }
  }
  if (tunnels.empty()) {
    for (const auto& i : m.interfaces) {
      for (const auto& u : i.units) {
        if (is_gr(i.name) && u.tunnel && u.tunnel->destination) tunnels.push_back(&u);
      }
    }
  }
  for (const UnitModel* u : tunnels) {
    const TunnelModel& t = *u->tunnel;
    std::string cmd = fmt::format("portmirror capture --listen {}", t.destination->to_string());
    if (t.source) cmd += fmt::format(" --allow {}/32", t.source->to_string());
    if (t.key) cmd += fmt::format(" --key {}", *t.key);
    cmd += " -w mirror.pcapng";
    result.collector_commands.push_back(cmd);
    result.collector_notes.push_back(fmt::format(
        "on the collector {}, the destination of {}'s tunnel{}", t.destination->to_string(),
        u->name(), from_outputs ? "" : "; not yet used as a port-mirroring output"));
  }
}

CheckResult check_files(const std::vector<std::string>& paths, const CheckOptions& options) {
  std::vector<Diagnostic> diags;
  ParseOptions po{options.lenient, options.form};
  auto cfg = load_files(paths, po, diags);
  if (!cfg) {
    CheckResult r;
    r.exit_code = 3;
    r.fatal = cfg.error().message;
    return r;
  }
  return finish(**cfg, std::move(diags));
}

CheckResult check_text(const std::string& name, const std::string& text,
                       const CheckOptions& options) {
  std::vector<Diagnostic> diags;
  ParseOptions po{options.lenient, options.form};
  auto cfg = load_text(name, text, po, diags);
  return finish(*cfg, std::move(diags));
}

std::string render_check(const CheckResult& r) {
  if (!r.fatal.empty()) return fmt::format("portmirror check: {}\n", r.fatal);
  std::string out = format_diagnostics(r.diags);
  std::size_t errors = 0;
  std::size_t warnings = 0;
  std::size_t notes = 0;
  for (const auto& d : r.diags) {
    (d.severity == Severity::kError     ? errors
     : d.severity == Severity::kWarning ? warnings
                                        : notes)++;
  }
  out += fmt::format("{} error{}, {} warning{}, {} note{}\n", errors, errors == 1 ? "" : "s",
                     warnings, warnings == 1 ? "" : "s", notes, notes == 1 ? "" : "s");
  if (r.collector_commands.empty()) {
    out +=
        "No gr- tunnel with a destination in this configuration: no collector command to "
        "suggest.\n";
  }
  for (std::size_t k = 0; k < r.collector_commands.size(); ++k) {
    out += fmt::format("Collector command ({}):\n  {}\n", r.collector_notes[k],
                       r.collector_commands[k]);
  }
  return out;
}

}  // namespace portmirror::junos

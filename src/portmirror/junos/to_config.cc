#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "portmirror/junos/config_loader.h"
#include "portmirror/junos/groups.h"

namespace portmirror::junos {

bool has_errors(const std::vector<Diagnostic>& diags) {
  for (const auto& d : diags) {
    if (d.severity == Severity::kError) return true;
  }
  return false;
}

namespace {

// Applies configuration groups and builds the model. A group statement inherited in several
// places reports the same problem at the same group line once.
void build(LoadedConfig& cfg, std::vector<Diagnostic>& diags) {
  cfg.expanded = expand_groups(cfg.root, cfg.sources, diags);
  std::vector<Diagnostic> model_diags;
  cfg.model = build_model(cfg.expanded, cfg.sources, model_diags);
  for (auto& d : model_diags) {
    bool dup = std::any_of(diags.begin(), diags.end(), [&](const Diagnostic& x) {
      return x.severity == d.severity && x.location.file == d.location.file &&
             x.location.line == d.location.line && x.location.column == d.location.column &&
             x.message == d.message;
    });
    if (!dup) diags.push_back(std::move(d));
  }
}

}  // namespace

std::unique_ptr<LoadedConfig> load_text(const std::string& name, const std::string& text,
                                        const ParseOptions& options,
                                        std::vector<Diagnostic>& diags) {
  auto cfg = std::make_unique<LoadedConfig>();
  cfg->sources.files.push_back(std::make_unique<SourceFile>(name, text));
  parse_config(*cfg->sources.files.back(), options, cfg->root, diags);
  cfg->syntax_errors = has_errors(diags);
  build(*cfg, diags);
  return cfg;
}

Result<std::unique_ptr<LoadedConfig>> load_files(const std::vector<std::string>& paths,
                                                 const ParseOptions& options,
                                                 std::vector<Diagnostic>& diags) {
  auto cfg = std::make_unique<LoadedConfig>();
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return make_error(ExitCode::kInputUnreadable,
                        fmt::format("cannot read Junos configuration '{}'", path));
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    cfg->sources.files.push_back(std::make_unique<SourceFile>(path, ss.str()));
    parse_config(*cfg->sources.files.back(), options, cfg->root, diags);
  }
  cfg->syntax_errors = has_errors(diags);
  build(*cfg, diags);
  return cfg;
}

namespace {

Diagnostic plain(Severity sev, std::string msg) {
  Diagnostic d;
  d.severity = sev;
  d.message = std::move(msg);
  return d;
}

}  // namespace

namespace {

// The plan name of the global instance's family inet6 when family inet exists too.
constexpr const char* kGlobalInet6 = "(global) inet6";

const char* family_word(config::Family f) {
  return f == config::Family::kInet6 ? "inet6" : "inet";
}

// The source/ engine finds filters and instances by name alone, so a name used in both families
// gets a distinct plan name for its inet6 variant: "F inet6", "(global) inet6".
class PlanNames {
 public:
  explicit PlanNames(const RouterModel& m) : m_(m) {}

  std::string filter(const std::string& name, config::Family f) const {
    if (f == config::Family::kInet6 && m_.find_filter(name, config::Family::kInet) != nullptr) {
      return name + " inet6";
    }
    return name;
  }

  std::string instance(const std::string& name, config::Family f) const {
    if (f != config::Family::kInet6) return name;
    for (const auto& im : m_.instances) {
      if (im.name == name && im.family != config::Family::kInet6) {
        return name.empty() ? std::string(kGlobalInet6) : name + " inet6";
      }
    }
    return name;
  }

  // The (instance, family) a term of a `family f` filter mirrors to; nullptr when that instance
  // has no such family.
  const InstanceModel* target(const std::string& name, config::Family f) const {
    for (const auto& im : m_.instances) {
      if (im.name == name && im.family == f) return &im;
    }
    return nullptr;
  }

 private:
  const RouterModel& m_;
};

std::string rate_text(std::uint64_t bps) {
  if (bps != 0 && bps % 1'000'000'000 == 0) return fmt::format("{} Gbit/s", bps / 1'000'000'000);
  if (bps != 0 && bps % 1'000'000 == 0) return fmt::format("{} Mbit/s", bps / 1'000'000);
  if (bps != 0 && bps % 1'000 == 0) return fmt::format("{} kbit/s", bps / 1'000);
  return fmt::format("{} bit/s", bps);
}

// The software mirror has one token-bucket policer per instance; Junos polices per term (`then
// policer NAME` next to `port-mirror`). Each policed term has its own bucket on the router, so the
// instance gets the sum of the policers of the terms that mirror to it. `bandwidth-percent` is of
// the speed of the interfaces the filter is bound on (one policer per interface).
// Whether term `t` of filter `f` sends copies to instance `name` on some unit the filter is bound
// on: its own instance, or for `then port-mirror` the one bound to the unit's FPC/PIC. A filter
// bound nowhere counts by the term as written.
bool mirrors_to(const RouterModel& m, const FilterModel& f, const TermModel& t,
                const std::string& name) {
  bool bound = false;
  for (const auto& i : m.interfaces) {
    for (const auto& u : i.units) {
      for (bool output : {false, true}) {
        if (u.filter(f.filter.family, output) != f.filter.name) continue;
        bound = true;
        if (m.effective_instance(i.name, t.term.mirror_instance) == name) return true;
      }
    }
  }
  return !bound && t.term.mirror_instance == name;
}

config::PolicerConfig instance_policer(const LoadedConfig& cfg, const InstanceModel& im,
                                       const std::string& plan_name,
                                       std::vector<Diagnostic>& diags) {
  const RouterModel& m = cfg.model;
  config::PolicerConfig out;
  std::vector<const TermModel*> unpoliced;
  const TermModel* policed = nullptr;
  std::string instance = im.name.empty() ? "the global instance" : "instance " + plan_name;
  for (const auto& f : m.filters) {
    if (f.filter.family != im.family) continue;
    for (const auto& t : f.terms) {
      if (!t.term.port_mirror || !mirrors_to(m, f, t, im.name)) continue;
      const PolicerModel* p = t.policer.empty() ? nullptr : m.find_policer(t.policer);
      if (p == nullptr) {  // none, or undefined (an error of the model)
        unpoliced.push_back(&t);
        continue;
      }
      if (!p->discard) {
        diags.push_back(cfg.sources.diagnostic(
            Severity::kWarning, t.policer_location,
            fmt::format("policer {} has no 'then discard': it re-marks excess traffic instead of "
                        "dropping it, so the plan does not police the copies of term {} with it",
                        p->name, t.term.name)));
        unpoliced.push_back(&t);
        continue;
      }
      std::uint64_t bps = p->bandwidth_bps;
      if (p->bandwidth_percent != 0) {
        bps = 0;
        std::string unknown;
        for (const auto& i : m.interfaces) {
          for (const auto& u : i.units) {
            for (bool output : {false, true}) {
              if (u.filter(f.filter.family, output) != f.filter.name) continue;
              InterfaceSpeed sp = m.speed(i.name);
              if (sp.bps == 0) {
                unknown += (unknown.empty() ? "" : ", ") + u.name();
              } else {
                bps += sp.bps / 100 * p->bandwidth_percent;
              }
            }
          }
        }
        if (!unknown.empty() || bps == 0) {
          diags.push_back(cfg.sources.diagnostic(
              Severity::kWarning, t.policer_location,
              fmt::format("policer {} is 'bandwidth-percent {}', but the speed of {} is not "
                          "known (add 'speed 10g;' under the interface, or use "
                          "'bandwidth-limit'), so the plan does not police term {} with it",
                          p->name, p->bandwidth_percent,
                          unknown.empty() ? "the interfaces its filter is bound on" : unknown,
                          t.term.name)));
          unpoliced.push_back(&t);
          continue;
        }
      }
      out.bits_per_second += bps;
      out.burst_bytes += bps != 0 ? p->burst_bytes : 0;
      out.packets_per_second += p->pps;
      out.burst_packets += p->pps != 0 ? p->packet_burst : 0;
      if (policed == nullptr) policed = &t;
    }
  }
  if (policed != nullptr) {
    for (const TermModel* t : unpoliced) {
      diags.push_back(cfg.sources.diagnostic(
          Severity::kWarning, t->mirror_location,
          fmt::format("term {} mirrors to {} without a policer, but term {} polices its copies "
                      "to {}: the software mirror has one policer per instance, so that limit "
                      "applies to the copies of term {} too",
                      t->term.name, instance, policed->term.name,
                      out.bits_per_second != 0
                          ? rate_text(out.bits_per_second)
                          : fmt::format("{} packets/s", out.packets_per_second),
                      t->term.name)));
    }
  }
  return out;
}

}  // namespace

// Precedence PIC > FPC > global (protocols.md §4.1): on MX, `then port-mirror` (the global
// instance) on an interface whose FPC, or PIC, has a bound instance mirrors to that instance. The
// plan gives such an interface binding a copy of its filter, named "FILTER (fpc F)" or
// "FILTER (fpc F pic P)", whose global-instance terms name the bound instance instead. Two
// instances bound at the same level are not modelled: the plan keeps the global one (warning).
void bound_instance_precedence(const LoadedConfig& cfg, const PlanNames& names,
                               config::MirrorConfig& plan, std::vector<Diagnostic>& diags) {
  const RouterModel& m = cfg.model;
  std::vector<std::string> announced;
  for (auto& b : plan.interfaces) {
    if (b.filter.empty() || b.junos_name.empty()) continue;
    bool ambiguous = false;
    const InstanceBinding* bound = m.bound_instance(b.junos_name, &ambiguous);
    if (bound == nullptr && !ambiguous) continue;
    const config::Filter* f = nullptr;
    for (const auto& x : plan.filters) {
      if (x.name == b.filter) f = &x;
    }
    if (f == nullptr) continue;
    const auto global = [](const config::Term& t) {
      return t.port_mirror && (t.mirror_instance.empty() || t.mirror_instance == kGlobalInet6);
    };
    if (std::none_of(f->terms.begin(), f->terms.end(), global)) continue;
    std::uint32_t fpc = 0;
    std::uint32_t pic = 0;
    std::uint32_t port = 0;
    (void)parse_fpc_pic_port(split_unit(b.junos_name).first, fpc, pic, port);
    const bool pic_level = std::any_of(
        m.instance_bindings.begin(), m.instance_bindings.end(),
        [&](const InstanceBinding& x) { return x.fpc == fpc && x.pic && *x.pic == pic; });
    const std::string where =
        pic_level ? fmt::format("fpc {} pic {}", fpc, pic) : fmt::format("fpc {}", fpc);
    if (ambiguous) {
      // At the second binding of that level.
      const InstanceBinding* second = nullptr;
      int seen = 0;
      for (const auto& x : m.instance_bindings) {
        const bool at_level = x.fpc == fpc && (pic_level ? (x.pic && *x.pic == pic) : !x.pic);
        if (at_level && ++seen == 2) second = &x;
      }
      diags.push_back(cfg.sources.diagnostic(
          Severity::kWarning, second != nullptr ? second->location : SourceLocation{},
          fmt::format("two instances are bound to {}: which one 'then port-mirror' of filter {} "
                      "on {} uses there is not modelled; the plan keeps the global instance",
                      where, b.filter, b.junos_name)));
      continue;
    }
    const config::Family family = f->family;
    const std::string filter_name = f->name;
    if (names.target(bound->instance, family) == nullptr) continue;  // check() reports it
    const std::string copy_name = fmt::format("{} ({})", b.filter, where);
    const bool exists = std::any_of(plan.filters.begin(), plan.filters.end(),
                                    [&](const config::Filter& x) { return x.name == copy_name; });
    if (!exists) {
      config::Filter copy = *f;  // f is not used after the push_back below
      copy.name = copy_name;
      for (auto& t : copy.terms) {
        if (global(t)) t.mirror_instance = names.instance(bound->instance, family);
      }
      plan.filters.push_back(std::move(copy));
    }
    b.filter = copy_name;
    std::string key = copy_name + "|" + b.junos_name;
    if (std::find(announced.begin(), announced.end(), key) != announced.end()) continue;
    announced.push_back(std::move(key));
    diags.push_back(cfg.sources.diagnostic(
        Severity::kNote, bound->location,
        fmt::format("'then port-mirror' of filter {} on {} mirrors to instance {}, bound to {} "
                    "(precedence PIC > FPC > global); the plan names that copy of the filter "
                    "'{}'",
                    filter_name, b.junos_name, bound->instance, where, copy_name)));
  }
}

config::MirrorConfig to_mirror_config(const LoadedConfig& cfg, const LoadOptions& options,
                                      std::vector<Diagnostic>& diags) {
  const RouterModel& m = cfg.model;
  const PlanNames names(m);
  config::MirrorConfig plan;
  plan.mirror_once = m.mirror_once;
  // Each family's filter is a binding of its own: the inet filter sees IPv4 packets, the inet6
  // filter IPv6 packets (the engine's matcher takes only its filter's family).
  auto bind = [&](const UnitModel& u, const std::string& ifname) {
    for (config::Family fam : {config::Family::kInet, config::Family::kInet6}) {
      auto add = [&](const std::string& filter, config::Direction dir) {
        if (m.find_filter(filter, fam) == nullptr) {
          diags.push_back(cfg.sources.diagnostic(
              Severity::kError, u.filter_location(fam, dir == config::Direction::kOutput),
              fmt::format("filter '{}' bound on {}{} is not defined", filter, u.name(),
                          fam == config::Family::kInet6 ? " (family inet6)" : "")));
          return;
        }
        plan.interfaces.push_back(
            config::InterfaceBinding{ifname, u.name(), dir, names.filter(filter, fam)});
      };
      const std::string& in = u.filter(fam, false);
      const std::string& out = u.filter(fam, true);
      if (!in.empty() && in == out) {
        add(in, config::Direction::kBoth);
        continue;
      }
      if (!in.empty()) add(in, config::Direction::kInput);
      if (!out.empty()) add(out, config::Direction::kOutput);
    }
  };
  if (options.interface_map.empty()) {
    // No --map: describe every unit with a filter bound (Linux name left empty).
    for (const auto& i : m.interfaces) {
      for (const auto& u : i.units) bind(u, "");
    }
  }
  for (const auto& [junos, linux] : options.interface_map) {
    auto [ifname, unit] = split_unit(junos);
    const UnitModel* u = m.find_unit(ifname, unit);
    if (u == nullptr) {
      diags.push_back(
          plain(Severity::kError, fmt::format("--map {}={}: interface {} unit {} is not in the "
                                              "configuration",
                                              junos, linux, ifname, unit)));
      continue;
    }
    if (!u->has_filter()) {
      diags.push_back(plain(Severity::kError,
                            fmt::format("--map {}={}: no filter is bound on {}, so the router "
                                        "would mirror nothing from it",
                                        junos, linux, u->name())));
      continue;
    }
    bind(*u, linux);
  }
  for (const auto& f : m.filters) {
    config::Filter out = f.filter;
    out.name = names.filter(f.filter.name, f.filter.family);
    out.terms.clear();
    for (const auto& t : f.terms) {
      config::Term term = t.term;
      if (term.port_mirror) {
        if (names.target(term.mirror_instance, f.filter.family) != nullptr) {
          term.mirror_instance = names.instance(term.mirror_instance, f.filter.family);
        } else if (names.target(term.mirror_instance, config::Family::kInet6) != nullptr ||
                   names.target(term.mirror_instance, config::Family::kInet) != nullptr) {
          // The instance exists, but not for this family: Junos has no output for these copies.
          diags.push_back(cfg.sources.diagnostic(
              Severity::kWarning, t.mirror_location,
              fmt::format("term {} of family {} filter {}: {} has no 'family {}', so the plan "
                          "does not mirror this term's packets",
                          term.name, family_word(f.filter.family), f.filter.name,
                          term.mirror_instance.empty() ? "the global port-mirroring"
                                                       : "instance " + term.mirror_instance,
                          family_word(f.filter.family))));
          term.port_mirror = false;
          term.mirror_instance.clear();
        }
      }
      out.terms.push_back(std::move(term));
    }
    plan.filters.push_back(std::move(out));
  }
  for (const auto& im : m.instances) {
    config::MirrorInstance mi;
    mi.name = names.instance(im.name, im.family);
    mi.family = im.family;
    mi.rate = im.rate;
    mi.run_length = im.run_length;
    mi.maximum_packet_length = im.maximum_packet_length;
    for (const auto& o : im.outputs) {
      const UnitModel* u = m.find_unit(o.interface);
      if (u == nullptr) {
        diags.push_back(cfg.sources.diagnostic(
            Severity::kError, o.location,
            fmt::format("port-mirroring output interface {} is not defined", o.interface)));
        continue;
      }
      if (!u->tunnel) {
        diags.push_back(cfg.sources.diagnostic(
            Severity::kWarning, o.location,
            fmt::format("output {} is not a tunnel; the software mirror can only send copies "
                        "into tunnels, so this output is skipped",
                        o.interface)));
        continue;
      }
      if (!u->tunnel->destination) {
        diags.push_back(
            cfg.sources.diagnostic(Severity::kError, u->tunnel->location,
                                   fmt::format("tunnel of {} has no destination", u->name())));
        continue;
      }
      config::TunnelConfig t;
      t.name = u->name();
      t.encap = config::EncapKind::kGre;  // Junos gr-: GRE carrying the IP packet (§4.3)
      t.destination = *u->tunnel->destination;
      t.source = u->tunnel->source;
      if (u->tunnel->ttl) t.ttl = *u->tunnel->ttl;
      t.key = u->tunnel->key;
      mi.outputs.push_back(t);
    }
    mi.policer = instance_policer(cfg, im, mi.name, diags);
    plan.instances.push_back(std::move(mi));
  }
  bound_instance_precedence(cfg, names, plan, diags);
  // Terms naming instances that do not exist.
  for (const auto& f : m.filters) {
    for (const auto& t : f.terms) {
      if (!t.term.port_mirror) continue;
      bool found = false;
      for (const auto& im : m.instances) found = found || im.name == t.term.mirror_instance;
      if (!found && !t.term.mirror_instance.empty()) {
        diags.push_back(cfg.sources.diagnostic(
            Severity::kError, t.mirror_location,
            fmt::format("port-mirror-instance '{}' is not configured", t.term.mirror_instance)));
      }
    }
  }
  return plan;
}

Result<config::MirrorConfig> load_mirror_config(const std::vector<std::string>& paths,
                                                const LoadOptions& options,
                                                std::vector<Diagnostic>& diags) {
  ParseOptions po;
  po.lenient = options.lenient;
  po.form = options.set_form ? SyntaxForm::kSet : SyntaxForm::kAuto;
  auto cfg = load_files(paths, po, diags);
  if (!cfg) return Unexpected<Error>(cfg.error());
  config::MirrorConfig plan = to_mirror_config(**cfg, options, diags);
  if (has_errors(diags)) {
    std::size_t n = 0;
    for (const auto& d : diags) n += d.severity == Severity::kError ? 1 : 0;
    return make_error(
        ExitCode::kConfig,
        fmt::format("the Junos configuration has {} error{} (see above)", n, n == 1 ? "" : "s"));
  }
  return plan;
}

Result<config::MirrorConfig> load_mirror_config(const std::string& path, const LoadOptions& options,
                                                std::vector<Diagnostic>& diags) {
  return load_mirror_config(std::vector<std::string>{path}, options, diags);
}

std::string format_diagnostics(const std::vector<Diagnostic>& diags) {
  std::string out;
  for (const auto& d : diags) {
    const char* sev = d.severity == Severity::kError     ? "error"
                      : d.severity == Severity::kWarning ? "warning"
                                                         : "note";
    if (d.location.file.empty() && d.location.line == 0) {
      out += fmt::format("portmirror: {}: {}\n", sev, d.message);
    } else {
      out += fmt::format("{}:{}:{}: {}: {}\n", d.location.file, d.location.line, d.location.column,
                         sev, d.message);
    }
    if (!d.source_line.empty()) {
      std::string num = std::to_string(d.location.line);
      out += fmt::format(" {} | {}\n", num, d.source_line);
      std::string caret;
      for (int k = 1; k < d.location.column && static_cast<std::size_t>(k) <= d.source_line.size();
           ++k) {
        caret += d.source_line[static_cast<std::size_t>(k - 1)] == '\t' ? '\t' : ' ';
      }
      out += fmt::format(" {} | {}^\n", std::string(num.size(), ' '), caret);
    }
    for (const auto& n : d.notes) out += n;
  }
  return out;
}

namespace {

std::string prefixes_text(const std::vector<config::PrefixEntry>& v) {
  std::string s;
  for (const auto& p : v) {
    if (!s.empty()) s += " or ";
    s += p.prefix.to_string() + (p.except ? " (except)" : "");
  }
  return s;
}

std::string values_text(const config::ValueMatch& v) {
  std::string s = v.except ? "not " : "";
  for (std::size_t i = 0; i < v.values.size(); ++i) {
    if (i) s += " or ";
    s += v.values[i].lo == v.values[i].hi ? std::to_string(v.values[i].lo)
                                          : fmt::format("{}-{}", v.values[i].lo, v.values[i].hi);
  }
  return s;
}

std::string match_text(const config::MatchSpec& m) {
  std::vector<std::string> parts;
  if (!m.source_address.empty()) parts.push_back("source " + prefixes_text(m.source_address));
  if (!m.destination_address.empty()) {
    parts.push_back("destination " + prefixes_text(m.destination_address));
  }
  if (!m.address.empty()) parts.push_back("source or destination " + prefixes_text(m.address));
  if (!m.protocol.empty()) parts.push_back("protocol " + values_text(m.protocol));
  if (!m.source_port.empty()) parts.push_back("source port " + values_text(m.source_port));
  if (!m.destination_port.empty()) {
    parts.push_back("destination port " + values_text(m.destination_port));
  }
  if (!m.port.empty()) parts.push_back("source or destination port " + values_text(m.port));
  if (!m.icmp_type.empty()) parts.push_back("ICMP type " + values_text(m.icmp_type));
  if (!m.icmp_code.empty()) parts.push_back("ICMP code " + values_text(m.icmp_code));
  if (!m.dscp.empty()) parts.push_back("DSCP " + values_text(m.dscp));
  if (!m.tcp_flags.empty()) parts.push_back("TCP flags " + m.tcp_flags);
  if (m.first_fragment) parts.push_back("first fragments");
  if (m.is_fragment) parts.push_back("fragments");
  if (parts.empty()) return "every packet";
  std::string s;
  for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? ", and " : "") + parts[i];
  return s;
}

const char* family_text(config::Family f) {
  return f == config::Family::kInet ? "inet" : f == config::Family::kInet6 ? "inet6" : "any";
}

}  // namespace

std::string describe_plan(const config::MirrorConfig& plan) {
  std::string out = "Interfaces:\n";
  if (plan.interfaces.empty()) out += "  (none: nothing will be captured)\n";
  for (const auto& b : plan.interfaces) {
    const char* dir = b.direction == config::Direction::kInput    ? "packets arriving on it (input)"
                      : b.direction == config::Direction::kOutput ? "packets leaving it (output)"
                                                                  : "packets in both directions";
    std::string name =
        b.ifname.empty() ? "(not mapped: use --map " + b.junos_name + "=IFACE)" : b.ifname;
    std::string junos = b.junos_name.empty() ? "" : " (Junos " + b.junos_name + ")";
    out += fmt::format("  {}{}: {} go through filter {}\n", name, junos, dir,
                       b.filter.empty() ? "(none: mirror everything)" : b.filter);
  }
  for (const auto& f : plan.filters) {
    out += fmt::format("Filter {} (family {}), first matching term decides:\n", f.name,
                       family_text(f.family));
    for (const auto& t : f.terms) {
      std::string action;
      if (t.port_mirror) {
        action = t.mirror_instance.empty()           ? "mirror to the global instance"
                 : t.mirror_instance == kGlobalInet6 ? "mirror to the global instance (inet6)"
                                                     : "mirror to instance " + t.mirror_instance;
      } else {
        action = "not mirrored";
      }
      const char* verdict = t.verdict == config::TermVerdict::kAccept    ? "accept"
                            : t.verdict == config::TermVerdict::kDiscard ? "discard"
                            : t.verdict == config::TermVerdict::kReject
                                ? "reject"
                                : "continue with the next term";
      out += fmt::format("  term {}: {} -> {}, {}{}\n", t.name, match_text(t.from), action, verdict,
                         t.count.empty() ? "" : ", count " + t.count);
    }
    out += "  (implicit last term: discard, not mirrored)\n";
  }
  if (plan.instances.empty()) out += "Instances: none (no port-mirroring)\n";
  for (const auto& mi : plan.instances) {
    std::string sampling = mi.rate == 1 ? "every matching packet"
                                        : fmt::format("1 of every {} matching packets", mi.rate);
    if (mi.run_length > 0 && mi.rate > 1) {
      sampling += fmt::format(", then the next {} (run-length)", mi.run_length);
    } else if (mi.run_length > 0) {
      sampling += fmt::format(" (run-length {} has no effect at rate 1)", mi.run_length);
    }
    std::string trunc = mi.maximum_packet_length == 0
                            ? "whole packets"
                            : fmt::format("truncated to {} bytes", mi.maximum_packet_length);
    out += fmt::format("Instance {} (family {}): copy {}, {}{}\n",
                       mi.name.empty() || mi.name == kGlobalInet6 ? "(global)" : mi.name,
                       family_text(mi.family), sampling, trunc,
                       mi.random_sampling ? ", random sampling" : "");
    const config::PolicerConfig& p = mi.policer;
    if (p.bits_per_second == 0 && p.packets_per_second == 0) {
      out += "  policer: none\n";
    } else {
      std::vector<std::string> parts;
      if (p.bits_per_second != 0) {
        parts.push_back(fmt::format(
            "{} ({} bit/s), burst {}", rate_text(p.bits_per_second), p.bits_per_second,
            p.burst_bytes ? fmt::format("{} bytes", p.burst_bytes) : std::string("derived")));
      }
      if (p.packets_per_second != 0) {
        parts.push_back(fmt::format(
            "{} packets/s, burst {}", p.packets_per_second,
            p.burst_packets ? fmt::format("{} packets", p.burst_packets) : std::string("derived")));
      }
      std::string text;
      for (const auto& x : parts) text += (text.empty() ? "" : " and ") + x;
      out += fmt::format("  policer: copies limited to {}\n", text);
    }
    if (mi.outputs.empty()) out += "  -> no usable output: copies are dropped\n";
    for (const auto& t : mi.outputs) {
      out += fmt::format("  -> tunnel {}: GRE carrying the IP packet, from {} to {}, TTL {}, {}\n",
                         t.name, t.source ? t.source->to_string() : "(kernel's choice)",
                         t.destination.to_string(), t.ttl,
                         t.key ? fmt::format("key {}", *t.key) : std::string("no key"));
    }
  }
  out += fmt::format("Loop prevention: {}; mirror-once: {}\n", plan.loop_prevention ? "on" : "off",
                     plan.mirror_once ? "on" : "off");
  return out;
}

}  // namespace portmirror::junos

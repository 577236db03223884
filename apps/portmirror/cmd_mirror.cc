// `portmirror mirror`: a software port mirror (issue 5). Flags -> config::MirrorConfig -> capture
// rings (io::PacketRing) -> source::MirrorEngine -> io::Sender per output. docs/mirror.md has the
// details.
#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/portmirror/commands.h"
#include "portmirror/base/exit_codes.h"
#include "portmirror/base/time.h"
#include "portmirror/config/mirror_config.h"
#include "portmirror/io/packet_ring.h"
#include "portmirror/io/packet_sender.h"
#include "portmirror/io/sender.h"
#include "portmirror/junos/load.h"
#include "portmirror/source/mirror_engine.h"
#include "portmirror/source/policer.h"
#include "portmirror/source/term_syntax.h"

namespace portmirror::app {
namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_dump = 0;
extern "C" void on_stop(int) {
  g_stop = 1;
}
extern "C" void on_dump(int) {
  g_dump = 1;
}

struct MirrorArgs {
  std::vector<std::string> interfaces;
  std::vector<std::string> to;
  std::string from;
  std::string encap = "gre";
  std::optional<std::uint32_t> key;
  bool sequence = false;
  bool checksum = false;
  unsigned ttl = 64;
  unsigned dscp = 0;
  unsigned session = 0;
  unsigned index = 0;
  unsigned hw_id = 0;
  std::string granularity = "100us";
  unsigned vni = 0;
  unsigned udp_port = 4789;
  unsigned rate = 1;
  unsigned run_length = 0;
  bool random = false;
  unsigned max_length = 0;
  std::vector<std::string> police;
  std::uint64_t police_burst = 0;
  std::string mtu_policy = "clip";
  std::vector<std::string> terms;
  bool no_loop_prevention = false;
  bool no_mirror_once = false;
  std::uint32_t mirror_once_window_ms = 100;
  unsigned keepalive = 0;
  std::string stats_json;
  std::uint64_t count = 0;
  double duration = 0;
  bool dry_run = false;
  unsigned ring_mb = 32;
  std::string tx = "packet";
  bool qdisc_bypass = false;
  std::vector<std::string> expression;
  std::vector<std::string> junos;
  std::vector<std::string> maps;
  bool lenient = false;
};

Result<config::EncapKind> parse_encap(const std::string& s) {
  if (s == "gre") return config::EncapKind::kGre;
  if (s == "gre-eth" || s == "gretap") return config::EncapKind::kGreEth;
  if (s == "erspan2" || s == "erspan") return config::EncapKind::kErspan2;
  if (s == "erspan3") return config::EncapKind::kErspan3;
  if (s == "vxlan") return config::EncapKind::kVxlan;
  return make_error(ExitCode::kUsage,
                    "--encap " + s + ": expected gre, gre-eth, erspan2, erspan3 or vxlan");
}

// "none" | item[,item]: 20000 / 20kpps / 1.5Mpps (packets/s), 100M / 100Mbit / 1Gbps / 500kbit
// (bits/s).
Result<config::PolicerConfig> parse_police(const std::vector<std::string>& specs, bool& none) {
  config::PolicerConfig p;
  none = false;
  for (const auto& spec : specs) {
    std::string_view rest = spec;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string item(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (item.empty()) continue;
      std::transform(item.begin(), item.end(), item.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (item == "none" || item == "off" || item == "0") {
        none = true;
        continue;
      }
      std::size_t pos = 0;
      while (pos < item.size() &&
             (std::isdigit(static_cast<unsigned char>(item[pos])) || item[pos] == '.'))
        ++pos;
      double v = 0;
      try {
        v = std::stod(item.substr(0, pos));
      } catch (...) {
        return make_error(ExitCode::kUsage, "--police " + spec + ": expected a number");
      }
      std::string unit = item.substr(pos);
      double mult = 1;
      if (!unit.empty() && (unit[0] == 'k' || unit[0] == 'm' || unit[0] == 'g')) {
        mult = unit[0] == 'k' ? 1e3 : unit[0] == 'm' ? 1e6 : 1e9;
        unit = unit.substr(1);
      }
      const auto value = static_cast<std::uint64_t>(v * mult);
      if (unit.empty() || unit == "pps" || unit == "p") {
        if (unit.empty() && mult != 1) {
          p.bits_per_second = value;  // "100M" reads as bits/s, as in Junos bandwidth-limit
        } else {
          p.packets_per_second = value;
        }
      } else if (unit == "bps" || unit == "bit" || unit == "bits" || unit == "b") {
        p.bits_per_second = value;
      } else {
        return make_error(
            ExitCode::kUsage,
            "--police " + spec + ": unknown unit '" + unit +
                "' (use pps, kpps, Mpps for packets/s; bps, kbit, Mbit, Gbit for bits/s)");
      }
      if (value == 0)
        return make_error(ExitCode::kUsage, "--police " + spec + ": rate must be > 0");
    }
  }
  if (p.packets_per_second > source::kMaxPolicePps || p.bits_per_second > source::kMaxPoliceBps) {
    return make_error(ExitCode::kUsage, "--police: at most 100 Mpps and 100 Gbit/s");
  }
  return p;
}

Result<config::MirrorConfig> build_config(const MirrorArgs& a) {
  config::MirrorConfig cfg;
  cfg.loop_prevention = !a.no_loop_prevention;
  cfg.mirror_once = !a.no_mirror_once;
  cfg.mirror_once_window_ms = a.mirror_once_window_ms;
  cfg.keepalive_seconds = a.keepalive;
  if (a.interfaces.empty())
    return make_error(ExitCode::kUsage, "give at least one -i IFACE[:in|out|both]");
  if (a.to.empty())
    return make_error(ExitCode::kUsage, "give the collector address with --to ADDR");
  for (std::size_t i = 0; i < a.expression.size(); ++i) {
    if (i) cfg.bpf += ' ';
    cfg.bpf += a.expression[i];
  }
  config::Filter filter;
  filter.name = "cli";
  filter.family = config::Family::kAny;
  for (std::size_t i = 0; i < a.terms.size(); ++i) {
    auto t = source::parse_cli_term(a.terms[i], "t" + std::to_string(i + 1));
    if (!t) return Unexpected<Error>(t.error());
    filter.terms.push_back(std::move(*t));
  }
  const bool use_filter = !filter.terms.empty();
  if (use_filter) cfg.filters.push_back(filter);
  for (const auto& spec : a.interfaces) {
    config::InterfaceBinding b;
    b.ifname = spec;
    const auto colon = spec.rfind(':');
    if (colon != std::string::npos) {
      const std::string dir = spec.substr(colon + 1);
      if (dir == "in" || dir == "input") {
        b.direction = config::Direction::kInput;
      } else if (dir == "out" || dir == "output") {
        b.direction = config::Direction::kOutput;
      } else if (dir == "both") {
        b.direction = config::Direction::kBoth;
      } else {
        return make_error(ExitCode::kUsage, "-i " + spec + ": direction must be in, out or both");
      }
      b.ifname = spec.substr(0, colon);
    }
    if (use_filter) b.filter = filter.name;
    cfg.interfaces.push_back(b);
  }
  config::MirrorInstance inst;
  inst.family = config::Family::kAny;
  inst.rate = a.rate;
  inst.run_length = a.run_length;
  inst.random_sampling = a.random;
  inst.maximum_packet_length = a.max_length;
  if (a.mtu_policy == "clip") {
    inst.mtu_policy = config::MtuPolicy::kClip;
  } else if (a.mtu_policy == "fragment") {
    inst.mtu_policy = config::MtuPolicy::kFragment;
  } else {
    return make_error(ExitCode::kUsage, "--mtu-policy must be clip or fragment");
  }
  bool none = false;
  auto pol = parse_police(a.police, none);
  if (!pol) return Unexpected<Error>(pol.error());
  if (none) {
    inst.policer = {};
  } else if (a.police.empty()) {
    inst.policer.packets_per_second = source::kDefaultPolicePps;
    inst.policer.bits_per_second = source::kDefaultPoliceBps;
  } else {
    inst.policer = *pol;
  }
  if (!none) inst.policer.burst_packets = a.police_burst;
  auto encap = parse_encap(a.encap);
  if (!encap) return Unexpected<Error>(encap.error());
  std::optional<IpAddress> from;
  if (!a.from.empty()) {
    from = IpAddress::parse(a.from);
    if (!from) return make_error(ExitCode::kUsage, "--from " + a.from + ": not an IP address");
  }
  std::uint8_t gra = 0;
  if (a.granularity == "100us" || a.granularity == "0") {
    gra = 0;
  } else if (a.granularity == "100ns" || a.granularity == "1") {
    gra = 1;
  } else if (a.granularity == "ieee1588" || a.granularity == "ptp" || a.granularity == "2") {
    gra = 2;
  } else {
    return make_error(ExitCode::kUsage, "--granularity must be 100us, 100ns or ieee1588");
  }
  for (const auto& to : a.to) {
    config::TunnelConfig t;
    auto d = IpAddress::parse(to);
    if (!d) return make_error(ExitCode::kUsage, "--to " + to + ": not an IP address");
    t.name = "--to " + to;
    t.destination = *d;
    t.source = from;
    t.encap = *encap;
    if (a.ttl < 1 || a.ttl > 255) return make_error(ExitCode::kUsage, "--ttl must be 1-255");
    t.ttl = static_cast<std::uint8_t>(a.ttl);
    if (a.dscp > 63) return make_error(ExitCode::kUsage, "--dscp must be 0-63");
    t.dscp = static_cast<std::uint8_t>(a.dscp);
    t.key = a.key;
    t.sequence = a.sequence;
    t.checksum = a.checksum;
    if (a.session > 1023) return make_error(ExitCode::kUsage, "--session must be 0-1023");
    t.erspan_session = static_cast<std::uint16_t>(a.session);
    if (a.index > 0xFFFFF) return make_error(ExitCode::kUsage, "--index must be 0-1048575");
    t.erspan_index = a.index;
    if (a.hw_id > 63) return make_error(ExitCode::kUsage, "--hw-id must be 0-63");
    t.erspan_hw_id = static_cast<std::uint8_t>(a.hw_id);
    t.erspan_gra = gra;
    if (a.vni > 0xFFFFFF) return make_error(ExitCode::kUsage, "--vni must be 0-16777215");
    t.vni = a.vni;
    if (a.udp_port < 1 || a.udp_port > 65535)
      return make_error(ExitCode::kUsage, "--udp-port must be 1-65535");
    t.udp_port = static_cast<std::uint16_t>(a.udp_port);
    if ((t.encap == config::EncapKind::kErspan2 || t.encap == config::EncapKind::kErspan3) &&
        (a.key || a.checksum)) {
      return make_error(ExitCode::kUsage,
                        "--key/--checksum do not apply to ERSPAN (its GRE header carries only a "
                        "sequence number; use --session)");
    }
    inst.outputs.push_back(t);
  }
  cfg.instances.push_back(inst);
  return cfg;
}

// `--junos FILE… --map JUNOS=LINUX…`: the plan comes from the router configuration (junos/); the
// command line adds what Junos does not say about a software mirror (policer, MTU policy, random
// sampling, loop prevention, mirror-once, keepalive, expression).
Result<config::MirrorConfig> build_junos_config(const MirrorArgs& a) {
  if (!a.to.empty() || !a.interfaces.empty() || !a.terms.empty()) {
    return make_error(ExitCode::kUsage,
                      "--junos takes interfaces, terms and collectors from the configuration; "
                      "do not combine it with -i, --to or --term (use --map JUNOS=LINUX)");
  }
  junos::LoadOptions lo;
  lo.lenient = a.lenient;
  for (const auto& m : a.maps) {
    const auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
      return make_error(ExitCode::kUsage, "--map " + m + ": expected JUNOS-IFACE=LINUX-IFACE");
    }
    lo.interface_map.emplace_back(m.substr(0, eq), m.substr(eq + 1));
  }
  std::vector<junos::Diagnostic> diags;
  auto plan = junos::load_mirror_config(a.junos, lo, diags);
  if (!diags.empty()) fmt::print(stderr, "{}", junos::format_diagnostics(diags));
  if (!plan) return plan;
  config::MirrorConfig cfg = std::move(*plan);
  cfg.loop_prevention = !a.no_loop_prevention;
  cfg.mirror_once = !a.no_mirror_once;
  cfg.mirror_once_window_ms = a.mirror_once_window_ms;
  cfg.keepalive_seconds = a.keepalive;
  for (std::size_t i = 0; i < a.expression.size(); ++i) {
    if (i) cfg.bpf += ' ';
    cfg.bpf += a.expression[i];
  }
  bool none = false;
  auto pol = parse_police(a.police, none);
  if (!pol) return Unexpected<Error>(pol.error());
  for (auto& inst : cfg.instances) {
    // The configuration's own policer (`then policer NAME` on the terms that mirror to this
    // instance) is kept unless --police says otherwise; an unpoliced instance gets the default.
    const bool from_junos =
        inst.policer.bits_per_second != 0 || inst.policer.packets_per_second != 0;
    if (none) {
      inst.policer = {};
    } else if (!a.police.empty()) {
      inst.policer = *pol;
    } else if (!from_junos) {
      inst.policer.packets_per_second = source::kDefaultPolicePps;
      inst.policer.bits_per_second = source::kDefaultPoliceBps;
    }
    if (!none && a.police_burst != 0) inst.policer.burst_packets = a.police_burst;
    inst.random_sampling = a.random;
    if (a.mtu_policy == "fragment") inst.mtu_policy = config::MtuPolicy::kFragment;
  }
  return cfg;
}

// The kernel filter: the user's expression, minus our own tunnel traffic (loop prevention).
std::string kernel_filter_text(const config::MirrorConfig& cfg) {
  std::string loop;
  if (cfg.loop_prevention) {
    for (const auto& inst : cfg.instances) {
      for (const auto& t : inst.outputs) {
        const std::string host = t.destination.to_string();
        const std::string ipkw = t.destination.is_v4() ? "ip" : "ip6";
        std::string one =
            t.encap == config::EncapKind::kVxlan
                ? fmt::format("({} dst host {} and udp dst port {})", ipkw, host, t.udp_port)
                : fmt::format("({} dst host {} and {} proto 47)", ipkw, host, ipkw);
        loop += loop.empty() ? one : " or " + one;
      }
    }
  }
  if (cfg.bpf.empty()) return loop.empty() ? "" : "not (" + loop + ")";
  if (loop.empty()) return cfg.bpf;
  return "(" + cfg.bpf + ") and not (" + loop + ")";
}

std::string describe(const config::MirrorConfig& cfg, const std::string& kfilter) {
  std::string s;
  for (const auto& b : cfg.interfaces) {
    s += fmt::format("capture {} {}{}\n", b.ifname, direction_name(b.direction),
                     b.filter.empty() ? ", every packet" : ", filter " + b.filter);
  }
  for (const auto& f : cfg.filters) {
    s += fmt::format("filter {}: {} term(s), first match decides, otherwise not mirrored\n", f.name,
                     f.terms.size());
    for (const auto& t : f.terms) {
      s += fmt::format("  term {}: {}{}\n", t.name,
                       t.port_mirror ? "mirror to " + (t.mirror_instance.empty()
                                                           ? std::string("the global instance")
                                                           : "instance " + t.mirror_instance)
                                     : std::string("do not mirror"),
                       t.verdict == config::TermVerdict::kNextTerm ? ", then next term" : "");
    }
  }
  s += fmt::format("kernel filter: {}\n", kfilter.empty() ? "(none)" : kfilter);
  for (const auto& i : cfg.instances) {
    s += fmt::format("instance {}: rate {} run-length {} ({}), maximum-packet-length {}, MTU {}\n",
                     i.name.empty() ? "global" : i.name, i.rate, i.run_length,
                     i.random_sampling ? "random" : "deterministic",
                     i.maximum_packet_length == 0 ? std::string("none")
                                                  : std::to_string(i.maximum_packet_length),
                     i.mtu_policy == config::MtuPolicy::kClip ? "clip" : "fragment");
    if (i.policer.packets_per_second == 0 && i.policer.bits_per_second == 0) {
      s += "  policer: none (--police none)\n";
    } else {
      s += fmt::format(
          "  policer: {} pps, {} bit/s\n",
          i.policer.packets_per_second ? std::to_string(i.policer.packets_per_second) : "-",
          i.policer.bits_per_second ? std::to_string(i.policer.bits_per_second) : "-");
    }
    for (const auto& t : i.outputs) {
      s += fmt::format("  output {} to {} from {} ttl {} dscp {}", config::encap_kind_name(t.encap),
                       t.destination.to_string(), t.source ? t.source->to_string() : "(route)",
                       t.ttl, t.dscp);
      if (t.key) s += fmt::format(" key {}", *t.key);
      if (t.sequence) s += " sequence";
      if (t.checksum) s += " checksum";
      if (t.encap == config::EncapKind::kErspan2)
        s += fmt::format(" session {} index {}", t.erspan_session, t.erspan_index);
      if (t.encap == config::EncapKind::kErspan3)
        s += fmt::format(" session {} hw-id {} granularity {}", t.erspan_session, t.erspan_hw_id,
                         t.erspan_gra);
      if (t.encap == config::EncapKind::kVxlan)
        s += fmt::format(" vni {} port {}", t.vni, t.udp_port);
      s += "\n";
    }
  }
  s += fmt::format("loop prevention {}, mirror-once {}, keepalive {}\n",
                   cfg.loop_prevention ? "on" : "off", cfg.mirror_once ? "on" : "off",
                   cfg.keepalive_seconds ? std::to_string(cfg.keepalive_seconds) + " s" : "off");
  return s;
}

std::string stats_json(const source::MirrorEngine& e, const std::vector<io::TxPath>& tx) {
  std::string s = "{\n  \"interfaces\": [";
  for (std::size_t i = 0; i < e.interface_count(); ++i) {
    const auto& c = e.iface_counters(i);
    s += fmt::format("{}\n    {{\"name\": \"{}\"", i ? "," : "", e.iface_name(i));
    for (std::size_t k = 0; k < c.kSize; ++k) s += fmt::format(", \"{}\": {}", c.name(k), c.at(k));
    s += "}";
  }
  s += "\n  ],\n  \"instances\": [";
  for (std::size_t i = 0; i < e.instance_count(); ++i) {
    const auto& c = e.instance_counters(i);
    s += fmt::format("{}\n    {{\"name\": \"{}\"", i ? "," : "",
                     e.instance_name(i).empty() ? "global" : e.instance_name(i));
    for (std::size_t k = 0; k < c.kSize; ++k) s += fmt::format(", \"{}\": {}", c.name(k), c.at(k));
    s += "}";
  }
  s += "\n  ],\n  \"outputs\": [";
  for (std::size_t o = 0; o < e.output_count(); ++o) {
    s += fmt::format(
        "{}\n    {{\"destination\": \"{}\", \"encap\": \"{}\", \"instance\": {}, \"sent\": {}, "
        "\"send_errors\": {}, \"next_sequence\": {}, \"tx_packet\": {}, \"tx_socket\": {}}}",
        o ? "," : "", e.output_config(o).destination.to_string(),
        config::encap_kind_name(e.output_config(o).encap), e.output_instance(o), e.output_sent(o),
        e.output_errors(o), e.output_template(o).next_sequence(), tx[o].packet_sent(),
        tx[o].socket_sent());
  }
  s += "\n  ]\n}\n";
  return s;
}

int fail(const Error& e) {
  fmt::print(stderr, "portmirror mirror: {}\n", e.message);
  return to_int(e.code);
}

int run_mirror(const MirrorArgs& a) {
  // Handlers first: a SIGUSR1 or SIGINT during setup must not kill the process.
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_handler = on_dump;
  sigaction(SIGUSR1, &sa, nullptr);
  auto cfg_r = a.junos.empty() ? build_config(a) : build_junos_config(a);
  if (!cfg_r) return fail(cfg_r.error());
  config::MirrorConfig& cfg = *cfg_r;
  if (!cfg.bpf.empty()) {
    auto user = io::compile_bpf(cfg.bpf);  // report errors against the user's own text
    if (!user) return fail(user.error());
  }
  const std::string kfilter = kernel_filter_text(cfg);
  auto prog = io::compile_bpf(kfilter);
  if (!prog) return fail(prog.error());
  // Validate the terms before touching the network.
  {
    std::vector<std::string> names;
    for (const auto& i : cfg.instances) names.push_back(i.name);
    for (const auto& f : cfg.filters) {
      auto m = source::TermMatcher::compile(f, names);
      if (!m) return fail(m.error());
    }
  }
  if (a.dry_run) {
    fmt::print("{}", a.junos.empty() ? describe(cfg, kfilter)
                                     : junos::describe_plan(cfg) + "kernel filter: " +
                                           (kfilter.empty() ? "(none)" : kfilter) + "\n");
    return 0;
  }
  for (const auto& b : cfg.interfaces) {
    if (b.ifname.empty()) {
      return fail(Error{ExitCode::kUsage,
                        "interface " + b.junos_name + " has no Linux interface: give --map " +
                            b.junos_name + "=IFACE",
                        std::nullopt});
    }
  }
  if (cfg.interfaces.empty()) {
    return fail(Error{ExitCode::kConfig, "nothing to capture: no interface with a filter bound",
                      std::nullopt});
  }

  if (a.tx != "packet" && a.tx != "socket") {
    return fail(
        Error{ExitCode::kUsage, "--tx " + a.tx + ": expected packet or socket", std::nullopt});
  }
  // Outputs first (a route lookup error is clearer than a capture one), then capture rings.
  std::vector<io::TxPath> senders;
  std::vector<std::vector<source::OutputRoute>> routes;
  for (const auto& inst : cfg.instances) {
    routes.emplace_back();
    for (const auto& t : inst.outputs) {
      io::SenderOptions so;
      so.destination = t.destination;
      so.source = t.source;
      so.protocol = t.encap == config::EncapKind::kVxlan ? 17 : 47;
      so.ttl = t.ttl;
      so.dscp = t.dscp;
      so.allow_fragmentation = inst.mtu_policy == config::MtuPolicy::kFragment;
      auto s = io::Sender::open(so);
      if (!s) return fail(s.error());
      routes.back().push_back(source::OutputRoute{s->source(), s->path_mtu()});
      if (a.tx == "socket") {
        senders.emplace_back(std::move(*s));
        continue;
      }
      io::PacketSenderOptions po;
      po.destination = t.destination;
      po.source = s->source();
      po.source_pinned = t.source.has_value();
      po.qdisc_bypass = a.qdisc_bypass;
      auto p = io::PacketSender::open(po);
      if (!p) {
        fmt::print(stderr,
                   "portmirror mirror: output to {}: AF_PACKET path unavailable ({}); sending "
                   "through the raw IP socket\n",
                   t.destination.to_string(), p.error().message);
        senders.emplace_back(std::move(*s));
        continue;
      }
      const auto& lr = p->route();
      fmt::print(stderr, "portmirror mirror: output to {}: AF_PACKET on {} to {} ({}), MTU {}\n",
                 t.destination.to_string(), lr.ifname, lr.next_hop.to_string(),
                 io::mac_to_string(lr.next_hop_mac), lr.mtu);
      senders.emplace_back(std::move(*s), std::move(*p));
    }
  }
  std::vector<io::PacketRing> rings;
  for (std::size_t i = 0; i < cfg.interfaces.size(); ++i) {
    const auto& b = cfg.interfaces[i];
    io::RingOptions ro;
    ro.ifname = b.ifname;
    ro.direction = b.direction == config::Direction::kInput    ? io::CaptureDirection::kIn
                   : b.direction == config::Direction::kOutput ? io::CaptureDirection::kOut
                                                               : io::CaptureDirection::kBoth;
    ro.filter = *prog;
    ro.block_count = std::max(2u, a.ring_mb);
    ro.source_id = static_cast<std::uint16_t>(i);
    auto r = io::PacketRing::open(ro);
    if (!r) return fail(r.error());
    rings.push_back(std::move(*r));
  }
  auto eng_r = source::MirrorEngine::create(cfg, routes, monotonic_ns());
  if (!eng_r) return fail(eng_r.error());
  source::MirrorEngine& eng = **eng_r;

  fmt::print(stderr, "portmirror mirror: {} interface(s) -> {} output(s); kernel filter: {}\n",
             rings.size(), senders.size(), kfilter.empty() ? "(none)" : kfilter);

  auto flush = [&] {
    for (std::size_t o = 0; o < eng.output_count(); ++o) {
      const std::size_t n = eng.slot_count(o);
      if (n == 0) continue;
      const auto res = senders[o].send(std::span<const io::SendSlot>(eng.slots(o), n));
      eng.sent(o, res.sent, res.errors);
    }
  };
  std::vector<std::uint64_t> ring_packets(rings.size(), 0), ring_drops(rings.size(), 0);
  auto update_ring_stats = [&] {
    for (std::size_t i = 0; i < rings.size(); ++i) {
      const auto& st = rings[i].update_stats();
      eng.iface_counters(i).inc(source::IfaceCounter::kRingPackets, st.packets - ring_packets[i]);
      eng.iface_counters(i).inc(source::IfaceCounter::kRingDrops, st.drops - ring_drops[i]);
      ring_packets[i] = st.packets;
      ring_drops[i] = st.drops;
    }
  };
  auto total_sent = [&] {
    std::uint64_t t = 0;
    for (std::size_t o = 0; o < eng.output_count(); ++o) t += eng.output_sent(o);
    return t;
  };

  std::vector<pollfd> pfds(rings.size());
  for (std::size_t i = 0; i < rings.size(); ++i)
    pfds[i] = pollfd{rings[i].fd(), POLLIN | POLLERR, 0};
  const TimestampNs start = monotonic_ns();
  const TimestampNs deadline =
      a.duration > 0 ? start + static_cast<TimestampNs>(a.duration * 1e9) : 0;
  TimestampNs next_tick = start + kNsPerSec;
  int rc = 0;
  while (!g_stop) {
    bool any = false;
    const TimestampNs now = monotonic_ns();
    for (std::size_t i = 0; i < rings.size(); ++i) {
      auto& ring = rings[i];
      while (ring.acquire_block()) {
        any = true;
        io::RingFrame f;
        while (ring.next_frame(f)) {
          if (!eng.room()) flush();
          eng.process(f.frame, i, f.outgoing, now);
        }
        flush();  // the slots borrow from this block
        ring.release_block();
      }
    }
    const TimestampNs t = monotonic_ns();
    if (t >= next_tick) {
      next_tick = t + kNsPerSec;
      eng.tick(t);
      flush();
      update_ring_stats();
      for (std::size_t o = 0; o < senders.size(); ++o) {
        auto& tx = senders[o];
        if (!tx.refresh(t)) continue;  // state changes only
        const auto* p = tx.packet();
        if (tx.packet_active()) {
          fmt::print(stderr, "portmirror mirror: output to {}: AF_PACKET on {} to {} ({}) again\n",
                     eng.output_config(o).destination.to_string(), p->route().ifname,
                     p->route().next_hop.to_string(), io::mac_to_string(p->route().next_hop_mac));
        } else {
          fmt::print(stderr, "portmirror mirror: output to {}: {}; raw IP socket meanwhile\n",
                     eng.output_config(o).destination.to_string(), p->reason());
        }
      }
    }
    if (g_dump) {
      g_dump = 0;
      update_ring_stats();
      fmt::print(stderr, "{}", source::format_engine_stats(eng));
    }
    if (a.count != 0 && total_sent() >= a.count) break;
    if (deadline != 0 && t >= deadline) break;
    if (!any) {
      const int timeout = 100;
      const int n = poll(pfds.data(), pfds.size(), timeout);
      if (n < 0 && errno != EINTR) {
        fmt::print(stderr, "portmirror mirror: poll: {}\n", std::strerror(errno));
        rc = to_int(ExitCode::kFailure);
        break;
      }
      // An interface that goes down reports POLLERR once (cleared here; the ring resumes when
      // it is up); one that is deleted leaves its ring dead: stop polling it, and stop when no
      // interface is left (as tcpdump does).
      std::size_t alive = 0;
      for (std::size_t i = 0; i < rings.size(); ++i) {
        if (pfds[i].fd >= 0 && (pfds[i].revents & POLLERR) != 0) {
          const int err = rings[i].take_error();
          if (!rings[i].interface_exists()) {
            fmt::print(stderr, "portmirror mirror: interface {} is gone; no more copies from it\n",
                       rings[i].ifname());
            pfds[i].fd = -1;
          } else if (err != 0) {
            fmt::print(stderr, "portmirror mirror: interface {}: {}\n", rings[i].ifname(),
                       std::strerror(err));
          }
        }
        if (pfds[i].fd >= 0) ++alive;
      }
      if (alive == 0) {
        fmt::print(stderr, "portmirror mirror: stopped: no interface left to capture on\n");
        rc = to_int(ExitCode::kFailure);
        break;
      }
    }
  }
  flush();
  update_ring_stats();
  fmt::print(stderr, "{}", source::format_engine_stats(eng));
  for (std::size_t o = 0; o < senders.size(); ++o) {
    fmt::print(stderr, "output {} tx: packet={} socket={}\n", o, senders[o].packet_sent(),
               senders[o].socket_sent());
  }
  if (!a.stats_json.empty()) {
    std::FILE* f = a.stats_json == "-" ? stdout : std::fopen(a.stats_json.c_str(), "w");
    if (f == nullptr) {
      fmt::print(stderr, "portmirror mirror: --stats-json {}: {}\n", a.stats_json,
                 std::strerror(errno));
      return to_int(ExitCode::kOutputUnwritable);
    }
    const std::string j = stats_json(eng, senders);
    std::fwrite(j.data(), 1, j.size(), f);
    if (f != stdout) std::fclose(f);
  }
  return rc;
}

}  // namespace

Runner add_mirror_command(CLI::App& app) {
  auto a = std::make_shared<MirrorArgs>();
  auto* sub = app.add_subcommand(
      "mirror",
      "software port mirror: capture on interfaces, select with terms or a tcpdump expression, "
      "sample, police, encapsulate (GRE, ERSPAN II/III, VXLAN) and send to collectors");
  sub->add_option("-i,--interface", a->interfaces, "IFACE[:in|out|both] to capture on (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--to", a->to, "collector address (repeatable: each copy goes to every one)")
      ->allow_extra_args(false);
  sub->add_option("--from", a->from, "tunnel source address (default: chosen by the route)");
  sub->add_option("--encap", a->encap,
                  "gre (IP payload, like Junos gr-), gre-eth, erspan2, erspan3, vxlan")
      ->capture_default_str();
  sub->add_option("--key", a->key, "GRE key");
  sub->add_flag("--sequence", a->sequence, "GRE sequence numbers (always on for ERSPAN)");
  sub->add_flag("--checksum", a->checksum, "GRE checksum");
  sub->add_option("--ttl", a->ttl, "outer TTL / hop limit")->capture_default_str();
  sub->add_option("--dscp", a->dscp, "outer DSCP")->capture_default_str();
  sub->add_option("--session", a->session, "ERSPAN session ID 0-1023");
  sub->add_option("--index", a->index, "ERSPAN II index (20 bits)");
  sub->add_option("--hw-id", a->hw_id, "ERSPAN III hardware ID 0-63");
  sub->add_option("--granularity", a->granularity, "ERSPAN III timestamp: 100us, 100ns, ieee1588")
      ->capture_default_str();
  sub->add_option("--vni", a->vni, "VXLAN network identifier");
  sub->add_option("--udp-port", a->udp_port, "VXLAN destination port")->capture_default_str();
  sub->add_option("--rate", a->rate, "mirror 1 of every N matching packets (1-65535)")
      ->capture_default_str();
  sub->add_option("--run-length", a->run_length,
                  "after each sampled packet also mirror the next M (0-20)")
      ->capture_default_str();
  sub->add_flag("--random", a->random, "random sampling (1 in N on average) instead of every Nth");
  sub->add_option("--max-length", a->max_length, "truncate copies to L bytes (0 = off)");
  sub->add_option("--police", a->police,
                  "policer on the copies: PPS (20000, 50kpps) and/or BPS (100Mbit, 1Gbps), comma "
                  "separated; 'none' removes it. Default 10000 pps and 100 Mbit/s; with --junos, "
                  "an instance whose mirroring terms say 'then policer' uses those policers")
      ->allow_extra_args(false);
  sub->add_option("--police-burst", a->police_burst,
                  "policer burst in packets (default rate/10, >= 64)");
  sub->add_option("--mtu-policy", a->mtu_policy,
                  "clip (truncate copies to the path MTU) or fragment")
      ->capture_default_str();
  sub->add_option(
         "--term", a->terms,
         "filter term, Junos words: 'from source-address 192.168.70.0/24 protocol udp "
         "destination-port 18252-18260 then port-mirror' (repeatable; first match decides)")
      ->allow_extra_args(false);
  sub->add_flag("--no-loop-prevention", a->no_loop_prevention,
                "also mirror our own tunnel traffic");
  sub->add_flag("--no-mirror-once", a->no_mirror_once,
                "mirror a packet seen on two interfaces twice");
  sub->add_option("--mirror-once-window", a->mirror_once_window_ms,
                  "mirror-once: sightings this many ms apart are one packet (default 100)")
      ->check(CLI::Range(1u, 10000u));
  sub->add_option("--keepalive", a->keepalive,
                  "send GRE keepalives after N idle seconds (0 = off)");
  sub->add_option("--stats-json", a->stats_json,
                  "write final counters as JSON to FILE ('-' = stdout)");
  sub->add_option("-c,--count", a->count, "stop after N copies were sent");
  sub->add_option("--duration", a->duration, "stop after SECONDS");
  sub->add_flag("--dry-run", a->dry_run, "print the plan and exit");
  sub->add_option("--ring-mb", a->ring_mb, "capture ring size per interface in MiB")
      ->capture_default_str();
  sub->add_option("--tx", a->tx,
                  "send path: packet (AF_PACKET frames to the resolved next hop; falls back to "
                  "socket when it cannot be resolved) or socket (raw IP socket)")
      ->capture_default_str();
  sub->add_flag(
      "--qdisc-bypass", a->qdisc_bypass,
      "--tx packet: PACKET_QDISC_BYPASS (skip the egress qdisc; copies are then invisible "
      "to packet taps such as tcpdump on that interface)");
  sub->add_option("--junos", a->junos,
                  "run from a Junos configuration (with --map; repeatable: snippets)")
      ->allow_extra_args(false);
  sub->add_option("--map", a->maps, "JUNOS-IFACE=LINUX-IFACE for --junos (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("--lenient", a->lenient, "--junos: recover from brace errors by indentation");
  sub->add_option("expression", a->expression, "tcpdump filter expression (ANDed with the terms)");
  return [a] { return run_mirror(*a); };
}

}  // namespace portmirror::app

#include "apps/portmirror/sink_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "portmirror/base/exit_codes.h"

namespace portmirror::app {

namespace {

std::string port_list(const std::vector<std::uint16_t>& ports) {
  return ports.empty() ? std::string("none") : fmt::format("{}", fmt::join(ports, ", "));
}

void add_port_option(CLI::App* app, const char* name, const char* what,
                     std::vector<std::uint16_t>& into, const std::vector<std::uint16_t>& defaults) {
  app->add_option(name, into,
                  fmt::format("also decode {} on UDP PORT (repeatable; added to the defaults: {})",
                              what, port_list(defaults)))
      ->type_name("PORT")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void merge(std::vector<std::uint16_t>& out, const std::vector<std::uint16_t>& add) {
  for (auto p : add) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
}

Unexpected<Error> usage(std::string message) {
  return make_error(ExitCode::kUsage, std::move(message));
}

}  // namespace

void add_sink_options(CLI::App* app, SinkFlags& f, const UdpPorts& defaults) {
  app->add_option("--format", f.format,
                  "pcapng | pcap | pcap-ns (default pcapng; pcap with -w -, which every reader "
                  "takes from a pipe)")
      ->type_name("FORMAT");
  app->add_option("--linktype", f.linktype,
                  "ethernet (default: IP payloads get a synthesized Ethernet header, every reader "
                  "copes) | native (keep RAW for IP payloads)")
      ->type_name("TYPE");
  app->add_option("--split-by", f.split_by,
                  "none (default) | sender | session: one output per group; -w may use %s %r %e "
                  "%k %n")
      ->type_name("GROUP");
  app->add_option("--split-pattern", f.split_pattern,
                  "file name pattern for --split-by (default: derived from -w)")
      ->type_name("PATTERN");
  app->add_option("-C", f.rotate_size,
                  "rotate when a file exceeds SIZE million bytes (fractions and k/m/g suffixes "
                  "for KiB/MiB/GiB ok)")
      ->type_name("SIZE");
  app->add_option("-G", f.rotate_seconds, "rotate every SECONDS of packet time (strftime in -w)")
      ->type_name("SECONDS");
  app->add_option("-W", f.ring_files, "keep at most COUNT files per output (ring; with -C or -G)")
      ->type_name("COUNT");
  app->add_flag("-U", f.flush_each, "flush after every packet");
  add_port_option(app, "--vxlan-port", "VXLAN", f.ports.vxlan, defaults.vxlan);
  add_port_option(app, "--geneve-port", "Geneve", f.ports.geneve, defaults.geneve);
  add_port_option(app, "--tzsp-port", "TZSP", f.ports.tzsp, defaults.tzsp);
  app->add_flag("--no-default-ports", f.no_default_ports,
                "use only the UDP ports given with --vxlan-port, --geneve-port, --tzsp-port");
  app->add_option("--depth", f.depth,
                  "tunnels to strip: N or all (default 1: the mirroring tunnel)")
      ->type_name("N|all");
  app->add_flag("--strict", f.strict, "reject reserved bits and bad GRE checksums");
  app->add_flag("--dedup", f.dedup, "drop second copies of the same (session, sequence number)");
  app->add_option("--timestamps", f.timestamps,
                  "capture (default) | erspan (ERSPAN III hardware time)")
      ->type_name("SOURCE");
  app->add_option("--stats-json", f.stats_json, "write final statistics as JSON to FILE")
      ->type_name("FILE");
}

std::optional<std::uint64_t> parse_rotate_size(std::string_view s) {
  double v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v, std::chars_format::fixed);
  if (ec != std::errc{} || p == s.data() || !std::isfinite(v) || v <= 0) return std::nullopt;
  double unit = 1e6;  // tcpdump -C: millions of bytes
  if (p != end) {
    if (p + 1 != end) return std::nullopt;
    switch (std::tolower(static_cast<unsigned char>(*p))) {
      case 'k':
        unit = 1024.0;
        break;
      case 'm':
        unit = 1024.0 * 1024;
        break;
      case 'g':
        unit = 1024.0 * 1024 * 1024;
        break;
      default:
        return std::nullopt;
    }
  }
  double bytes = std::ceil(v * unit);
  if (bytes < 1 || bytes > 0x1p60) return std::nullopt;
  return static_cast<std::uint64_t>(bytes);
}

UdpPorts effective_ports(const SinkFlags& f, const UdpPorts& defaults) {
  UdpPorts out;
  if (!f.no_default_ports) out = defaults;
  merge(out.vxlan, f.ports.vxlan);
  merge(out.geneve, f.ports.geneve);
  merge(out.tzsp, f.ports.tzsp);
  return out;
}

Result<io::SinkOptions> to_sink_options(const SinkFlags& f, const std::string& path) {
  io::SinkOptions so;
  so.path = path;
  const std::string format = f.format.empty() ? (path == "-" ? "pcap" : "pcapng") : f.format;
  if (format == "pcapng") {
    so.format = io::FileFormat::kPcapng;
  } else if (format == "pcap") {
    so.format = io::FileFormat::kPcap;
  } else if (format == "pcap-ns" || format == "pcapns") {
    so.format = io::FileFormat::kPcapNs;
  } else {
    return usage(fmt::format("--format must be pcapng, pcap or pcap-ns, not '{}'", format));
  }
  if (f.linktype == "ethernet") {
    so.link_policy = io::LinkTypePolicy::kEthernet;
  } else if (f.linktype == "native") {
    so.link_policy = io::LinkTypePolicy::kNative;
  } else {
    return usage(fmt::format("--linktype must be ethernet or native, not '{}'", f.linktype));
  }
  if (f.split_by.empty() || f.split_by == "none") {
    so.split = io::SplitBy::kNone;
  } else if (f.split_by == "sender") {
    so.split = io::SplitBy::kSender;
  } else if (f.split_by == "session") {
    so.split = io::SplitBy::kSession;
  } else {
    return usage(fmt::format("--split-by must be none, sender or session, not '{}'", f.split_by));
  }
  so.split_pattern = f.split_pattern;
  if (!f.rotate_size.empty()) {
    auto bytes = parse_rotate_size(f.rotate_size);
    if (!bytes) {
      return usage(fmt::format(
          "-C wants a size in millions of bytes (e.g. 100 or 0.5, or with k/m/g), not '{}'",
          f.rotate_size));
    }
    so.rotate_bytes = *bytes;
  }
  so.rotate_seconds = f.rotate_seconds;
  so.ring_files = f.ring_files;
  so.flush_each_packet = f.flush_each;
  return so;
}

Result<void> apply_pipeline_options(const SinkFlags& f, const UdpPorts& ports,
                                    io::PipelineOptions& po) {
  po.decap.vxlan_ports = ports.vxlan;
  po.decap.geneve_ports = ports.geneve;
  po.decap.tzsp_ports = ports.tzsp;
  if (f.depth == "all") {
    po.decap.depth = collector::kMaxEncapDepth;
  } else {
    int d = 0;
    auto [p, ec] = std::from_chars(f.depth.data(), f.depth.data() + f.depth.size(), d);
    if (ec != std::errc{} || p != f.depth.data() + f.depth.size() || d < 1 ||
        d > collector::kMaxEncapDepth) {
      return usage(fmt::format("--depth must be 1..{} or all, not '{}'", collector::kMaxEncapDepth,
                               f.depth));
    }
    po.decap.depth = d;
  }
  po.decap.strict = f.strict;
  po.dedup = f.dedup;
  if (f.timestamps == "capture") {
    po.timestamps = io::TimestampSource::kCapture;
  } else if (f.timestamps == "erspan") {
    po.timestamps = io::TimestampSource::kErspan;
  } else {
    return usage(fmt::format("--timestamps must be capture or erspan, not '{}'", f.timestamps));
  }
  return {};
}

}  // namespace portmirror::app

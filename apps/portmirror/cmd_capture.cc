// `portmirror capture`: the live collector. Receives mirrored traffic on user-space sockets (or an
// AF_PACKET ring with -i), strips the tunnel, and prints or writes the inner packets. Thin: flags
// -> io::CaptureLoop + io::Pipeline + sink -> exit code. See docs/capture.md.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "apps/portmirror/commands.h"
#include "apps/portmirror/sink_options.h"
#include "portmirror/base/exit_codes.h"
#include "portmirror/io/bpf_filter.h"
#include "portmirror/io/capture_loop.h"
#include "portmirror/io/pipeline.h"
#include "portmirror/io/sink.h"
#include "portmirror/io/stats_report.h"
#include "portmirror/io/text_sink.h"

namespace portmirror::app {

namespace {

struct CaptureFlags {
  std::string listen;
  std::vector<std::string> allow;
  std::vector<std::string> pins;
  std::string iface;
  std::uint32_t ring_mb = 0;  // 0: 64 with -i; mode ring splits 64 over its rings
  std::string rx = "auto";
  bool no_ipv6 = false;
  std::string write;
  SinkFlags sink;  // shared with decap (sink_options.h)
  bool print = false;
  bool no_promisc = false;
  bool numeric = false;
  std::uint64_t count = 0;
  bool quiet = false;
  int verbose = 0;
  std::string user;
  double silence_secs = 10;
  std::uint32_t rcvbuf_mb = 64;
  std::vector<std::string> expression;
};

int fail(const Error& e) {
  fmt::print(stderr, "portmirror capture: {}\n", e.message);
  return to_int(e.code);
}
int usage(std::string_view msg) {
  fmt::print(stderr, "portmirror capture: {}\n", msg);
  return to_int(ExitCode::kUsage);
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += sep;
    s += x;
  }
  return s;
}

// What capture adds to the shared statistics (io/stats_report): the admission counters and the
// sniff-mode outer length mismatches, as flat counters for the text lines and JSON.
io::StatsExtra capture_extra(const io::CaptureLoop& loop, const io::Admission& adm) {
  io::StatsExtra x;
  if (!adm.open()) {
    x.counters.emplace_back("rejected: sender not in --allow", adm.rejected_not_allowed());
    x.counters.emplace_back("rejected: --pin mismatch", adm.rejected_pin());
  }
  x.counters.emplace_back("outer length beyond the captured bytes (mirror snaplen)",
                          loop.outer_length_mismatch());
  return x;
}

// Final statistics (also on SIGUSR1): tcpdump's three lines, then the shared collector lines
// (inner packets, reasons, one line per tunnel session with its sequence accounting).
void print_stats(std::FILE* out, io::CaptureLoop& loop, const io::Pipeline& p,
                 const io::Admission& adm) {
  io::KernelStats k = loop.kernel_stats();
  fmt::print(out, "{} packets captured\n", k.captured);
  fmt::print(out, "{} packets received by filter\n", k.received);
  fmt::print(out, "{} packets dropped by kernel\n", k.dropped);
  fmt::print(out, "{}", io::stats_text(p, capture_extra(loop, adm)));
  for (const auto& r : adm.rejected_senders()) {
    fmt::print(out, "rejected from {}: {} packets\n", r.sender.to_string(), r.packets);
  }
  std::fflush(out);
}

// The shared --stats-json object plus capture's own members: "kernel" (tcpdump's three numbers),
// "admission" (rejections by cause and by sender) and "outer_length_mismatch".
Result<void> write_capture_json(const std::string& path, io::CaptureLoop& loop,
                                const io::Pipeline& p, const io::Admission& adm) {
  io::KernelStats k = loop.kernel_stats();
  io::StatsExtra x;
  x.counters.emplace_back("outer_length_mismatch", loop.outer_length_mismatch());
  std::string j = io::stats_json(p, x);
  std::string add = fmt::format(
      "  \"kernel\": {{\"captured\": {}, \"received\": {}, \"dropped\": {}, \"ring_frames\": {}, "
      "\"socket_datagrams\": {}}},\n"
      "  \"admission\": {{\"open\": {}, \"not_allowed\": {}, \"pin_mismatch\": {}, \"senders\": [",
      k.captured, k.received, k.dropped, k.ring_frames, k.socket_datagrams,
      adm.open() ? "true" : "false", adm.rejected_not_allowed(), adm.rejected_pin());
  bool first = true;
  for (const auto& r : adm.rejected_senders()) {
    add += fmt::format("{}{{\"sender\": {}, \"packets\": {}}}", first ? "" : ", ",
                       io::json_string(r.sender.to_string()), r.packets);
    first = false;
  }
  add += "]},\n";
  j.insert(2, add);  // after the opening "{\n"
  FILE* f = std::fopen(path.c_str(), "w");
  bool ok = f != nullptr && std::fwrite(j.data(), 1, j.size(), f) == j.size();
  if (f != nullptr) ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    return make_error(ExitCode::kOutputUnwritable,
                      fmt::format("--stats-json {}: cannot write: {}", path, std::strerror(errno)));
  }
  return {};
}

// The UDP ports capture opens sockets for unless --no-default-ports (decap also decodes 8472, the
// Linux VXLAN default: a socket there would clash with such a device on this host).
UdpPorts capture_default_ports() {
  const io::SocketSourceOptions d;
  return UdpPorts{d.vxlan_ports, d.geneve_ports, d.tzsp_ports};
}

int run_capture(const CaptureFlags& f) {
  // --- what to receive -------------------------------------------------------------------------
  io::CaptureOptions co;
  if (!f.listen.empty()) {
    auto a = IpAddress::parse(f.listen);
    if (!a) return usage(fmt::format("--listen {}: not an IPv4 or IPv6 address", f.listen));
    co.sockets.listen = *a;
  }
  const UdpPorts ports = effective_ports(f.sink, capture_default_ports());
  co.sockets.vxlan_ports = ports.vxlan;
  co.sockets.geneve_ports = ports.geneve;
  co.sockets.tzsp_ports = ports.tzsp;
  co.sockets.ipv6 = !f.no_ipv6;
  co.sockets.rcvbuf_bytes = static_cast<int>(std::min<std::uint32_t>(f.rcvbuf_mb, 1024) << 20);
  if (!f.iface.empty()) {
    io::RingOptions ro;
    ro.ifname = f.iface;
    ro.direction = io::CaptureDirection::kIn;
    ro.promiscuous = !f.no_promisc;  // a SPAN/TAP port carries frames for other MACs (tcpdump -p)
    ro.block_size = 1u << 20;
    ro.block_count = std::max<std::uint32_t>(2, f.ring_mb != 0 ? f.ring_mb : 64);
    co.ring = ro;
  }
  if (f.rx == "auto") {
    co.rx = io::RxMode::kAuto;
  } else if (f.rx == "socket") {
    co.rx = io::RxMode::kSocket;
  } else if (f.rx == "ring") {
    co.rx = io::RxMode::kRing;
  } else {
    return usage(fmt::format("--rx {}: expected auto, socket or ring", f.rx));
  }
  co.local_ring_mb = f.ring_mb;
  co.count = f.count;
  // Text lines and a live `-w -` stream are made visible after each receive batch (a reader
  // such as `wireshark -k -i -` would otherwise wait for a 1 MiB buffer); files only with -U.
  co.flush_after_batch = f.write.empty() || f.write == "-" || f.print;
  co.silence_timeout = static_cast<TimestampNs>(f.silence_secs * 1e9);

  std::vector<IpPrefix> allow;
  for (const auto& a : f.allow) {
    auto p = IpPrefix::parse(a);
    if (!p) return usage(fmt::format("--allow {}: not an address or CIDR prefix", a));
    allow.push_back(*p);
  }
  std::vector<io::Pin> pins;
  for (const auto& s : f.pins) {
    auto p = io::Pin::parse(s);
    if (!p) return usage(fmt::format("--pin {}: expected SENDER=ID (e.g. 198.18.1.1=0x1234)", s));
    pins.push_back(*p);
  }
  io::Admission admission(std::move(allow), std::move(pins));

  // --- pipeline options (shared with decap) ---------------------------------------------------
  io::PipelineOptions po;
  if (auto r = apply_pipeline_options(f.sink, ports, po); !r) return fail(r.error());

  // The filter is compiled before anything is opened: a bad filter is a usage error, not a
  // half-started collector.
  std::string expr = join(f.expression, " ");
  auto filter = io::InnerFilter::compile(expr);
  if (!filter) return fail(filter.error());

  auto sink_options = to_sink_options(f.sink, f.write);
  if (!sink_options) return fail(sink_options.error());
  io::SinkOptions& so = *sink_options;
  so.filter_text = expr;
  if (f.print && (f.write.empty() || f.write == "-")) {
    return usage("--print needs -w FILE (a file, not standard output)");
  }
  if (f.write.empty() && (so.split != io::SplitBy::kNone || so.rotate_bytes || so.rotate_seconds)) {
    return usage("--split-by, -C and -G need -w FILE");
  }

  // --- open sources, drop privileges, then open the output (as tcpdump -Z does) --------------
  auto loop = io::CaptureLoop::open(co);
  if (!loop) return fail(loop.error());
  if (!f.user.empty()) {
    if (auto r = io::CaptureLoop::drop_privileges(f.user); !r) return fail(r.error());
  }
  std::unique_ptr<io::Sink> sink;
  io::TextOptions to;
  to.numeric = f.numeric;
  to.quiet = f.quiet;
  to.verbose = f.verbose;
  if (f.write.empty()) {
    sink = std::make_unique<io::TextSink>(to, stdout, f.sink.flush_each);
  } else {
    auto s = io::open_sink(so);
    if (!s) return fail(s.error());
    sink = std::move(*s);
    if (f.print) {
      sink = std::make_unique<io::TeeSink>(
          std::move(sink), std::make_unique<io::TextSink>(to, stdout, f.sink.flush_each));
    }
  }
  io::Pipeline pipeline(po, *sink, filter->get());
  // Lines on stdout carry packets (text mode) or pcap bytes (-w -): everything else is stderr.
  std::FILE* log = stderr;

  fmt::print(log, "portmirror capture: listening on {}\n", (*loop)->describe());
  if (!(*loop)->ring_fallback().empty()) {
    fmt::print(log, "portmirror capture: receiving through the sockets only ({})\n",
               (*loop)->ring_fallback());
  }
  if (admission.open()) {
    fmt::print(log, "portmirror capture: accepting every sender (no --allow)\n");
  } else {
    std::vector<std::string> a;
    for (const auto& p : admission.allow()) a.push_back(p.to_string());
    for (const auto& p : admission.pins())
      a.push_back(fmt::format("{} pinned to id {}", p.sender.to_string(), p.id));
    fmt::print(log, "portmirror capture: accepting only {}\n", join(a, ", "));
  }
  if (!expr.empty()) fmt::print(log, "portmirror capture: inner filter: {}\n", expr);
  std::fflush(log);

  bool ok = (*loop)->run(pipeline, admission, log,
                         [&] { print_stats(log, **loop, pipeline, admission); });
  bool closed = pipeline.finish();
  print_stats(log, **loop, pipeline, admission);
  if (!f.sink.stats_json.empty()) {
    if (auto r = write_capture_json(f.sink.stats_json, **loop, pipeline, admission); !r) {
      return fail(r.error());
    }
  }
  if (!(*loop)->source_lost().empty()) {
    fmt::print(stderr, "portmirror capture: {}\n", (*loop)->source_lost());
    return to_int(ExitCode::kFailure);
  }
  if (!ok || !closed) {
    const Error* e = pipeline.sink().error();
    if (e != nullptr) return fail(*e);
    return to_int(ExitCode::kOutputUnwritable);
  }
  return to_int(ExitCode::kOk);
}

}  // namespace

Runner add_capture_command(CLI::App& app) {
  auto f = std::make_shared<CaptureFlags>();
  CLI::App* c = app.add_subcommand(
      "capture",
      "receive mirrored traffic (GRE, ERSPAN I/II/III, VXLAN, Geneve, TZSP) on user-space sockets "
      "or an interface, and print or write the inner packets");
  c->add_option("--listen", f->listen, "only this local address (IPv4 or IPv6)");
  c->add_option("--allow", f->allow, "accept only these senders (CIDR, repeatable)");
  c->add_option("--pin", f->pins,
                "SENDER=ID: require this GRE key / ERSPAN session / VNI (repeatable)");
  c->add_option("-i,--interface", f->iface,
                "sniff mode: AF_PACKET ring on IFACE instead of sockets");
  c->add_option("--rx", f->rx,
                "as destination: auto (rings on the local interfaces when permitted), ring, or "
                "socket (recvmmsg on the sockets only)");
  c->add_option("--ring-size", f->ring_mb,
                "ring size in MB (-i: default 64; --rx ring: per interface, default 64 in all)");
  c->add_flag("-p,--no-promiscuous-mode", f->no_promisc,
              "sniff mode: do not put IFACE in promiscuous mode");
  c->add_flag("--no-ipv6", f->no_ipv6, "do not open IPv6 sockets");
  c->add_option("--rcvbuf", f->rcvbuf_mb, "socket receive buffer in MB (default 64)");
  c->add_option("-w", f->write, "write inner packets to FILE ('-' = standard output)");
  add_sink_options(c, f->sink, capture_default_ports());
  c->add_flag("--print", f->print,
              "with -w FILE, also print one line per packet (tcpdump --print)");
  c->add_flag("-n", f->numeric, "numeric ports (host names are never resolved)");
  c->add_option("-c", f->count, "stop after COUNT inner packets");
  c->add_flag("-q", f->quiet, "quick output");
  c->add_flag("-v", f->verbose, "verbose output (repeatable)");
  c->add_option("-Z", f->user, "drop privileges to USER after opening the sockets");
  c->add_option("--silence-timeout", f->silence_secs,
                "report a session silent after SECS without packets (default 10; 0 = never)");
  c->add_option("expression", f->expression, "tcpdump filter on the inner packets");
  return [f] {
    std::signal(SIGPIPE, SIG_IGN);  // a closed `-w -` reader becomes a write error, not a kill
    return run_capture(*f);
  };
}

}  // namespace portmirror::app

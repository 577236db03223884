// `portmirror decap`: captures of tunnelled (mirrored) traffic in, captures of the inner packets
// out. Thin: flags -> io::CaptureReader / io::Pipeline / io::open_sink -> exit code.
#include <unistd.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "apps/portmirror/commands.h"
#include "portmirror/base/exit_codes.h"
#include "portmirror/io/bpf_filter.h"
#include "portmirror/io/capture_reader.h"
#include "portmirror/io/pipeline.h"
#include "portmirror/io/sink.h"
#include "portmirror/io/stats_report.h"

namespace portmirror::app {
namespace {

struct DecapArgs {
  std::vector<std::string> inputs;
  std::string output;
  std::string format;  // empty = pcapng, or pcap for "-w -"
  std::string linktype = "ethernet";
  std::string stats_json;
  std::vector<std::uint16_t> vxlan_ports, geneve_ports, tzsp_ports;
  std::string depth = "1";
  bool strict = false;
  bool keep_untunnelled = false;
  std::string split_by;
  std::string rotate_size;
  std::uint32_t rotate_seconds = 0;
  std::uint32_t ring_files = 0;
  bool flush_each = false;
  std::string timestamps = "capture";
  bool dedup = false;
  std::uint32_t snaplen = 0;
  std::size_t max_sessions = 4096;
  bool quiet = false;
  std::vector<std::string> expression;
};

int fail(const Error& e) {
  fmt::print(stderr, "portmirror decap: {}\n", e.message);
  return to_int(e.code);
}
int usage(const std::string& msg) {
  return fail(Error{ExitCode::kUsage, msg, std::nullopt});
}

// tcpdump -C: millions of bytes, or k/m/g suffix for KiB/MiB/GiB.
bool parse_size(const std::string& s, std::uint64_t& out) {
  if (s.empty()) return false;
  std::size_t i = 0;
  std::uint64_t v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
    v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (v > (1ull << 40)) return false;
    ++i;
  }
  if (i == 0) return false;
  std::uint64_t unit = 1'000'000;
  if (i < s.size()) {
    if (i + 1 != s.size()) return false;
    switch (std::tolower(static_cast<unsigned char>(s[i]))) {
      case 'k':
        unit = 1024;
        break;
      case 'm':
        unit = 1024 * 1024;
        break;
      case 'g':
        unit = 1024ull * 1024 * 1024;
        break;
      default:
        return false;
    }
  }
  out = v * unit;
  return out != 0;
}

class Progress {
 public:
  explicit Progress(std::uint64_t total) : total_(total) {
    enabled_ = total >= (64u << 20) && ::isatty(STDERR_FILENO) == 1;
  }
  void update(std::uint64_t done_bytes, std::uint64_t frames) {
    if (!enabled_ || (frames & 0xFFFF) != 0) return;
    TimestampNs now = monotonic_ns();
    if (now - last_ < 200'000'000) return;
    last_ = now;
    int pct = static_cast<int>(done_bytes * 100 / total_);
    if (pct > 100) pct = 100;
    int bar = pct * 30 / 100;
    fmt::print(stderr, "\r[{:#<{}}{: <{}}] {:3d}%  {} frames", "", bar, "", 30 - bar, pct, frames);
    shown_ = true;
  }
  void done() {
    if (shown_) fmt::print(stderr, "\r{: <60}\r", "");
  }

 private:
  std::uint64_t total_;
  bool enabled_ = false;
  bool shown_ = false;
  TimestampNs last_ = 0;
};

int run_decap(const DecapArgs& a) {
  // Options.
  io::SinkOptions so;
  so.path = a.output;
  std::string format = a.format.empty() ? (a.output == "-" ? "pcap" : "pcapng") : a.format;
  if (format == "pcap") {
    so.format = io::FileFormat::kPcap;
  } else if (format == "pcap-ns") {
    so.format = io::FileFormat::kPcapNs;
  } else if (format == "pcapng") {
    so.format = io::FileFormat::kPcapng;
  } else {
    return usage(fmt::format("--format must be pcap, pcap-ns or pcapng, not '{}'", format));
  }
  if (a.linktype == "ethernet") {
    so.link_policy = io::LinkTypePolicy::kEthernet;
  } else if (a.linktype == "native") {
    so.link_policy = io::LinkTypePolicy::kNative;
  } else {
    return usage(fmt::format("--linktype must be ethernet or native, not '{}'", a.linktype));
  }
  if (a.split_by.empty()) {
    so.split = io::SplitBy::kNone;
  } else if (a.split_by == "sender") {
    so.split = io::SplitBy::kSender;
  } else if (a.split_by == "session") {
    so.split = io::SplitBy::kSession;
  } else {
    return usage(fmt::format("--split-by must be sender or session, not '{}'", a.split_by));
  }
  if (!a.rotate_size.empty() && !parse_size(a.rotate_size, so.rotate_bytes)) {
    return usage(fmt::format("-C wants a size in millions of bytes (or with k/m/g), not '{}'",
                             a.rotate_size));
  }
  so.rotate_seconds = a.rotate_seconds;
  so.ring_files = a.ring_files;
  so.flush_each_packet = a.flush_each;
  so.snaplen = a.snaplen;

  io::PipelineOptions po;
  for (auto p : a.vxlan_ports) po.decap.vxlan_ports.push_back(p);
  for (auto p : a.geneve_ports) po.decap.geneve_ports.push_back(p);
  for (auto p : a.tzsp_ports) po.decap.tzsp_ports.push_back(p);
  if (a.depth == "all") {
    po.decap.depth = collector::kMaxEncapDepth;
  } else {
    int d = 0;
    try {
      d = std::stoi(a.depth);
    } catch (...) {
      d = 0;
    }
    if (d < 1 || d > collector::kMaxEncapDepth) {
      return usage(fmt::format("--depth must be 1..{} or all, not '{}'", collector::kMaxEncapDepth,
                               a.depth));
    }
    po.decap.depth = d;
  }
  po.decap.strict = a.strict;
  po.keep_untunnelled = a.keep_untunnelled;
  po.dedup = a.dedup;
  po.max_sessions = a.max_sessions;
  if (a.timestamps == "capture") {
    po.timestamps = io::TimestampSource::kCapture;
  } else if (a.timestamps == "erspan") {
    po.timestamps = io::TimestampSource::kErspan;
  } else {
    return usage(fmt::format("--timestamps must be capture or erspan, not '{}'", a.timestamps));
  }

  // Inputs first (nothing is created if one cannot be read), then the filter, then the output.
  std::vector<std::unique_ptr<io::CaptureReader>> readers;
  std::uint64_t total_bytes = 0;
  for (std::size_t i = 0; i < a.inputs.size(); ++i) {
    auto r = io::CaptureReader::open(a.inputs[i], static_cast<std::uint16_t>(i));
    if (!r) return fail(r.error());
    total_bytes += (*r)->size();
    readers.push_back(std::move(*r));
  }
  std::string expr;
  for (const auto& t : a.expression) expr += (expr.empty() ? "" : " ") + t;
  auto filter = io::InnerFilter::compile(expr, a.snaplen);
  if (!filter) return fail(filter.error());
  so.filter_text = (*filter)->expression();
  auto sink = io::open_sink(so);
  if (!sink) return fail(sink.error());

  io::Pipeline pipeline(po, **sink, filter->get());
  io::StatsExtra extra;
  extra.inputs = a.inputs;
  std::uint64_t truncated_inputs = 0;
  Progress progress(total_bytes);
  std::uint64_t done_before = 0;
  bool ok = true;
  Frame frame;
  for (auto& r : readers) {
    while (r->next(frame)) {
      if (!pipeline.process(frame)) {
        ok = false;
        break;
      }
      progress.update(done_before + r->position(),
                      pipeline.count(io::PipelineCounter::kFramesRead));
    }
    if (r->truncated()) {
      ++truncated_inputs;
      extra.warnings.push_back(r->warning());
      fmt::print(stderr, "portmirror decap: warning: {}\n", r->warning());
    }
    done_before += r->size();
    if (!ok) break;
  }
  progress.done();
  readers.clear();
  bool closed = pipeline.finish();
  extra.outputs = (*sink)->files();
  if (truncated_inputs != 0) extra.counters.emplace_back("inputs_truncated", truncated_inputs);
  if (pipeline.count(io::PipelineCounter::kOutputSkipped) != 0) {
    extra.warnings.push_back(
        "a pcap file holds one link type: packets of the other were not written; use --format "
        "pcapng or --linktype ethernet");
  }
  if (const Error* e = (*sink)->error()) {
    fmt::print(stderr, "portmirror decap: {}\n", e->message);
  }
  if (!a.quiet) fmt::print(stderr, "{}", io::stats_text(pipeline, extra));
  if (!a.stats_json.empty()) {
    auto w = io::write_stats_json(a.stats_json, pipeline, extra);
    if (!w) return fail(w.error());
  }
  if (!ok || !closed) return to_int(ExitCode::kOutputUnwritable);
  return to_int(ExitCode::kOk);
}

}  // namespace

Runner add_decap_command(CLI::App& app) {
  auto a = std::make_shared<DecapArgs>();
  CLI::App* c = app.add_subcommand(
      "decap",
      "Strip the mirroring tunnel (GRE, ERSPAN I/II/III, VXLAN, Geneve, TZSP) from captures and "
      "write the inner packets. A trailing tcpdump filter expression selects INNER packets.");
  c->add_option("-r", a->inputs, "input capture (pcap or pcapng; - = stdin); repeatable, in order")
      ->required()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  c->add_option("-w", a->output, "output file (- = stdout)")->required();
  c->add_option("--format", a->format,
                "pcap | pcap-ns | pcapng (default pcapng; pcap when writing to stdout)");
  c->add_option("--linktype", a->linktype,
                "ethernet (default: IP payloads get a synthesized Ethernet header, every reader "
                "copes) | native (keep RAW for IP payloads)");
  c->add_option("--stats-json", a->stats_json, "write final statistics as JSON to FILE");
  c->add_option("--vxlan-port", a->vxlan_ports, "extra VXLAN UDP port (defaults 4789, 8472)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  c->add_option("--geneve-port", a->geneve_ports, "extra Geneve UDP port (default 6081)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  c->add_option("--tzsp-port", a->tzsp_ports, "extra TZSP UDP port (default 37008)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  c->add_option("--depth", a->depth, "tunnels to strip: N or all (default 1: the mirror tunnel)");
  c->add_flag("--strict", a->strict, "reject reserved bits and bad GRE checksums");
  c->add_flag("--keep-untunnelled", a->keep_untunnelled,
              "write frames that carry no tunnel unchanged (default: count and drop)");
  c->add_option("--split-by", a->split_by,
                "sender | session: one output per group; -w may use %s %r %e %k %n");
  c->add_option("-C", a->rotate_size, "rotate when a file exceeds SIZE million bytes (k/m/g ok)");
  c->add_option("-G", a->rotate_seconds, "rotate every SECONDS of packet time (strftime in -w)");
  c->add_option("-W", a->ring_files, "keep at most COUNT files per output (ring)");
  c->add_flag("-U", a->flush_each, "flush after every packet");
  c->add_option("--timestamps", a->timestamps, "capture | erspan (ERSPAN III hardware time)");
  c->add_flag("--dedup", a->dedup, "drop second copies of the same (session, sequence number)");
  c->add_option("--snaplen", a->snaplen, "cut inner packets to N bytes (0 = 262144)");
  c->add_option("--max-sessions", a->max_sessions, "session table size (default 4096)");
  c->add_flag("-q,--quiet", a->quiet, "no statistics on stderr");
  c->add_option("expression", a->expression, "tcpdump filter expression for inner packets");
  return [a] { return run_decap(*a); };
}

}  // namespace portmirror::app

// `portmirror decap`: captures of tunnelled (mirrored) traffic in, captures of the inner packets
// out. Thin: flags -> io::CaptureReader / io::Pipeline / io::open_sink -> exit code.
#include <unistd.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "apps/portmirror/commands.h"
#include "apps/portmirror/sink_options.h"
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
  SinkFlags sink;  // shared with capture (sink_options.h)
  bool keep_untunnelled = false;
  std::uint32_t snaplen = 0;
  std::size_t max_sessions = 4096;
  bool quiet = false;
  std::vector<std::string> expression;
};

int fail(const Error& e) {
  fmt::print(stderr, "portmirror decap: {}\n", e.message);
  return to_int(e.code);
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

// A capture file may hold any of them: decap also decodes 8472, the Linux kernel's VXLAN default.
UdpPorts decap_default_ports() {
  const collector::DecapOptions d;
  return UdpPorts{d.vxlan_ports, d.geneve_ports, d.tzsp_ports};
}

int run_decap(const DecapArgs& a) {
  // Options.
  auto sink_options = to_sink_options(a.sink, a.output);
  if (!sink_options) return fail(sink_options.error());
  io::SinkOptions& so = *sink_options;
  so.snaplen = a.snaplen;

  io::PipelineOptions po;
  const UdpPorts ports = effective_ports(a.sink, decap_default_ports());
  if (auto r = apply_pipeline_options(a.sink, ports, po); !r) return fail(r.error());
  po.keep_untunnelled = a.keep_untunnelled;
  po.max_sessions = a.max_sessions;

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
    // Writers could reference the mmap'ed input instead of copying (Sink::set_stable_input); on
    // tmpfs that measured slower than one memcpy into the output buffer (docs/output.md), so off.
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
  bool closed = pipeline.finish();  // before the readers go: pending writes may point into them
  readers.clear();
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
  if (!a.sink.stats_json.empty()) {
    auto w = io::write_stats_json(a.sink.stats_json, pipeline, extra);
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
  add_sink_options(c, a->sink, decap_default_ports());
  c->add_flag("--keep-untunnelled", a->keep_untunnelled,
              "write frames that carry no tunnel unchanged (default: count and drop)");
  c->add_option("--snaplen", a->snaplen, "cut inner packets to N bytes (0 = 262144)");
  c->add_option("--max-sessions", a->max_sessions, "session table size (default 4096)");
  c->add_flag("-q,--quiet", a->quiet, "no statistics on stderr");
  c->add_option("expression", a->expression, "tcpdump filter expression for inner packets");
  return [a] { return run_decap(*a); };
}

}  // namespace portmirror::app

// The collector's data path, shared by `decap` (files) and `capture` (sockets, rings):
//   Frame | GRE/UDP payload -> Decapsulator -> SessionTable (counters, sequence accounting,
//   optional duplicate suppression, optional ERSPAN III timestamps) -> inner BPF filter -> Sink.
// Single-threaded; no allocation per packet (sessions and reassembly memory are reserved up front).
#pragma once

#include <cstdint>
#include <memory>

#include "portmirror/base/counters.h"
#include "portmirror/collector/decapsulator.h"
#include "portmirror/collector/session.h"
#include "portmirror/io/bpf_filter.h"
#include "portmirror/io/sink.h"
#include "portmirror/packet/frame.h"

namespace portmirror::io {

enum class TimestampSource : std::uint8_t {
  kCapture,  // the capture (or receive) time
  kErspan,   // ERSPAN III hardware timestamps where present and plausible, else capture time
};

struct PipelineOptions {
  collector::DecapOptions decap;
  std::size_t max_sessions = 4096;
  bool keep_untunnelled = false;  // write frames without a tunnel as they are (Ethernet/IP only)
  bool dedup = false;             // drop a second copy of (session, sequence number)
  TimestampSource timestamps = TimestampSource::kCapture;
};

// Counters of the pipeline itself (the decapsulator keeps its own, per drop reason).
#define PM_PIPELINE_COUNTERS(X)                                                                    \
  X(kFramesRead, "frames_read", "frames handed to the pipeline")                                   \
  X(kTunnelled, "tunnelled", "frames that yielded an inner packet")                                \
  X(kInnerWritten, "inner_written", "inner packets written to the output")                         \
  X(kUntunnelled, "untunnelled", "frames that carried no tunnel we strip")                         \
  X(kUntunnelledWritten, "untunnelled_written", "untunnelled frames kept (--keep-untunnelled)")    \
  X(kUntunnelledUnkeepable, "untunnelled_unkeepable",                                              \
    "untunnelled frames whose link type the output cannot hold")                                   \
  X(kDropped, "dropped", "frames with a tunnel that could not be used (see errors)")               \
  X(kFragmentsHeld, "fragments_held", "outer fragments stored for reassembly")                     \
  X(kKeepalives, "keepalives", "GRE keepalives (session liveness, no packet)")                     \
  X(kRejected, "rejected", "packets of senders refused by --allow / --pin (capture)")              \
  X(kFilteredOut, "filtered_out", "inner packets rejected by the filter expression")               \
  X(kDuplicatesSuppressed, "duplicates_suppressed", "second copies dropped by --dedup")            \
  X(kSessionOverflow, "session_overflow", "inner packets dropped: session table full")             \
  X(kErspanTimestamps, "erspan_timestamps", "packets stamped with their ERSPAN III time")          \
  X(kErspanTimestampFallback, "erspan_timestamp_fallback", "ERSPAN III packets kept capture time") \
  X(kOutputSkipped, "output_skipped", "packets the output format could not hold (see warning)")

PM_DECLARE_COUNTERS(PipelineCounter, PM_PIPELINE_COUNTERS)

class Pipeline {
 public:
  // `sink` and `filter` (may be null = match all) must outlive the pipeline.
  Pipeline(PipelineOptions options, Sink& sink, const InnerFilter* filter);
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Each returns false once the sink has failed (sticky; sink().error() says why): stop reading.
  bool process(const Frame& frame) noexcept;
  // Sockets that have consumed the outer headers (see Decapsulator::decapsulate_gre/_udp).
  bool process_gre(ByteSpan gre, const IpAddress& src, const IpAddress& dst, std::uint32_t orig_len,
                   TimestampNs ts) noexcept;
  bool process_udp(ByteSpan payload, const IpAddress& src, const IpAddress& dst,
                   std::uint16_t src_port, std::uint16_t dst_port, std::uint32_t orig_len,
                   TimestampNs ts) noexcept;

  // Optional admission check (capture --allow / --pin), run after decapsulation and before the
  // session table: a rejected packet creates no session, is not written, and is counted in
  // kRejected (the callback keeps its own per-reason counts). Added for `capture`.
  using AdmitFn = bool (*)(void* ctx, const TunnelInfo& tunnel) noexcept;
  void set_admission(AdmitFn fn, void* ctx) noexcept {
    admit_ = fn;
    admit_ctx_ = ctx;
  }

  // Flushes and closes the sink (pcapng ISBs carry the final session counters).
  bool finish() noexcept;
  bool failed() const noexcept { return sink_failed_; }

  const CounterSet<PipelineCounter>& counters() const noexcept { return counters_; }
  std::uint64_t count(PipelineCounter c) const noexcept { return counters_.get(c); }
  const collector::SessionTable& sessions() const noexcept { return sessions_; }
  collector::SessionTable& sessions() noexcept { return sessions_; }
  const collector::Decapsulator& decapsulator() const noexcept { return decap_; }
  const PipelineOptions& options() const noexcept { return options_; }
  Sink& sink() noexcept { return sink_; }

 private:
  bool handle(collector::DecapResult r, TimestampNs ts, const Frame* frame) noexcept;
  bool deliver(TimestampNs ts) noexcept;
  bool keep_untunnelled(const Frame& frame) noexcept;

  PipelineOptions options_;
  Sink& sink_;
  const InnerFilter* filter_;
  collector::Decapsulator decap_;
  collector::SessionTable sessions_;
  collector::Session untunnelled_;  // pseudo-session for --keep-untunnelled
  Decapsulated out_;
  CounterSet<PipelineCounter> counters_;
  AdmitFn admit_ = nullptr;
  void* admit_ctx_ = nullptr;
  bool sink_failed_ = false;
  bool finished_ = false;
};

}  // namespace portmirror::io

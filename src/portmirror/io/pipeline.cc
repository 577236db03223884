#include "portmirror/io/pipeline.h"

namespace portmirror::io {

using collector::DecapStatus;

Pipeline::Pipeline(PipelineOptions options, Sink& sink, const InnerFilter* filter)
    : options_(std::move(options)),
      sink_(sink),
      filter_(filter != nullptr && !filter->empty() ? filter : nullptr),
      decap_(options_.decap),
      sessions_(options_.max_sessions) {
  // The pseudo-session sits just past the table's indices so writers give it its own interface.
  untunnelled_.index = static_cast<std::uint32_t>(options_.max_sessions);
}

bool Pipeline::process(const Frame& frame) noexcept {
  if (sink_failed_) return false;
  counters_.inc(PipelineCounter::kFramesRead);
  collector::DecapResult r = decap_.decapsulate(frame, out_);
  return handle(r, frame.ts, &frame);
}

bool Pipeline::process_gre(ByteSpan gre, const IpAddress& src, const IpAddress& dst,
                           std::uint32_t orig_len, TimestampNs ts) noexcept {
  if (sink_failed_) return false;
  counters_.inc(PipelineCounter::kFramesRead);
  return handle(decap_.decapsulate_gre(gre, src, dst, orig_len, out_), ts, nullptr);
}

bool Pipeline::process_udp(ByteSpan payload, const IpAddress& src, const IpAddress& dst,
                           std::uint16_t src_port, std::uint16_t dst_port, std::uint32_t orig_len,
                           TimestampNs ts) noexcept {
  if (sink_failed_) return false;
  counters_.inc(PipelineCounter::kFramesRead);
  return handle(decap_.decapsulate_udp(payload, src, dst, src_port, dst_port, orig_len, out_), ts,
                nullptr);
}

bool Pipeline::handle(collector::DecapResult r, TimestampNs ts, const Frame* frame) noexcept {
  switch (r.status) {
    case DecapStatus::kInner:
      counters_.inc(PipelineCounter::kTunnelled);
      return deliver(ts);
    case DecapStatus::kUntunnelled:
      counters_.inc(PipelineCounter::kUntunnelled);
      if (options_.keep_untunnelled && frame != nullptr) return keep_untunnelled(*frame);
      return true;
    case DecapStatus::kDropped:
      counters_.inc(PipelineCounter::kDropped);
      return true;
    case DecapStatus::kHeld:
      counters_.inc(PipelineCounter::kFragmentsHeld);
      return true;
    case DecapStatus::kKeepalive: {
      if (admit_ != nullptr && !admit_(admit_ctx_, out_.tunnel)) {
        counters_.inc(PipelineCounter::kRejected);
        return true;
      }
      counters_.inc(PipelineCounter::kKeepalives);
      if (collector::Session* s = sessions_.find_or_insert(out_.tunnel, ts)) {
        ++s->keepalives;  // find_or_insert() refreshed last_seen: liveness
      }
      return true;
    }
  }
  return true;
}

bool Pipeline::deliver(TimestampNs ts) noexcept {
  if (admit_ != nullptr && !admit_(admit_ctx_, out_.tunnel)) {
    counters_.inc(PipelineCounter::kRejected);
    return true;
  }
  collector::Session* s = sessions_.find_or_insert(out_.tunnel, ts);
  if (s == nullptr) {
    counters_.inc(PipelineCounter::kSessionOverflow);
    return true;
  }
  // Every received packet counts (duplicates included: pcapng isb_ifrecv), then sequence.
  collector::SeqVerdict v = s->account(out_.tunnel, out_.inner_orig_len, options_.dedup);
  if (options_.dedup && v == collector::SeqVerdict::kDuplicate) {
    counters_.inc(PipelineCounter::kDuplicatesSuppressed);
    return true;
  }
  if (filter_ != nullptr && !filter_->matches(out_.inner_link, out_.inner, out_.inner_orig_len)) {
    counters_.inc(PipelineCounter::kFilteredOut);
    return true;
  }
  TimestampNs when = ts;
  if (options_.timestamps == TimestampSource::kErspan && out_.tunnel.encap == Encap::kErspan3) {
    bool reliable = false;
    TimestampNs hw = collector::erspan_timestamp_ns(out_.tunnel.erspan, ts, reliable);
    if (reliable) {
      when = hw;
      counters_.inc(PipelineCounter::kErspanTimestamps);
    } else {
      ++s->erspan_ts_unreliable;
      counters_.inc(PipelineCounter::kErspanTimestampFallback);
    }
  }
  if (!sink_.write(*s, out_, when)) {
    sink_failed_ = true;
    return false;
  }
  counters_.inc(PipelineCounter::kInnerWritten);
  return true;
}

bool Pipeline::keep_untunnelled(const Frame& frame) noexcept {
  LinkType link;
  switch (frame.link) {
    case LinkType::kEthernet:
      link = LinkType::kEthernet;
      break;
    case LinkType::kRaw:
    case LinkType::kIpv4:
    case LinkType::kIpv6:
      link = LinkType::kRaw;
      break;
    default:
      counters_.inc(PipelineCounter::kUntunnelledUnkeepable);
      return true;
  }
  if (untunnelled_.first_seen == 0) untunnelled_.first_seen = frame.ts;
  untunnelled_.last_seen = frame.ts;
  ++untunnelled_.packets;
  untunnelled_.bytes += frame.orig_len;
  if (filter_ != nullptr && !filter_->matches(link, frame.data, frame.orig_len)) {
    counters_.inc(PipelineCounter::kFilteredOut);
    return true;
  }
  Decapsulated d;
  d.inner = frame.data;
  d.inner_link = link;
  d.inner_orig_len = frame.orig_len;
  d.layers_removed = 0;
  if (!sink_.write(untunnelled_, d, frame.ts)) {
    sink_failed_ = true;
    return false;
  }
  counters_.inc(PipelineCounter::kUntunnelledWritten);
  return true;
}

bool Pipeline::finish() noexcept {
  if (finished_) return !sink_failed_;
  finished_ = true;
  bool ok = sink_.close(sessions_);
  counters_.inc(PipelineCounter::kOutputSkipped, sink_.skipped());
  if (!ok) sink_failed_ = true;
  return ok;
}

}  // namespace portmirror::io

#include "portmirror/collector/decapsulator.h"

#include "portmirror/collector/reassembler.h"
#include "portmirror/packet/layer_walk.h"

namespace portmirror::collector {

using C = DecapCounter;

struct Decapsulator::Impl {
  explicit Impl(const DecapOptions& o)
      : walker(packet::WalkConfig{o.vxlan_ports, o.geneve_ports, o.tzsp_ports, o.depth, o.strict,
                                  o.max_vlan_tags}),
        reassembler(o.reassembly_max_bytes, o.reassembly_max_datagrams, o.reassembly_timeout) {}
  packet::LayerWalker walker;
  Reassembler reassembler;
};

Decapsulator::Decapsulator(DecapOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(options_)) {}

Decapsulator::~Decapsulator() = default;

namespace {

void count_info(CounterSet<C>& counters, std::uint8_t info) noexcept {
  if (info == packet::kInfoNone) return;
  if (info & packet::kInfoBadChecksum) counters.inc(C::kGreBadChecksum);
  if (info & packet::kInfoLengthFromFrame) counters.inc(C::kIpLengthFromFrame);
  if (info & packet::kInfoVersionMismatch) counters.inc(C::kErspanVersionMismatch);
  if (info & packet::kInfoCriticalSkipped) counters.inc(C::kGeneveCritical);
}

// Maps a walk outcome to the public result, bumping exactly one counter for every non-inner
// outcome except kUntunnelled (which the caller counts).
DecapResult conclude(const packet::WalkResult& r, CounterSet<C>& counters) noexcept {
  switch (r.status) {
    case packet::WalkStatus::kInner:
      count_info(counters, r.info);
      return {DecapStatus::kInner, C::kCount};
    case packet::WalkStatus::kUntunnelled:
      return {DecapStatus::kUntunnelled, r.reason};
    case packet::WalkStatus::kKeepalive:
      counters.inc(C::kGreKeepalive);
      return {DecapStatus::kKeepalive, C::kGreKeepalive};
    case packet::WalkStatus::kDropped:
    case packet::WalkStatus::kFragment:  // not reachable: fragments are handled by the caller
      break;
  }
  counters.inc(r.reason);
  return {DecapStatus::kDropped, r.reason};
}

}  // namespace

DecapResult Decapsulator::decapsulate(const Frame& frame, Decapsulated& out) noexcept {
  const packet::WalkResult r =
      impl_->walker.walk_frame(frame.data, frame.orig_len, frame.link, out);
  if (r.status != packet::WalkStatus::kFragment) return conclude(r, counters_);
  const Reassembler::Result rr = impl_->reassembler.add(r.fragment, frame.ts, counters_);
  switch (rr.outcome) {
    case Reassembler::Outcome::kHeld:
      counters_.inc(C::kFragHeld);
      return {DecapStatus::kHeld, C::kFragHeld};
    case Reassembler::Outcome::kDropped:
      counters_.inc(rr.reason);
      return {DecapStatus::kDropped, rr.reason};
    case Reassembler::Outcome::kComplete:
      break;
  }
  counters_.inc(C::kFragReassembled);
  const packet::WalkResult r2 =
      impl_->walker.walk_ip(rr.datagram, static_cast<std::uint32_t>(rr.datagram.size()), out);
  out.tunnel.outer_reassembled = true;
  return conclude(r2, counters_);
}

DecapResult Decapsulator::decapsulate_gre(ByteSpan gre, const IpAddress& src, const IpAddress& dst,
                                          std::uint32_t orig_len, Decapsulated& out) noexcept {
  return conclude(impl_->walker.walk_gre(gre, orig_len, src, dst, out), counters_);
}

DecapResult Decapsulator::decapsulate_udp(ByteSpan payload, const IpAddress& src,
                                          const IpAddress& dst, std::uint16_t src_port,
                                          std::uint16_t dst_port, std::uint32_t orig_len,
                                          Decapsulated& out) noexcept {
  return conclude(
      impl_->walker.walk_udp_payload(payload, orig_len, src, dst, src_port, dst_port, out),
      counters_);
}

}  // namespace portmirror::collector

// The mirror source's data path, without any I/O (design.md "mirror source"):
//
//   frame -> PacketInfo -> loop prevention -> TermMatcher (per interface binding) -> mirror-once
//         -> per instance: Sampler -> Policer -> per output: truncate (maximum-packet-length) ->
//            MTU clip -> EncapTemplate::write -> TxSlot appended to the output's batch
//
// The caller (apps/portmirror/cmd_mirror.cc) feeds frames from the capture rings, checks room()
// before each frame, and hands every output's batch to its io::Sender before returning the ring
// block (the slots borrow the payload from the ring). Counters are plain integers owned by the
// engine. No allocation, exception or logging per packet.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "portmirror/base/counters.h"
#include "portmirror/base/error.h"
#include "portmirror/config/mirror_config.h"
#include "portmirror/packet/frame.h"
#include "portmirror/source/encap_template.h"
#include "portmirror/source/mirror_once.h"
#include "portmirror/source/policer.h"
#include "portmirror/source/sampler.h"
#include "portmirror/source/term_matcher.h"
#include "portmirror/source/tx_slot.h"

namespace portmirror::source {

#define PM_MIRROR_IFACE_COUNTERS(X)                                                             \
  X(kSeen, "seen", "frames captured on this interface")                                         \
  X(kLoopExcluded, "loop_excluded", "our own tunnel traffic, never mirrored (loop prevention)") \
  X(kMatched, "matched", "frames a term selected for mirroring")                                \
  X(kDuplicate, "duplicate", "already mirrored from another interface (mirror-once)")           \
  X(kRingPackets, "ring_packets", "packets the kernel saw for this ring, incl. drops")          \
  X(kRingDrops, "ring_drops", "kernel ring drops (ring full)")
PM_DECLARE_COUNTERS(IfaceCounter, PM_MIRROR_IFACE_COUNTERS)

#define PM_MIRROR_INSTANCE_COUNTERS(X)                                          \
  X(kMatched, "matched", "packets a term sent to this instance")                \
  X(kSampled, "sampled", "packets chosen by rate / run-length")                 \
  X(kPoliced, "policed", "sampled packets dropped by the policer")              \
  X(kTruncated, "truncated", "copies cut to maximum-packet-length")             \
  X(kMtuClipped, "mtu_clipped", "copies cut to fit the path MTU (policy clip)") \
  X(kMtuFragmented, "mtu_fragmented",                                           \
    "copies larger than the path MTU sent for the kernel to fragment")          \
  X(kNotIp, "not_ip", "non-IP frames an IP-only (gr-) output cannot carry")     \
  X(kSent, "sent", "copies handed to the network (all outputs)")                \
  X(kSendErrors, "send_errors", "copies the kernel refused (all outputs)")      \
  X(kBytes, "bytes", "outer bytes sent (all outputs)")                          \
  X(kKeepalives, "keepalives", "GRE keepalives sent")
PM_DECLARE_COUNTERS(InstanceCounter, PM_MIRROR_INSTANCE_COUNTERS)

// Resolved facts about an output that only the I/O layer knows.
struct OutputRoute {
  IpAddress source;
  std::uint32_t path_mtu = 1500;
};

struct EngineInterface {
  std::string ifname;
  config::Direction direction = config::Direction::kBoth;
  std::string filter;  // config::Filter name, "" = mirror all to instance 0
};

class MirrorEngine {
 public:
  static constexpr std::size_t kBatch = 64;  // slots per output between flushes

  // `routes[i][j]` is the route of instances[i].outputs[j]. `now` is the monotonic clock.
  static Result<std::unique_ptr<MirrorEngine>> create(
      const config::MirrorConfig& config, const std::vector<std::vector<OutputRoute>>& routes,
      TimestampNs now);

  // True when every output batch has room for one more frame's copies.
  bool room() const noexcept { return max_fill_ + 1 <= kBatch; }

  // Processes one captured frame from interface binding `iface`. `now` is monotonic (policer).
  void process(const Frame& frame, std::size_t iface, bool outgoing, TimestampNs now) noexcept;

  // Emits GRE keepalives on outputs idle for keepalive_seconds (call about once a second).
  void tick(TimestampNs now) noexcept;

  // Output batches: the caller sends slots(o) and then reports the result.
  std::size_t output_count() const noexcept { return outputs_.size(); }
  const TxSlot* slots(std::size_t o) const noexcept { return outputs_[o].slots.data(); }
  std::size_t slot_count(std::size_t o) const noexcept { return outputs_[o].count; }
  void sent(std::size_t o, std::uint32_t ok, std::uint32_t errors) noexcept;
  const config::TunnelConfig& output_config(std::size_t o) const noexcept {
    return outputs_[o].tunnel;
  }
  std::size_t output_instance(std::size_t o) const noexcept { return outputs_[o].instance; }
  std::uint64_t output_sent(std::size_t o) const noexcept { return outputs_[o].sent; }
  std::uint64_t output_errors(std::size_t o) const noexcept { return outputs_[o].errors; }
  const EncapTemplate& output_template(std::size_t o) const noexcept { return outputs_[o].tpl; }

  std::size_t interface_count() const noexcept { return ifaces_.size(); }
  std::size_t instance_count() const noexcept { return instances_.size(); }
  const std::string& instance_name(std::size_t i) const noexcept { return instances_[i].name; }
  CounterSet<IfaceCounter>& iface_counters(std::size_t i) noexcept { return ifaces_[i].counters; }
  const CounterSet<IfaceCounter>& iface_counters(std::size_t i) const noexcept {
    return ifaces_[i].counters;
  }
  const CounterSet<InstanceCounter>& instance_counters(std::size_t i) const noexcept {
    return instances_[i].counters;
  }
  const Policer& instance_policer(std::size_t i) const noexcept { return instances_[i].policer; }
  const std::string& iface_name(std::size_t i) const noexcept { return ifaces_[i].name; }

 private:
  struct Iface {
    std::string name;
    std::size_t matcher = 0;
    CounterSet<IfaceCounter> counters;
  };
  struct Instance {
    std::string name;
    Sampler sampler;
    Policer policer;
    std::uint32_t max_length = 0;
    config::MtuPolicy mtu_policy = config::MtuPolicy::kClip;
    std::vector<std::size_t> outputs;
    CounterSet<InstanceCounter> counters;
  };
  struct Output {
    config::TunnelConfig tunnel;
    EncapTemplate tpl;
    std::size_t instance = 0;
    std::uint32_t path_mtu = 1500;
    std::vector<std::array<std::uint8_t, kMaxEncapHeader>> headers;
    std::vector<TxSlot> slots;
    std::size_t count = 0;
    TimestampNs last_send = 0;
    std::uint64_t sent = 0;
    std::uint64_t errors = 0;
  };
  struct LoopKey {
    IpAddress destination;
    std::uint8_t protocol;
    std::uint16_t port;  // UDP destination port, 0 for GRE
  };

  MirrorEngine() = default;
  bool is_our_tunnel(const PacketInfo& p) const noexcept;
  void emit(Instance& inst, const Frame& frame, const PacketInfo& info, bool outgoing) noexcept;

  std::vector<Iface> ifaces_;
  std::vector<TermMatcher> matchers_;
  std::vector<Instance> instances_;
  std::vector<Output> outputs_;
  std::vector<LoopKey> loop_keys_;
  std::unique_ptr<MirrorOnce> once_;
  bool loop_prevention_ = true;
  std::size_t max_fill_ = 0;
  TimestampNs now_ = 0;
  TimestampNs keepalive_ns_ = 0;
};

// Counters of the whole engine as name -> value lines; used by the CLI for SIGUSR1 and the end.
std::string format_engine_stats(const MirrorEngine& e);

}  // namespace portmirror::source

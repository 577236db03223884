// The live collector's event loop: polls every source (the raw GRE and UDP sockets, or an AF_PACKET
// ring in sniff mode), hands each batch to the shared Pipeline (decap -> sessions -> filter ->
// sink), enforces --allow / --pin, reports session liveness, and handles SIGINT/SIGTERM (stop) and
// SIGUSR1 (statistics so far). Single-threaded (design.md "Threads").
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "portmirror/base/error.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/io/packet_ring.h"
#include "portmirror/io/pipeline.h"
#include "portmirror/io/socket_source.h"

namespace portmirror::io {

// --pin SENDER=ID: packets from SENDER must carry this GRE key / ERSPAN session / VNI.
struct Pin {
  IpPrefix sender;
  std::uint32_t id = 0;
  static std::optional<Pin> parse(std::string_view text);  // "198.18.1.1=0x1234", "10.0.0.0/8=101"
};

// Who may send (--allow, --pin). Checked after decapsulation and before the session table: a
// rejected packet creates no session, is never written, and is counted here (total and per sender).
class Admission {
 public:
  Admission(std::vector<IpPrefix> allow, std::vector<Pin> pins)
      : allow_(std::move(allow)), pins_(std::move(pins)) {}
  bool open() const noexcept { return allow_.empty() && pins_.empty(); }
  // True if the packet of tunnel `t` is accepted; otherwise counts why.
  bool admit(const TunnelInfo& t) noexcept;
  std::uint64_t rejected_not_allowed() const noexcept { return not_allowed_; }
  std::uint64_t rejected_pin() const noexcept { return pin_mismatch_; }
  // Rejected packets per sender (the first kMaxSenders senders; later ones only in the totals).
  static constexpr std::size_t kMaxSenders = 64;
  struct SenderCount {
    IpAddress sender;
    std::uint64_t packets = 0;
  };
  std::span<const SenderCount> rejected_senders() const noexcept {
    return {senders_.data(), senders_used_};
  }
  const std::vector<IpPrefix>& allow() const noexcept { return allow_; }
  const std::vector<Pin>& pins() const noexcept { return pins_; }

 private:
  std::vector<IpPrefix> allow_;
  std::vector<Pin> pins_;
  void count_sender(const IpAddress& a) noexcept;
  std::uint64_t not_allowed_ = 0;
  std::uint64_t pin_mismatch_ = 0;
  std::array<SenderCount, kMaxSenders> senders_{};
  std::size_t senders_used_ = 0;
};

// How a collector that is the tunnels' destination receives (not sniff mode):
//  - kSocket: the raw GRE and UDP sockets deliver every datagram (recvmmsg; the kernel copies each
//    one on the collector's CPU).
//  - kRing: an AF_PACKET TPACKET_V3 ring per local interface (local_links.h) takes the tunnel
//    traffic addressed to this host, filled by the kernel on the receiving CPU as tcpdump's is;
//    the sockets stay open (no ICMP unreachable, same errors) and deliver only what no ring
//    takes (loopback, other link types, later addresses, multicast): a socket filter hands the
//    rest off (socket_source.h), so each packet is read once.
//  - kAuto (default): kRing when the rings can be opened (CAP_NET_RAW), else kSocket.
enum class RxMode : std::uint8_t { kAuto, kSocket, kRing };

struct CaptureOptions {
  SocketSourceOptions sockets;
  std::optional<RingOptions> ring;               // -i IFACE: sniff mode instead of sockets
  RxMode rx = RxMode::kAuto;                     // --rx (ignored in sniff mode)
  std::uint32_t local_ring_mb = 0;               // --ring-size per ring in mode ring (0 = auto)
  std::uint64_t count = 0;                       // -c: stop after this many inner packets written
  TimestampNs silence_timeout = 10 * kNsPerSec;  // --silence-timeout (0 = never report silence)
  bool liveness_lines = true;      // session start / silent / resumed lines on the log stream
  bool flush_after_batch = false;  // text output: make lines visible after each batch
  // Sockets: after the queues were drained, wait this long before polling again, so that the
  // kernel queues a batch instead of waking us per datagram (what TPACKET_V3's block timeout does
  // for tcpdump). 0 = wake per datagram.
  std::uint32_t coalesce_us = 500;
};

// Kernel-side counters in tcpdump's terms (§6.4 for rings; SO_RXQ_OVFL for sockets).
struct KernelStats {
  std::uint64_t captured = 0;  // frames/datagrams this process read
  std::uint64_t received = 0;  // "received by filter": ring tp_packets, sockets captured + dropped
  std::uint64_t dropped = 0;   // "dropped by kernel"
  std::uint64_t ring_frames = 0;       // of `captured`: read from rings
  std::uint64_t socket_datagrams = 0;  // of `captured`: read from sockets
};

class CaptureLoop {
 public:
  // Opens every source. Errors carry the exit code (permission, port in use, unknown interface).
  static Result<std::unique_ptr<CaptureLoop>> open(const CaptureOptions& options);
  ~CaptureLoop();

  // One line for the user: what we listen on.
  std::string describe() const;
  // -Z USER: setgroups/setgid/setuid to USER after the sockets are open (tcpdump's -Z).
  static Result<void> drop_privileges(const std::string& user);

  // Runs until SIGINT/SIGTERM, -c reached or the sink fails. Blocks those signals (and SIGUSR1) for
  // the thread and takes them through a signalfd. `on_usr1` prints statistics so far.
  // Returns false if the sink failed (pipeline.sink().error()).
  bool run(Pipeline& pipeline, Admission& admission, std::FILE* log,
           const std::function<void()>& on_usr1);
  // Stops run() from another thread or a test (async-signal-safe: a write to an eventfd).
  void request_stop() noexcept;

  KernelStats kernel_stats() noexcept;
  const SocketSource* sockets() const noexcept { return sockets_ ? &*sockets_ : nullptr; }
  std::span<const PacketRing> rings() const noexcept { return rings_; }
  // Mode ring fell back to sockets (kAuto only): why, for the startup line.
  const std::string& ring_fallback() const noexcept { return ring_fallback_; }
  std::uint64_t frames_read() const noexcept { return frames_; }
  // Sniff mode: frames whose outer IPv4 length claims more than was captured (Open vSwitch's
  // mirror snaplen bug, peers/README.md §1 bug 2); they are still handed to the decapsulator.
  std::uint64_t outer_length_mismatch() const noexcept { return outer_len_mismatch_; }
  // Sniff mode: why run() stopped on its own because the interface disappeared ("" otherwise).
  const std::string& source_lost() const noexcept { return source_lost_; }

 private:
  CaptureLoop() = default;
  // Returns the datagrams read; `more` is set when a socket still had a full batch waiting.
  std::size_t drain_sockets(Pipeline& p, bool& stop, bool& more) noexcept;
  void drain_ring(PacketRing& ring, Pipeline& p, bool& stop) noexcept;
  Result<void> open_local_rings(const CaptureOptions& o);
  void check_liveness(const Pipeline& p, std::FILE* log, TimestampNs now) noexcept;
  // A ring's poll reported POLLERR: clears the error, says what happened; returns false when the
  // ring is gone for good (its interface was deleted) and must no longer be polled.
  bool ring_error(PacketRing& ring, std::FILE* log) noexcept;

  CaptureOptions options_;
  std::optional<SocketSource> sockets_;
  std::optional<SocketSource> guards_;  // sniff mode: reject-all sockets that keep ICMP quiet
  std::vector<PacketRing> rings_;  // sniff mode: one, promiscuous; mode ring: one per local link
  bool local_rings_ = false;       // rings_ are mode ring's (destination traffic only)
  std::string ring_fallback_;
  std::vector<std::uint8_t> ring_down_;  // per ring: the interface is down or gone (reported once)
  std::string source_lost_;
  std::vector<Datagram> batch_;
  int stop_fd_ = -1;
  std::uint64_t frames_ = 0;
  std::uint64_t ring_frames_ = 0;
  std::uint64_t outer_len_mismatch_ = 0;
  std::uint64_t count_limit_ = 0;
  // Liveness: sessions announced so far, and which are currently reported silent.
  std::size_t announced_ = 0;
  std::vector<std::uint8_t> silent_;
};

}  // namespace portmirror::io

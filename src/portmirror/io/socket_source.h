// The collector's default receive path: a raw IPPROTO_GRE socket per address family (GRE and
// ERSPAN) and UDP sockets for VXLAN, Geneve and TZSP, read in recvmmsg batches with kernel
// timestamps. protocols.md §6.1 (raw GRE sockets, ICMP side effects), §6.5 (buffers, batching,
// timestamps), §6.7.
//
// Holding the raw GRE socket open is also what stops the kernel from answering every mirrored
// packet with ICMP protocol-unreachable (§6.1); a bound UDP socket does the same for
// port-unreachable. No tunnel device, no route, no firewall rule is created: packets never reach
// the host's stack.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "portmirror/base/bytes.h"
#include "portmirror/base/error.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/base/time.h"
#include "portmirror/io/packet_ring.h"

namespace portmirror::io {

// What a socket delivers, and therefore which decapsulator entry point the datagram needs.
enum class SocketKind : std::uint8_t {
  kGreV4,  // raw AF_INET: the outer IPv4 header, then GRE (raw(7): header always included)
  kGreV6,  // raw AF_INET6: GRE without the IPv6 header (RFC 3542 §3); addresses from ancillary data
  kVxlan,  // UDP payload, one socket per port and family
  kGeneve,
  kTzsp,
};

std::string_view socket_kind_name(SocketKind k) noexcept;

// One interface whose IPv4 traffic to `addresses` a ring reads (receive mode ring).
struct HandoffLink {
  int ifindex = 0;
  std::vector<IpAddress> addresses;  // IPv4 (others are ignored)
};

struct SocketSourceOptions {
  std::optional<IpAddress> listen;  // --listen: only this local address (and its family)
  bool gre = true;                  // open raw GRE sockets (v4 and v6 unless --listen picks one)
  std::vector<std::uint16_t> vxlan_ports{4789};
  std::vector<std::uint16_t> geneve_ports{6081};
  std::vector<std::uint16_t> tzsp_ports{37008};
  bool ipv6 = true;                  // also open AF_INET6 sockets when --listen is not given
  int rcvbuf_bytes = 64 << 20;       // SO_RCVBUFFORCE, else SO_RCVBUF (capped by rmem_max)
  std::uint32_t batch = 64;          // datagrams per recvmmsg (<= UIO_MAXIOV)
  std::uint32_t slot_bytes = 65536;  // per-datagram buffer; larger datagrams are cut and counted
  // Attach a reject-all socket filter: the socket only keeps the kernel quiet (no ICMP
  // unreachable), it delivers nothing (sniff mode's guard sockets, §6.1 caveats).
  bool guard_only = false;
  // Receive mode "ring" (capture_loop.h): IPv4 datagrams that arrived on one of these interfaces
  // for one of its addresses are taken from the interface's AF_PACKET ring instead and are
  // handed off here (raw: a socket filter drops them; UDP: a SO_REUSEPORT sink socket takes
  // them), so that each packet is read once. Everything else (IPv6, loopback, other interfaces,
  // addresses added later, multicast) still arrives through the sockets.
  std::vector<HandoffLink> handoff;
};

// The classic-BPF program for the hand-off above: "drop" a datagram when the interface it arrived
// on is one of `links` and its IPv4 destination (read at the network header, so the same program
// serves raw and UDP sockets) is one of that link's addresses; "keep" everything else. The
// values are the program's return: for a socket filter the bytes to keep (all) and 0; for a
// SO_REUSEPORT group the member index (0 = this socket, 1 = the sink). Errors (kUsage) when a list
// is too long for 8-bit BPF jumps (more than 64 links, or 64 addresses on one link).
Result<BpfProgram> handoff_filter(const std::vector<HandoffLink>& links,
                                  std::uint32_t keep = 0xffffffffu, std::uint32_t drop = 0);

// One received datagram. `data` borrows from the source's batch buffers and is valid until the
// next receive() on any socket of the same source.
struct Datagram {
  ByteSpan data;               // see SocketKind for where it starts
  std::uint32_t orig_len = 0;  // length the kernel had (> data.size() if cut)
  TimestampNs ts = 0;          // SO_TIMESTAMPNS, or the wall clock when the kernel gave none
  IpAddress src;               // outer sender (from the socket address)
  IpAddress dst;               // outer receiver (IP_PKTINFO / IPV6_PKTINFO, else the bound address)
  std::uint16_t src_port = 0;  // UDP only
  std::uint16_t dst_port = 0;  // UDP only: the local port (selects VXLAN/Geneve/TZSP)
  SocketKind kind = SocketKind::kGreV4;
  std::uint16_t socket_index = 0;
};

struct SocketStats {
  std::uint64_t datagrams = 0;
  std::uint64_t bytes = 0;
  std::uint64_t truncated = 0;     // larger than slot_bytes (MSG_TRUNC)
  std::uint64_t kernel_drops = 0;  // SO_RXQ_OVFL: dropped because the receive buffer was full
  std::uint64_t recv_errors = 0;   // recvmmsg failures other than EAGAIN/EINTR
};

struct SocketInfo {
  SocketKind kind = SocketKind::kGreV4;
  bool v6 = false;
  std::uint16_t port = 0;  // UDP port, 0 for raw
  int fd = -1;
  int sink_fd = -1;         // ring hand-off: the SO_REUSEPORT member that takes what the rings read
  int rcvbuf = 0;           // what the kernel granted (getsockopt, already doubled)
  std::string description;  // "raw gre 0.0.0.0", "udp vxlan [::]:4789"
};

class SocketSource {
 public:
  // Opens and binds every socket. Errors name the cause and carry the exit code:
  // kPermission (CAP_NET_RAW missing), kAddressInUse (a UDP port is taken), kConfig (--listen is
  // not a local address), kFailure otherwise.
  static Result<SocketSource> open(const SocketSourceOptions& options);

  SocketSource(SocketSource&&) noexcept;
  SocketSource& operator=(SocketSource&&) noexcept;
  SocketSource(const SocketSource&) = delete;
  SocketSource& operator=(const SocketSource&) = delete;
  ~SocketSource();

  std::span<const SocketInfo> sockets() const noexcept { return infos_; }
  // Reads up to `batch` datagrams from socket `index` without blocking; returns how many were
  // placed in `out` (0 if none were waiting). Never allocates.
  std::size_t receive(std::size_t index, std::span<Datagram> out) noexcept;
  // Per-socket statistics; kernel_drops is the latest SO_RXQ_OVFL value seen.
  const SocketStats& stats(std::size_t index) const noexcept { return stats_[index]; }
  SocketStats total() const noexcept;
  std::uint32_t batch() const noexcept { return options_.batch; }

 private:
  SocketSource() = default;
  Result<void> add(SocketKind kind, bool v6, std::uint16_t port);
  void close_all() noexcept;

  SocketSourceOptions options_;
  std::vector<SocketInfo> infos_;
  std::vector<SocketStats> stats_;
  // Batch buffers shared by every socket (one batch is processed before the next is read).
  std::vector<std::uint8_t> slots_;
  std::vector<std::uint8_t> control_;
  struct Msgs;
  std::unique_ptr<Msgs> msgs_;
};

// Maps errno from socket()/bind()/setsockopt() to an Error with a user-actionable message.
Error socket_error(int err, std::string_view what);

}  // namespace portmirror::io

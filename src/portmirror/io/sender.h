// Batched sender of encapsulated mirror copies (protocols.md §6.6): one raw IP socket per output,
// connected to the collector, `sendmmsg` of up to kMaxBatch messages with two iovecs each (the
// tunnel header from the EncapTemplate, the mirrored bytes straight from the capture ring), so
// nothing is copied or allocated per packet.
//
// The kernel builds the outer IP header (IPv4: protocol 47 for GRE/ERSPAN, 17 for VXLAN whose UDP
// header we write ourselves; IPv6 likewise, with IPV6_CHECKSUM asking the kernel for the UDP
// checksum); TTL and DSCP are socket options. MTU policy: kClip sets IP_PMTUDISC_DO (the engine
// clips copies to path_mtu() first, so nothing is fragmented); kFragment sets IP_PMTUDISC_DONT and
// the kernel fragments oversize copies. A reject-all BPF filter keeps the raw socket's receive
// queue empty (raw sockets get a clone of every matching inbound datagram). Sends are MSG_DONTWAIT:
// a full socket buffer drops copies (counted) instead of stalling capture.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "portmirror/base/error.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/io/unique_fd.h"
#include "portmirror/source/tx_slot.h"

struct mmsghdr;
struct iovec;

namespace portmirror::io {

using SendSlot = source::TxSlot;  // header from the GRE / UDP header on, payload from the ring

struct SendResult {
  std::uint32_t sent = 0;
  std::uint32_t errors = 0;
  int last_errno = 0;
};

// sendmmsg() of all `n` messages, MSG_DONTWAIT: a message the kernel refuses is counted in
// `r.errors` (last errno kept) and skipped, so one bad copy never stalls the batch. Shared by the
// socket and AF_PACKET send paths.
void send_batch(int fd, mmsghdr* msgs, std::size_t n, SendResult& r) noexcept;

struct SenderOptions {
  IpAddress destination;
  std::optional<IpAddress> source;  // default: the kernel's choice for the route
  std::uint8_t protocol = 47;       // 47 GRE, 17 UDP
  std::uint8_t ttl = 64;
  std::uint8_t dscp = 0;
  bool allow_fragmentation = false;  // MtuPolicy::kFragment
  int sndbuf = 4 << 20;
};

class Sender {
 public:
  static constexpr std::size_t kMaxBatch = 64;

  static Result<Sender> open(const SenderOptions& options);
  // Defaulted in the .cc, where the socket structures are complete.
  Sender(Sender&&) noexcept;
  Sender& operator=(Sender&&) noexcept;
  ~Sender();

  // Sends every slot (in chunks of kMaxBatch). Per-message failures are counted and skipped.
  SendResult send(std::span<const SendSlot> slots) noexcept;

  const IpAddress& source() const noexcept { return source_; }
  const IpAddress& destination() const noexcept { return destination_; }
  // Path MTU toward the destination as the kernel knows it (interface MTU for a direct route).
  std::uint32_t path_mtu() const noexcept { return path_mtu_; }
  int fd() const noexcept { return fd_.get(); }

 private:
  Sender();

  UniqueFd fd_;
  IpAddress source_;
  IpAddress destination_;
  std::uint32_t path_mtu_ = 1500;
  // Preallocated message vectors (no allocation per send).
  std::unique_ptr<mmsghdr[]> msgs_;
  std::unique_ptr<iovec[]> iov_;
};

// Finds the local address and path MTU the kernel would use toward `destination`
// (a connected UDP socket; nothing is sent).
Result<std::pair<IpAddress, std::uint32_t>> route_lookup(const IpAddress& destination);

}  // namespace portmirror::io

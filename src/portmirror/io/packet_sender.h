// AF_PACKET sender of mirror copies: whole Ethernet frames written by us, so the kernel does no
// route lookup, no IP output and no neighbour lookup per copy (optionally no qdisc either) — the
// cost that dominates the raw-socket Sender (raw_sendmsg, __ip_append_data, fib lookups,
// csum_partial_copy_generic). Each copy is `sendmmsg`ed as three iovecs: our Ethernet header, the
// outer IP + tunnel header the EncapTemplate wrote (IPv4 identification and header checksum,
// IPv6 VXLAN UDP checksum already filled in), and the mirrored bytes in the capture ring.
//
// The link facts (egress interface, next-hop MAC, source address, MTU) come from link_route.h at
// open() and are refreshed by refresh() about once a second; while they are unusable (neighbour
// unknown, route moved to another source address or to a non-Ethernet device) TxPath sends through
// the raw-socket Sender, whose kernel resolves the neighbour again.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "portmirror/base/error.h"
#include "portmirror/base/ip_address.h"
#include "portmirror/base/time.h"
#include "portmirror/io/link_route.h"
#include "portmirror/io/sender.h"
#include "portmirror/io/unique_fd.h"

struct sockaddr_ll;

namespace portmirror::io {

struct PacketSenderOptions {
  IpAddress destination;
  // The outer source address the EncapTemplate writes; the packet path is used only while the
  // route's source is this one.
  IpAddress source;
  bool source_pinned = false;  // --from: route lookups use it (policy routing), like bind()
  // PACKET_QDISC_BYPASS: straight to the driver. Off by default: on veth (noqueue) it measured no
  // faster, and bypassed copies escape the egress qdisc (shaping) and every packet tap (tcpdump on
  // the egress interface does not see them).
  bool qdisc_bypass = false;
  int sndbuf = 4 << 20;
  int resolve_wait_ms = 1000;  // how long open() waits for ARP / ND
};

class PacketSender {
 public:
  static constexpr std::size_t kMaxBatch = Sender::kMaxBatch;

  // Errors (kConfig) say why the packet path cannot be used toward this destination at all.
  static Result<PacketSender> open(const PacketSenderOptions& options);
  // Defaulted in the .cc, where the socket structures are complete.
  PacketSender(PacketSender&&) noexcept;
  PacketSender& operator=(PacketSender&&) noexcept;
  ~PacketSender();

  // Sends every slot as one Ethernet frame (slot.header preceded by slot.ip_header_len bytes of
  // outer IP header). Per-message failures are counted and skipped. No allocation.
  SendResult send(std::span<const SendSlot> slots) noexcept;

  // Looks the route and the neighbour up again (not per packet: it costs a few netlink round
  // trips). Returns true when usable() changed. Probes a missing or stale neighbour.
  bool refresh(TimestampNs now);

  bool usable() const noexcept { return usable_; }
  // Why the packet path is not usable right now ("" when it is).
  const std::string& reason() const noexcept { return reason_; }
  const LinkRoute& route() const noexcept { return route_; }
  std::uint32_t mtu() const noexcept { return route_.mtu; }
  int fd() const noexcept { return fd_.get(); }

 private:
  PacketSender();
  void apply(const LinkRoute& r);

  UniqueFd fd_;
  PacketSenderOptions options_;
  LinkRoute route_;
  bool usable_ = false;
  std::string reason_;
  TimestampNs last_probe_ = 0;
  std::array<std::uint8_t, 14> eth_{};
  // Preallocated (no allocation per send): destination address, message and iovec arrays.
  std::unique_ptr<sockaddr_ll> addr_;
  std::unique_ptr<mmsghdr[]> msgs_;
  std::unique_ptr<iovec[]> iov_;
};

// One output's transmit path: the AF_PACKET sender when it is usable, else the raw-socket Sender.
// Copies larger than the link MTU (MTU policy fragment) always take the socket, whose kernel
// fragments them.
class TxPath {
 public:
  explicit TxPath(Sender socket) noexcept : socket_(std::move(socket)) {}
  TxPath(Sender socket, PacketSender packet) noexcept
      : socket_(std::move(socket)), packet_(std::move(packet)) {}

  SendResult send(std::span<const SendSlot> slots) noexcept;
  // Refreshes the packet path; returns true when it switched on or off (worth a log line).
  bool refresh(TimestampNs now) { return packet_ && packet_->refresh(now); }

  bool has_packet() const noexcept { return packet_.has_value(); }
  bool packet_active() const noexcept { return packet_ && packet_->usable(); }
  const PacketSender* packet() const noexcept { return packet_ ? &*packet_ : nullptr; }
  const Sender& socket() const noexcept { return socket_; }
  // Copies sent through each path (for the statistics line).
  std::uint64_t packet_sent() const noexcept { return packet_sent_; }
  std::uint64_t socket_sent() const noexcept { return socket_sent_; }

 private:
  Sender socket_;
  std::optional<PacketSender> packet_;
  std::uint64_t packet_sent_ = 0;
  std::uint64_t socket_sent_ = 0;
};

// "02:00:00:00:00:01"
std::string mac_to_string(const wire::MacAddress& mac);

}  // namespace portmirror::io

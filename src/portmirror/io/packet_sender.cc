#include "portmirror/io/packet_sender.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/core.h>

#include "portmirror/wire/ethernet.h"

namespace portmirror::io {
namespace {

constexpr TimestampNs kProbeInterval = 5 * kNsPerSec;  // a stale neighbour: one probe per 5 s

Unexpected<Error> packet_error(const std::string& what, int e) {
  if (e == EPERM || e == EACCES) {
    return make_error(ExitCode::kPermission,
                      what + ": " + std::strerror(e) + " — AF_PACKET needs CAP_NET_RAW");
  }
  return make_error(ExitCode::kConfig, what + ": " + std::strerror(e));
}

}  // namespace

std::string mac_to_string(const wire::MacAddress& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

PacketSender::PacketSender(PacketSender&&) noexcept = default;
PacketSender& PacketSender::operator=(PacketSender&&) noexcept = default;
PacketSender::~PacketSender() = default;

PacketSender::PacketSender()
    : addr_(std::make_unique<sockaddr_ll>()),
      msgs_(std::make_unique<mmsghdr[]>(kMaxBatch)),
      iov_(std::make_unique<iovec[]>(3 * kMaxBatch)) {}

void PacketSender::apply(const LinkRoute& r) {
  route_ = r;
  wire::EthernetHeader eth;
  eth.destination = r.next_hop_mac;
  eth.source = r.local_mac;
  eth.ethertype = options_.destination.is_v4() ? wire::ethertype::kIpv4 : wire::ethertype::kIpv6;
  eth.write_to(MutableByteSpan(eth_));
  *addr_ = sockaddr_ll{};
  addr_->sll_family = AF_PACKET;
  addr_->sll_protocol = htons(eth.ethertype);
  addr_->sll_ifindex = r.ifindex;
  addr_->sll_halen = 6;
  std::memcpy(addr_->sll_addr, r.next_hop_mac.data(), 6);
  if (r.source != options_.source) {
    usable_ = false;
    reason_ = "the route now leaves from " + r.source.to_string() + ", not " +
              options_.source.to_string();
  } else if (!r.neighbour_valid) {
    usable_ = false;
    reason_ = "next hop " + r.next_hop.to_string() + " on " + r.ifname + " is not resolved";
  } else {
    usable_ = true;
    reason_.clear();
  }
}

Result<PacketSender> PacketSender::open(const PacketSenderOptions& o) {
  const std::optional<IpAddress> pin =
      o.source_pinned ? std::optional<IpAddress>(o.source) : std::nullopt;
  auto r = resolve_link_route(o.destination, pin, o.resolve_wait_ms);
  if (!r) return Unexpected<Error>(r.error());
  if (!r->neighbour_valid) {
    return make_error(ExitCode::kConfig, "next hop " + r->next_hop.to_string() + " on " +
                                             r->ifname + " did not answer ARP/ND within " +
                                             std::to_string(o.resolve_wait_ms) + " ms");
  }
  if (r->source != o.source) {
    return make_error(ExitCode::kConfig, "the route leaves from " + r->source.to_string() +
                                             ", not the tunnel source " + o.source.to_string());
  }
  PacketSender s;
  s.options_ = o;
  // Protocol 0: this socket only sends; it registers no receive hook.
  s.fd_.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!s.fd_.valid()) return packet_error("socket(AF_PACKET)", errno);
  if (o.qdisc_bypass) {
    int one = 1;
    (void)setsockopt(s.fd_.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one,
                     sizeof one);  // Linux >= 3.14
  }
  int snd = o.sndbuf;
  if (setsockopt(s.fd_.get(), SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) != 0)
    (void)setsockopt(s.fd_.get(), SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  s.apply(*r);
  return s;
}

bool PacketSender::refresh(TimestampNs now) {
  const bool was = usable_;
  const std::optional<IpAddress> pin =
      options_.source_pinned ? std::optional<IpAddress>(options_.source) : std::nullopt;
  auto r = lookup_link_route(options_.destination, pin);
  if (!r) {
    usable_ = false;
    reason_ = r.error().message;
    return was != usable_;
  }
  if (!r->same_link(route_) || !usable_) apply(*r);
  route_.neighbour_stale = r->neighbour_stale;
  // A missing neighbour is resolved by the socket path's traffic too; a stale one would stay stale
  // (we bypass the kernel's neighbour layer), so ask the kernel to revalidate it now and then.
  if ((!r->neighbour_valid || r->neighbour_stale) && now - last_probe_ >= kProbeInterval) {
    last_probe_ = now;
    probe_neighbour(*r);
  }
  return was != usable_;
}

SendResult PacketSender::send(std::span<const SendSlot> slots) noexcept {
  SendResult r;
  std::size_t done = 0;
  while (done < slots.size()) {
    const std::size_t n = std::min(kMaxBatch, slots.size() - done);
    for (std::size_t i = 0; i < n; ++i) {
      const SendSlot& s = slots[done + i];
      iovec* v = &iov_[3 * i];
      v[0].iov_base = eth_.data();
      v[0].iov_len = eth_.size();
      v[1].iov_base = const_cast<std::uint8_t*>(s.header - s.ip_header_len);
      v[1].iov_len = std::size_t{s.ip_header_len} + s.header_len;
      v[2].iov_base = const_cast<std::uint8_t*>(s.payload);
      v[2].iov_len = s.payload_len;
      msghdr& m = msgs_[i].msg_hdr;
      m = msghdr{};
      m.msg_name = addr_.get();
      m.msg_namelen = sizeof(sockaddr_ll);
      m.msg_iov = v;
      m.msg_iovlen = s.payload_len != 0 ? 3 : 2;
      msgs_[i].msg_len = 0;
    }
    send_batch(fd_.get(), msgs_.get(), n, r);
    done += n;
  }
  return r;
}

SendResult TxPath::send(std::span<const SendSlot> slots) noexcept {
  if (!packet_active()) {
    const SendResult r = socket_.send(slots);
    socket_sent_ += r.sent;
    return r;
  }
  SendResult total;
  auto add = [&total](const SendResult& r) {
    total.sent += r.sent;
    total.errors += r.errors;
    if (r.last_errno != 0) total.last_errno = r.last_errno;
  };
  const std::uint32_t mtu = packet_->mtu();
  std::size_t start = 0;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const SendSlot& s = slots[i];
    if (std::size_t{s.ip_header_len} + s.header_len + s.payload_len <= mtu) continue;
    // Larger than the link (MTU policy fragment): the kernel fragments it. Order is kept.
    if (i > start) {
      const SendResult r = packet_->send(slots.subspan(start, i - start));
      packet_sent_ += r.sent;
      add(r);
    }
    const SendResult r = socket_.send(slots.subspan(i, 1));
    socket_sent_ += r.sent;
    add(r);
    start = i + 1;
  }
  if (start < slots.size()) {
    const SendResult r = packet_->send(slots.subspan(start));
    packet_sent_ += r.sent;
    add(r);
  }
  return total;
}

}  // namespace portmirror::io

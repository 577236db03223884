#include "portmirror/io/sender.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace portmirror::io {

void send_batch(int fd, mmsghdr* msgs, std::size_t n, SendResult& r) noexcept {
  std::size_t off = 0;
  while (off < n) {
    const int k = ::sendmmsg(fd, msgs + off, static_cast<unsigned>(n - off), MSG_DONTWAIT);
    if (k < 0) {
      if (errno == EINTR) continue;
      r.last_errno = errno;
      ++r.errors;  // this message failed: skip it
      ++off;
      continue;
    }
    r.sent += static_cast<std::uint32_t>(k);
    off += static_cast<std::size_t>(k);
  }
}
namespace {

socklen_t make_sockaddr(const IpAddress& a, std::uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.is_v4()) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    std::memcpy(&s4->sin_addr, a.bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
  s6->sin6_family = AF_INET6;
  s6->sin6_port = htons(port);
  std::memcpy(&s6->sin6_addr, a.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

IpAddress from_sockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
    return IpAddress::v4(ByteSpan(reinterpret_cast<const std::uint8_t*>(&s4->sin_addr), 4));
  }
  const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  return IpAddress::v6(ByteSpan(reinterpret_cast<const std::uint8_t*>(&s6->sin6_addr), 16));
}

Unexpected<Error> sock_error(const std::string& what, int e, const IpAddress& dst) {
  if (e == EPERM || e == EACCES) {
    return make_error(ExitCode::kPermission,
                      what + ": " + std::strerror(e) +
                          " — sending mirror copies needs CAP_NET_RAW (run as root, or `setcap "
                          "cap_net_raw,cap_net_admin+ep portmirror`)");
  }
  return make_error(ExitCode::kFailure,
                    what + " toward " + dst.to_string() + ": " + std::strerror(e));
}

}  // namespace

Result<std::pair<IpAddress, std::uint32_t>> route_lookup(const IpAddress& destination) {
  const int fam = destination.is_v4() ? AF_INET : AF_INET6;
  const int fd = ::socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return sock_error("socket(UDP)", errno, destination);
  sockaddr_storage ss;
  const socklen_t len = make_sockaddr(destination, 9, ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const int e = errno;
    ::close(fd);
    return make_error(ExitCode::kConfig,
                      "no route to collector " + destination.to_string() + ": " + std::strerror(e));
  }
  sockaddr_storage local{};
  socklen_t llen = sizeof local;
  (void)getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen);
  int mtu = 1500;
  socklen_t mlen = sizeof mtu;
  if (fam == AF_INET) {
    (void)getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &mlen);
  } else {
    (void)getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &mlen);
  }
  ::close(fd);
  return std::make_pair(from_sockaddr(local), static_cast<std::uint32_t>(mtu));
}

Sender::Sender(Sender&&) noexcept = default;
Sender& Sender::operator=(Sender&&) noexcept = default;
Sender::~Sender() = default;

Sender::Sender()
    : msgs_(std::make_unique<mmsghdr[]>(kMaxBatch)),
      iov_(std::make_unique<iovec[]>(2 * kMaxBatch)) {}

Result<Sender> Sender::open(const SenderOptions& o) {
  if (o.destination.empty()) return make_error(ExitCode::kUsage, "no collector address (--to)");
  if (o.source && o.source->family() != o.destination.family()) {
    return make_error(ExitCode::kUsage, "--from " + o.source->to_string() + " and --to " +
                                            o.destination.to_string() +
                                            " are of different address families");
  }
  auto route = route_lookup(o.destination);
  if (!route) return Unexpected<Error>(route.error());
  Sender s;
  s.destination_ = o.destination;
  s.source_ = o.source ? *o.source : route->first;
  s.path_mtu_ = route->second;
  const bool v4 = o.destination.is_v4();
  s.fd_.reset(::socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, o.protocol));
  if (!s.fd_.valid()) return sock_error("socket(SOCK_RAW)", errno, o.destination);

  // Receive nothing: raw sockets get a clone of every inbound datagram of their protocol.
  sock_filter reject{BPF_RET | BPF_K, 0, 0, 0};
  sock_fprog fprog{1, &reject};
  (void)setsockopt(s.fd_.get(), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
  int rcv = 1;
  (void)setsockopt(s.fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);

  int snd = o.sndbuf;
  if (setsockopt(s.fd_.get(), SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) != 0)
    (void)setsockopt(s.fd_.get(), SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  const int ttl = o.ttl;
  const int tos = o.dscp << 2;
  const int pmtu = o.allow_fragmentation ? IP_PMTUDISC_DONT : IP_PMTUDISC_DO;
  if (v4) {
    if (setsockopt(s.fd_.get(), IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) != 0)
      return sock_error("IP_TTL", errno, o.destination);
    if (setsockopt(s.fd_.get(), IPPROTO_IP, IP_TOS, &tos, sizeof tos) != 0)
      return sock_error("IP_TOS", errno, o.destination);
    if (setsockopt(s.fd_.get(), IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0)
      return sock_error("IP_MTU_DISCOVER", errno, o.destination);
  } else {
    const int pmtu6 = o.allow_fragmentation ? IPV6_PMTUDISC_DONT : IPV6_PMTUDISC_DO;
    if (setsockopt(s.fd_.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl) != 0)
      return sock_error("IPV6_UNICAST_HOPS", errno, o.destination);
    if (setsockopt(s.fd_.get(), IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos) != 0)
      return sock_error("IPV6_TCLASS", errno, o.destination);
    (void)setsockopt(s.fd_.get(), IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu6, sizeof pmtu6);
    if (o.protocol == IPPROTO_UDP) {
      int off = 6;  // the kernel fills the UDP checksum (mandatory over IPv6, RFC 8200 §8.1)
      (void)setsockopt(s.fd_.get(), IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof off);
    }
  }
  sockaddr_storage ss;
  if (o.source) {
    const socklen_t len = make_sockaddr(*o.source, 0, ss);
    if (::bind(s.fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      return make_error(ExitCode::kConfig,
                        "--from " + o.source->to_string() +
                            ": cannot send from this address: " + std::strerror(errno));
    }
  }
  const socklen_t len = make_sockaddr(o.destination, 0, ss);
  if (::connect(s.fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
    return sock_error("connect(SOCK_RAW)", errno, o.destination);
  return s;
}

SendResult Sender::send(std::span<const SendSlot> slots) noexcept {
  SendResult r;
  std::size_t done = 0;
  while (done < slots.size()) {
    const std::size_t n = std::min(kMaxBatch, slots.size() - done);
    for (std::size_t i = 0; i < n; ++i) {
      const SendSlot& s = slots[done + i];
      iov_[2 * i].iov_base = const_cast<std::uint8_t*>(s.header);
      iov_[2 * i].iov_len = s.header_len;
      iov_[2 * i + 1].iov_base = const_cast<std::uint8_t*>(s.payload);
      iov_[2 * i + 1].iov_len = s.payload_len;
      msghdr& m = msgs_[i].msg_hdr;
      m = msghdr{};
      m.msg_iov = &iov_[2 * i];
      m.msg_iovlen = s.payload_len != 0 ? 2 : 1;
      msgs_[i].msg_len = 0;
    }
    send_batch(fd_.get(), msgs_.get(), n, r);
    done += n;
  }
  return r;
}

}  // namespace portmirror::io

#include "portmirror/io/socket_source.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/core.h>

namespace portmirror::io {

namespace {

constexpr std::size_t kControlBytes = 128;  // timestamp + RXQ_OVFL + pktinfo, with alignment slack

std::string describe(SocketKind kind, bool v6, std::uint16_t port,
                     const std::optional<IpAddress>& listen) {
  std::string addr = listen ? listen->to_string() : (v6 ? "::" : "0.0.0.0");
  if (kind == SocketKind::kGreV4 || kind == SocketKind::kGreV6) {
    return fmt::format("raw gre {}", addr);
  }
  return v6 ? fmt::format("udp {} [{}]:{}", socket_kind_name(kind), addr, port)
            : fmt::format("udp {} {}:{}", socket_kind_name(kind), addr, port);
}

IpAddress from_sockaddr(const sockaddr_storage& ss, std::uint16_t* port) {
  if (ss.ss_family == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, &ss, sizeof sin);
    if (port) *port = ntohs(sin.sin_port);
    return IpAddress::v4(
        ByteSpan(reinterpret_cast<const std::uint8_t*>(&sin.sin_addr), 4));  // NOLINT
  }
  if (ss.ss_family == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &ss, sizeof sin6);
    if (port) *port = ntohs(sin6.sin6_port);
    ByteSpan a(sin6.sin6_addr.s6_addr, 16);
    // A v4-mapped sender (should not happen with IPV6_V6ONLY) is reported as IPv4.
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.data(), kMapped, 12) == 0) return IpAddress::v4(a.subspan(12, 4));
    return IpAddress::v6(a);
  }
  return IpAddress{};
}

BpfInsn stmt(std::uint16_t code, std::uint32_t k) {
  return BpfInsn{code, 0, 0, k};
}
BpfInsn jeq(std::uint32_t k, std::size_t jt, std::size_t jf) {
  return BpfInsn{static_cast<std::uint16_t>(BPF_JMP | BPF_JEQ | BPF_K),
                 static_cast<std::uint8_t>(jt), static_cast<std::uint8_t>(jf), k};
}

}  // namespace

Result<BpfProgram> handoff_filter(const std::vector<HandoffLink>& links, std::uint32_t keep,
                                  std::uint32_t drop) {
  constexpr std::size_t kMax = 64;
  if (links.size() > kMax) {
    return make_error(ExitCode::kUsage, "too many interfaces for the ring hand-off (at most 64)");
  }
  const auto abs = [](std::uint16_t size) {
    return static_cast<std::uint16_t>(BPF_LD | size | BPF_ABS);
  };
  BpfProgram p;
  p.push_back(stmt(abs(BPF_W), static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_IFINDEX)));
  for (const auto& l : links) {
    std::vector<std::uint32_t> v4;
    for (const auto& a : l.addresses) {
      if (a.is_v4()) v4.push_back(a.v4_host_order());
    }
    if (v4.size() > kMax) {
      return make_error(ExitCode::kUsage,
                        "too many addresses on one interface for the ring hand-off (at most 64)");
    }
    // Not this interface: skip its block (A still holds the ifindex for the next compare).
    p.push_back(jeq(static_cast<std::uint32_t>(l.ifindex), 0, 1 + 2 * v4.size() + 1));
    p.push_back(stmt(abs(BPF_W), static_cast<std::uint32_t>(SKF_NET_OFF) + 16));
    for (auto a : v4) {
      p.push_back(jeq(a, 0, 1));
      p.push_back(stmt(BPF_RET | BPF_K, drop));
    }
    p.push_back(stmt(BPF_RET | BPF_K, keep));
  }
  p.push_back(stmt(BPF_RET | BPF_K, keep));
  return p;
}

std::string_view socket_kind_name(SocketKind k) noexcept {
  switch (k) {
    case SocketKind::kGreV4:
      return "gre";
    case SocketKind::kGreV6:
      return "gre6";
    case SocketKind::kVxlan:
      return "vxlan";
    case SocketKind::kGeneve:
      return "geneve";
    case SocketKind::kTzsp:
      return "tzsp";
  }
  return "unknown";
}

Error socket_error(int err, std::string_view what) {
  switch (err) {
    case EPERM:
    case EACCES:
      return Error{ExitCode::kPermission,
                   fmt::format("{}: permission denied: CAP_NET_RAW is missing (run as root, or "
                               "`setcap cap_net_raw,cap_net_admin+ep portmirror`)",
                               what),
                   std::nullopt};
    case EADDRINUSE:
      return Error{ExitCode::kAddressInUse,
                   fmt::format("{}: address already in use (another collector or a kernel "
                               "VXLAN/Geneve device holds this port; pick another with --*-port)",
                               what),
                   std::nullopt};
    case EADDRNOTAVAIL:
      return Error{ExitCode::kConfig,
                   fmt::format("{}: the --listen address is not an address of this host", what),
                   std::nullopt};
    default:
      return Error{ExitCode::kFailure, fmt::format("{}: {}", what, std::strerror(err)),
                   std::nullopt};
  }
}

struct SocketSource::Msgs {
  std::vector<mmsghdr> hdrs;
  std::vector<iovec> iovs;
  std::vector<sockaddr_storage> names;
};

SocketSource::SocketSource(SocketSource&& o) noexcept
    : options_(std::move(o.options_)),
      infos_(std::move(o.infos_)),
      stats_(std::move(o.stats_)),
      slots_(std::move(o.slots_)),
      control_(std::move(o.control_)),
      msgs_(std::move(o.msgs_)) {
  o.infos_.clear();
}

SocketSource& SocketSource::operator=(SocketSource&& o) noexcept {
  if (this != &o) {
    close_all();
    options_ = std::move(o.options_);
    infos_ = std::move(o.infos_);
    stats_ = std::move(o.stats_);
    slots_ = std::move(o.slots_);
    control_ = std::move(o.control_);
    msgs_ = std::move(o.msgs_);
    o.infos_.clear();
  }
  return *this;
}

SocketSource::~SocketSource() {
  close_all();
}

void SocketSource::close_all() noexcept {
  for (auto& i : infos_) {
    if (i.fd >= 0) ::close(i.fd);
    if (i.sink_fd >= 0) ::close(i.sink_fd);
    i.fd = -1;
    i.sink_fd = -1;
  }
}

Result<SocketSource> SocketSource::open(const SocketSourceOptions& options) {
  SocketSource s;
  s.options_ = options;
  if (s.options_.batch == 0) s.options_.batch = 1;
  if (s.options_.batch > 1024) s.options_.batch = 1024;  // UIO_MAXIOV, recvmmsg(2)
  if (s.options_.slot_bytes < 2048) s.options_.slot_bytes = 2048;

  bool want_v4 = !options.listen || options.listen->is_v4();
  bool want_v6 = options.listen ? options.listen->is_v6() : options.ipv6;
  auto open_family = [&](bool v6) -> Result<void> {
    if (options.gre) {
      auto r = s.add(v6 ? SocketKind::kGreV6 : SocketKind::kGreV4, v6, 0);
      if (!r) return r;
    }
    for (auto p : options.vxlan_ports) {
      if (auto r = s.add(SocketKind::kVxlan, v6, p); !r) return r;
    }
    for (auto p : options.geneve_ports) {
      if (auto r = s.add(SocketKind::kGeneve, v6, p); !r) return r;
    }
    for (auto p : options.tzsp_ports) {
      if (auto r = s.add(SocketKind::kTzsp, v6, p); !r) return r;
    }
    return {};
  };
  if (want_v4) {
    if (auto r = open_family(false); !r) return unexpected(r.error());
  }
  if (want_v6) {
    auto r = open_family(true);
    if (!r) {
      // Without --listen, a host without IPv6 still collects IPv4.
      if (options.listen || r.error().code != ExitCode::kFailure || !want_v4) {
        return unexpected(r.error());
      }
    }
  }

  const std::size_t n = s.options_.batch;
  s.slots_.assign(n * s.options_.slot_bytes, 0);
  s.control_.assign(n * kControlBytes, 0);
  s.msgs_ = std::make_unique<Msgs>();
  s.msgs_->hdrs.assign(n, mmsghdr{});
  s.msgs_->iovs.assign(n, iovec{});
  s.msgs_->names.assign(n, sockaddr_storage{});
  for (std::size_t i = 0; i < n; ++i) {
    s.msgs_->iovs[i].iov_base = s.slots_.data() + i * s.options_.slot_bytes;
    s.msgs_->iovs[i].iov_len = s.options_.slot_bytes;
  }
  return s;
}

Result<void> SocketSource::add(SocketKind kind, bool v6, std::uint16_t port) {
  const int family = v6 ? AF_INET6 : AF_INET;
  const bool raw = kind == SocketKind::kGreV4 || kind == SocketKind::kGreV6;
  if (raw) kind = v6 ? SocketKind::kGreV6 : SocketKind::kGreV4;
  std::string desc = describe(kind, v6, port, options_.listen);

  int fd = ::socket(family, (raw ? SOCK_RAW : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    raw ? IPPROTO_GRE : IPPROTO_UDP);
  if (fd < 0) {
    int e = errno;
    if (e == EAFNOSUPPORT) {
      return make_error(ExitCode::kFailure, fmt::format("{}: IPv6 is not available", desc));
    }
    return unexpected(socket_error(e, desc));
  }
  auto fail = [&](std::string_view what) {
    int e = errno;
    ::close(fd);
    return unexpected(socket_error(e, fmt::format("{}: {}", desc, what)));
  };

  // Attaches the ring hand-off program (handoff_filter) as a socket filter or a SO_REUSEPORT group
  // program; on failure the socket is closed.
  auto attach_handoff = [&](int optname, std::uint32_t keep, std::uint32_t drop) -> Result<void> {
    auto prog = handoff_filter(options_.handoff, keep, drop);
    if (!prog) {
      ::close(fd);
      return unexpected(prog.error());
    }
    sock_fprog fp{static_cast<unsigned short>(prog->size()),
                  reinterpret_cast<sock_filter*>(prog->data())};
    if (setsockopt(fd, SOL_SOCKET, optname, &fp, sizeof fp) != 0) {
      return fail(optname == SO_ATTACH_FILTER ? "SO_ATTACH_FILTER (ring hand-off)"
                                              : "SO_ATTACH_REUSEPORT_CBPF (ring hand-off)");
    }
    return {};
  };

  int one = 1;
  // The ring hand-off (socket_source.h) covers IPv4 only: a filter on a raw IPv6 socket makes the
  // kernel verify a transport checksum GRE does not have (rawv6_rcv_skb), so IPv6 stays here.
  const bool handoff = !options_.guard_only && !v6 && !options_.handoff.empty();
  if (v6 && !raw && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) {
    return fail("IPV6_V6ONLY");
  }
  if (options_.guard_only) {
    // Reject everything: the socket exists only so the kernel does not answer with ICMP
    // unreachable. The filter runs after the raw delivery counted as a match (§6.1).
    sock_filter reject{static_cast<std::uint16_t>(BPF_RET | BPF_K), 0, 0, 0};
    sock_fprog prog{1, &reject};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
      return fail("SO_ATTACH_FILTER");
    }
  } else {
    // Raw IPv4: a socket filter drops what the rings take (raw_rcv_skb does not count that as
    // a drop). UDP counts filter drops in SO_RXQ_OVFL, so there the hand-off selects a sink
    // socket of a SO_REUSEPORT group instead (below, after bind).
    if (handoff && raw) {
      if (auto r = attach_handoff(SO_ATTACH_FILTER, 0xffffffffu, 0); !r) return r;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0) {
      return fail("SO_TIMESTAMPNS");
    }
    if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0) {
      return fail("SO_RXQ_OVFL");
    }
    if (v6) {
      if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0) {
        return fail("IPV6_RECVPKTINFO");
      }
    } else if (!raw) {
      if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) {
        return fail("IP_PKTINFO");
      }
    }
    int want = options_.rcvbuf_bytes;
    // SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it fall back to SO_RCVBUF (capped at rmem_max).
    if (want > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0) {
      (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    }
  }

  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = raw ? 0 : htons(port);
    if (options_.listen) std::memcpy(&sin6.sin6_addr, options_.listen->bytes().data(), 16);
    std::memcpy(&ss, &sin6, sizeof sin6);
    len = sizeof sin6;
  } else {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = raw ? 0 : htons(port);
    if (options_.listen) std::memcpy(&sin.sin_addr, options_.listen->bytes().data(), 4);
    std::memcpy(&ss, &sin, sizeof sin);
    len = sizeof sin;
  }
  // A raw socket bound to the wildcard needs no bind(); bind() to a local address limits delivery
  // to that destination (§6.1).
  const sockaddr* sa = reinterpret_cast<const sockaddr*>(&ss);  // NOLINT
  int sink = -1;
  if (handoff && !raw) {
    // A port held by anyone (even a SO_REUSEPORT group) must stay "in use": probe it first.
    int probe = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    if (probe < 0 || ::bind(probe, sa, len) != 0) {
      if (probe >= 0) ::close(probe);
      return fail("bind");
    }
    ::close(probe);
    // The group's program goes on before bind (the kernel creates the group with it), so no
    // datagram is ever steered by hash: it returns 1 (the sink, which joins next) for what the
    // rings take and 0 (this socket) for the rest. Until the sink has joined, index 1 does not
    // exist and the kernel falls back to this socket: a duplicate at worst, never a loss.
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      return fail("SO_REUSEPORT");
    }
    if (auto r = attach_handoff(SO_ATTACH_REUSEPORT_CBPF, 0, 1); !r) return r;
  }
  if ((!raw || options_.listen) && ::bind(fd, sa, len) != 0) return fail("bind");
  if (handoff && !raw) {
    // Group member 1, the sink, rejects what it is given.
    sink = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    sock_filter reject{static_cast<std::uint16_t>(BPF_RET | BPF_K), 0, 0, 0};
    sock_fprog rp{1, &reject};
    if (sink < 0 || setsockopt(sink, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        setsockopt(sink, SOL_SOCKET, SO_ATTACH_FILTER, &rp, sizeof rp) != 0 ||
        ::bind(sink, sa, len) != 0) {
      int e = errno;
      if (sink >= 0) ::close(sink);
      errno = e;
      return fail("ring hand-off (SO_REUSEPORT sink)");
    }
  }

  SocketInfo info;
  info.kind = kind;
  info.v6 = v6;
  info.port = port;
  info.fd = fd;
  info.sink_fd = sink;
  socklen_t sl = sizeof info.rcvbuf;
  (void)getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &info.rcvbuf, &sl);
  info.description = std::move(desc);
  infos_.push_back(std::move(info));
  stats_.push_back(SocketStats{});
  return {};
}

std::size_t SocketSource::receive(std::size_t index, std::span<Datagram> out) noexcept {
  if (index >= infos_.size() || !msgs_) return 0;
  const SocketInfo& info = infos_[index];
  SocketStats& st = stats_[index];
  const std::size_t n = std::min<std::size_t>(out.size(), options_.batch);
  if (n == 0) return 0;
  Msgs& m = *msgs_;
  for (std::size_t i = 0; i < n; ++i) {
    msghdr& h = m.hdrs[i].msg_hdr;
    h.msg_name = &m.names[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &m.iovs[i];
    h.msg_iovlen = 1;
    h.msg_control = control_.data() + i * kControlBytes;
    h.msg_controllen = kControlBytes;
    h.msg_flags = 0;
    m.hdrs[i].msg_len = 0;
  }
  // Non-blocking + poll instead of recvmmsg's timeout (recvmmsg(2) BUGS). MSG_TRUNC makes msg_len
  // the datagram's real length, so a cut datagram is detected and keeps its original length.
  int got = ::recvmmsg(info.fd, m.hdrs.data(), static_cast<unsigned>(n), MSG_DONTWAIT | MSG_TRUNC,
                       nullptr);
  if (got <= 0) {
    if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ++st.recv_errors;
    return 0;
  }
  const auto count = static_cast<std::size_t>(got);
  TimestampNs fallback_ts = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const msghdr& h = m.hdrs[i].msg_hdr;
    Datagram& d = out[i];
    const std::uint32_t real = m.hdrs[i].msg_len;
    const std::uint32_t kept = std::min<std::uint32_t>(real, options_.slot_bytes);
    if (real > kept || (h.msg_flags & MSG_TRUNC) != 0) ++st.truncated;
    d.data = ByteSpan(static_cast<const std::uint8_t*>(m.iovs[i].iov_base), kept);
    d.orig_len = real;
    d.kind = info.kind;
    d.socket_index = static_cast<std::uint16_t>(index);
    d.src_port = 0;
    d.dst_port = info.port;
    d.src = from_sockaddr(
        m.names[i],
        info.kind == SocketKind::kGreV4 || info.kind == SocketKind::kGreV6 ? nullptr : &d.src_port);
    d.dst = options_.listen ? *options_.listen : IpAddress{};
    d.ts = 0;
    for (const cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&h), const_cast<cmsghdr*>(c))) {  // NOLINT
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts{};
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        d.ts = ts.tv_sec * kNsPerSec + ts.tv_nsec;
      } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
        std::uint32_t drops = 0;
        std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
        // Cumulative over the socket's life (sk_drops); keep the latest.
        st.kernel_drops = drops;
      } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo pi{};
        std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
        d.dst = IpAddress::v4(
            ByteSpan(reinterpret_cast<const std::uint8_t*>(&pi.ipi_addr), 4));  // NOLINT
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo pi{};
        std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
        d.dst = IpAddress::v6(ByteSpan(pi.ipi6_addr.s6_addr, 16));
      }
    }
    if (info.kind == SocketKind::kGreV4 && kept >= 20) {
      d.dst = IpAddress::v4(d.data.subspan(16, 4));  // the IPv4 header is part of the data
    }
    if (d.ts == 0) {
      if (fallback_ts == 0) fallback_ts = wall_clock_ns();
      d.ts = fallback_ts;
    }
    ++st.datagrams;
    st.bytes += real;
  }
  return count;
}

SocketStats SocketSource::total() const noexcept {
  SocketStats t;
  for (const auto& s : stats_) {
    t.datagrams += s.datagrams;
    t.bytes += s.bytes;
    t.truncated += s.truncated;
    t.kernel_drops += s.kernel_drops;
    t.recv_errors += s.recv_errors;
  }
  return t;
}

}  // namespace portmirror::io

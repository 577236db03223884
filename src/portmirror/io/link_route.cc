#include "portmirror/io/link_route.h"

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "portmirror/io/sender.h"

namespace portmirror::io {
namespace {

constexpr std::uint16_t kDiscardPort = 9;  // RFC 863

class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

// A netlink request: header, family header, room for a few attributes.
template <typename Family>
struct NlRequest {
  nlmsghdr hdr;
  Family body;
  std::array<std::uint8_t, 96> attrs;
};

template <typename Family>
void add_attr(NlRequest<Family>& req, std::uint16_t type, const void* data, std::size_t len) {
  auto* base = reinterpret_cast<std::uint8_t*>(&req);
  const std::size_t at = NLMSG_ALIGN(req.hdr.nlmsg_len);
  auto* rta = reinterpret_cast<rtattr*>(base + at);
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(rta), data, len);
  req.hdr.nlmsg_len = static_cast<std::uint32_t>(at + RTA_ALIGN(rta->rta_len));
}

constexpr std::size_t kNlHdr = NLMSG_ALIGN(sizeof(nlmsghdr));
constexpr std::size_t kRtaHdr = RTA_ALIGN(sizeof(rtattr));

// Calls f(type, value) for each route attribute in `bytes` (bounds-checked; the <linux/rtnetlink.h>
// macros cast away const and mix signedness).
template <typename F>
void for_each_attr(ByteSpan bytes, F&& f) {
  while (bytes.size() >= kRtaHdr) {
    rtattr a;
    std::memcpy(&a, bytes.data(), sizeof a);
    if (a.rta_len < kRtaHdr || a.rta_len > bytes.size()) return;
    f(a.rta_type, bytes.subspan(kRtaHdr, a.rta_len - kRtaHdr));
    const std::size_t step = RTA_ALIGN(std::size_t{a.rta_len});
    if (step >= bytes.size()) return;
    bytes = bytes.subspan(step);
  }
}

// A reply: its header and the bytes after it (up to nlmsg_len).
struct NlReply {
  nlmsghdr hdr{};
  ByteSpan body;
};

// Sends `req` and reads the reply into `buf`; returns false with `err` set (the errno of an
// NLMSG_ERROR or of a failed call).
bool nl_transact(int fd, const void* req, std::size_t len, std::array<std::uint8_t, 8192>& buf,
                 NlReply& reply, int& err) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, req, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    err = errno;
    return false;
  }
  const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
  if (n < 0) {
    err = errno;
    return false;
  }
  const auto got = static_cast<std::size_t>(n);
  if (got < kNlHdr) {
    err = EBADMSG;
    return false;
  }
  std::memcpy(&reply.hdr, buf.data(), sizeof reply.hdr);
  if (reply.hdr.nlmsg_len < kNlHdr || reply.hdr.nlmsg_len > got) {
    err = EBADMSG;
    return false;
  }
  reply.body = ByteSpan(buf.data() + kNlHdr, reply.hdr.nlmsg_len - kNlHdr);
  if (reply.hdr.nlmsg_type == NLMSG_ERROR) {
    nlmsgerr e{};
    if (reply.body.size() < sizeof e) {
      err = EBADMSG;
      return false;
    }
    std::memcpy(&e, reply.body.data(), sizeof e);
    err = e.error < 0 ? -e.error : EBADMSG;
    return false;
  }
  err = 0;
  return true;
}

IpAddress addr_of(ByteSpan v, int family) {
  const std::size_t want = family == AF_INET ? 4 : 16;
  if (v.size() < want) return {};
  return family == AF_INET ? IpAddress::v4(v.first(4)) : IpAddress::v6(v.first(16));
}

Unexpected<Error> unusable(const IpAddress& dst, const std::string& why) {
  return make_error(ExitCode::kConfig, "route to " + dst.to_string() + ": " + why);
}

struct Neighbour {
  bool valid = false;
  bool stale = false;
  wire::MacAddress mac{};
};

Neighbour lookup_neighbour(int nl, int ifindex, const IpAddress& addr) {
  NlRequest<ndmsg> req{};
  req.hdr.nlmsg_len = NLMSG_LENGTH(sizeof(ndmsg));
  req.hdr.nlmsg_type = RTM_GETNEIGH;
  req.hdr.nlmsg_flags = NLM_F_REQUEST;
  req.hdr.nlmsg_seq = 2;
  const int family = addr.is_v4() ? AF_INET : AF_INET6;
  req.body.ndm_family = static_cast<std::uint8_t>(family);
  req.body.ndm_ifindex = ifindex;
  add_attr(req, NDA_DST, addr.bytes().data(), addr.bytes().size());
  std::array<std::uint8_t, 8192> buf;
  int err = 0;
  NlReply reply;
  Neighbour out;
  // ENOENT: not known yet.
  if (!nl_transact(nl, &req, req.hdr.nlmsg_len, buf, reply, err)) return out;
  if (reply.hdr.nlmsg_type != RTM_NEWNEIGH || reply.body.size() < sizeof(ndmsg)) return out;
  ndmsg nd{};
  std::memcpy(&nd, reply.body.data(), sizeof nd);
  constexpr std::uint16_t kUsable =
      NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
  bool have_mac = false;
  for_each_attr(reply.body.subspan(NLMSG_ALIGN(sizeof(ndmsg))),
                [&](std::uint16_t type, ByteSpan v) {
                  if (type == NDA_LLADDR && v.size() == 6) {
                    std::memcpy(out.mac.data(), v.data(), 6);
                    have_mac = true;
                  }
                });
  out.valid = have_mac && (nd.ndm_state & kUsable) != 0;
  out.stale = out.valid && (nd.ndm_state & NUD_STALE) != 0;
  return out;
}

}  // namespace

Result<LinkRoute> lookup_link_route(const IpAddress& destination,
                                    const std::optional<IpAddress>& source) {
  if (destination.empty()) return make_error(ExitCode::kUsage, "no collector address");
  const int family = destination.is_v4() ? AF_INET : AF_INET6;
  const auto full = static_cast<std::uint8_t>(destination.is_v4() ? 32 : 128);
  Fd nl(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (nl.get() < 0) return unusable(destination, std::string("netlink: ") + std::strerror(errno));
  timeval tv{1, 0};  // never hang on a kernel that does not answer
  (void)setsockopt(nl.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  NlRequest<rtmsg> req{};
  req.hdr.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  req.hdr.nlmsg_type = RTM_GETROUTE;
  req.hdr.nlmsg_flags = NLM_F_REQUEST;
  req.hdr.nlmsg_seq = 1;
  req.body.rtm_family = static_cast<std::uint8_t>(family);
  req.body.rtm_dst_len = full;
  add_attr(req, RTA_DST, destination.bytes().data(), destination.bytes().size());
  if (source) {
    req.body.rtm_src_len = full;
    add_attr(req, RTA_SRC, source->bytes().data(), source->bytes().size());
  }
  std::array<std::uint8_t, 8192> buf;
  int err = 0;
  NlReply reply;
  if (!nl_transact(nl.get(), &req, req.hdr.nlmsg_len, buf, reply, err))
    return unusable(destination, std::string("no route: ") + std::strerror(err));
  if (reply.hdr.nlmsg_type != RTM_NEWROUTE || reply.body.size() < sizeof(rtmsg))
    return unusable(destination, "unexpected netlink reply");
  rtmsg rt{};
  std::memcpy(&rt, reply.body.data(), sizeof rt);
  if (rt.rtm_type == RTN_LOCAL) return unusable(destination, "the collector is a local address");
  if (rt.rtm_type != RTN_UNICAST) return unusable(destination, "not a unicast route");

  LinkRoute r;
  std::uint32_t route_mtu = 0;
  const char* refuse = nullptr;
  for_each_attr(reply.body.subspan(NLMSG_ALIGN(sizeof(rtmsg))),
                [&](std::uint16_t type, ByteSpan v) {
                  switch (type) {
                    case RTA_OIF:
                      if (v.size() >= sizeof(int)) std::memcpy(&r.ifindex, v.data(), sizeof(int));
                      break;
                    case RTA_GATEWAY:
                      r.next_hop = addr_of(v, family);
                      break;
                    case RTA_VIA:
                      refuse = "next hop of another address family (RTA_VIA)";
                      break;
                    case RTA_MULTIPATH:
                      refuse = "multipath route";
                      break;
                    case RTA_PREFSRC:
                      r.source = addr_of(v, family);
                      break;
                    case RTA_METRICS:
                      for_each_attr(v, [&](std::uint16_t mtype, ByteSpan mv) {
                        if (mtype == RTAX_MTU && mv.size() >= 4)
                          std::memcpy(&route_mtu, mv.data(), 4);
                      });
                      break;
                    default:
                      break;
                  }
                });
  if (refuse != nullptr) return unusable(destination, refuse);
  if (r.ifindex <= 0) return unusable(destination, "route without an output interface");
  if (r.next_hop.empty()) r.next_hop = destination;
  if (source) r.source = *source;
  if (r.source.empty()) {
    auto ul = route_lookup(destination);  // what a connected socket would choose
    if (!ul) return Unexpected<Error>(ul.error());
    r.source = ul->first;
  }
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(static_cast<unsigned>(r.ifindex), name) == nullptr)
    return unusable(destination, "output interface vanished");
  r.ifname = name;
  Fd ctl(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name, IF_NAMESIZE);
  if (ctl.get() < 0 || ioctl(ctl.get(), SIOCGIFHWADDR, &ifr) != 0)
    return unusable(destination, r.ifname + ": cannot read its hardware address");
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
    return unusable(destination, r.ifname + " is not an Ethernet interface");
  std::memcpy(r.local_mac.data(), ifr.ifr_hwaddr.sa_data, 6);
  if (ioctl(ctl.get(), SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
    r.mtu = static_cast<std::uint32_t>(ifr.ifr_mtu);
  if (route_mtu != 0 && route_mtu < r.mtu) r.mtu = route_mtu;

  const Neighbour n = lookup_neighbour(nl.get(), r.ifindex, r.next_hop);
  r.neighbour_valid = n.valid;
  r.neighbour_stale = n.stale;
  r.next_hop_mac = n.mac;
  return r;
}

void probe_neighbour(const LinkRoute& route) noexcept {
  const bool v4 = route.next_hop.is_v4();
  const int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, route.ifname.c_str(),
                   static_cast<socklen_t>(route.ifname.size()));
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v4) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(kDiscardPort);
    std::memcpy(&s4->sin_addr, route.next_hop.bytes().data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(kDiscardPort);
    std::memcpy(&s6->sin6_addr, route.next_hop.bytes().data(), 16);
    if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
      s6->sin6_scope_id = static_cast<std::uint32_t>(route.ifindex);
    len = sizeof(sockaddr_in6);
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
    (void)::send(fd, "", 0, MSG_DONTWAIT);
  }
  ::close(fd);
}

Result<LinkRoute> resolve_link_route(const IpAddress& destination,
                                     const std::optional<IpAddress>& source, int wait_ms) {
  auto r = lookup_link_route(destination, source);
  if (!r || r->neighbour_valid) return r;
  probe_neighbour(*r);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    r = lookup_link_route(destination, source);
    if (!r || r->neighbour_valid) return r;
  }
  return r;
}

}  // namespace portmirror::io

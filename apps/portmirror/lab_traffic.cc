// Traffic for the lab: sockets opened inside the lab's namespaces (setns around socket()), and
// the parsers that recognise the lab's packets on the wire and in the collector's file.
#include "apps/portmirror/lab_traffic.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/core.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "apps/portmirror/lab_topology.h"

namespace portmirror::app::lab {
namespace {

constexpr std::string_view kMarker = "portmirror-lab seq=";
constexpr std::size_t kUdpPayload = 32;   // marker + 6 digits + padding
constexpr std::size_t kIcmpPayload = 56;  // like ping's default, as in the seed's tcpdump line

std::uint32_t addr(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return ntohl(a.s_addr);
}

std::string payload(std::uint32_t seq, std::size_t size) {
  std::string p = fmt::format("{}{:06}", kMarker, seq);
  p.resize(size, '.');
  return p;
}

std::optional<std::uint32_t> parse_marker(ByteSpan data) {
  std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
  if (s.size() < kMarker.size() + 6 || s.substr(0, kMarker.size()) != kMarker) return std::nullopt;
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    char c = s[kMarker.size() + i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return v;
}

sockaddr_in sockaddr_of(const char* ip, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip, &sa.sin_addr);
  return sa;
}

Result<int> bound_socket(int type, int protocol, const char* ip, std::uint16_t port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  if (fd < 0) {
    return make_error(errno == EPERM ? ExitCode::kPermission : ExitCode::kEnvironment,
                      fmt::format("socket: {}", std::strerror(errno)));
  }
  sockaddr_in sa = sockaddr_of(ip, port);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    close(fd);
    return make_error(ExitCode::kAddressInUse,
                      fmt::format("bind {}:{}: {}", ip, port, std::strerror(e)));
  }
  return fd;
}

std::uint16_t inet_checksum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += (std::uint32_t{p[i]} << 8) | p[i + 1];
  if (n % 2 == 1) sum += std::uint32_t{p[n - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

void close_fd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::kUdpA:
      return "udp 49378>18252";
    case Kind::kUdpB:
      return "udp 49380>16968";
    case Kind::kEchoRequest:
      return "icmp echo request";
    case Kind::kEchoReply:
      return "icmp echo reply";
    case Kind::kOther:
      return "udp from 192.168.71.5 (not in the filter)";
    case Kind::kUnknown:
      break;
  }
  return "unknown";
}

Kind kind_for_index(std::uint32_t i) {
  static constexpr std::array<Kind, 10> kCycle = {
      Kind::kUdpA, Kind::kUdpB, Kind::kUdpA, Kind::kUdpB, Kind::kEchoRequest,
      Kind::kUdpA, Kind::kUdpB, Kind::kUdpA, Kind::kUdpB, Kind::kOther};
  return kCycle[i % kCycle.size()];
}

PacketFields fields_for(Kind k) {
  PacketFields f;
  f.src = addr(kCustomerHost);
  f.dst = addr(kDestination);
  switch (k) {
    case Kind::kUdpA:
      f.protocol = IPPROTO_UDP;
      f.src_port = kPortA;
      f.dst_port = kDstPortA;
      break;
    case Kind::kUdpB:
      f.protocol = IPPROTO_UDP;
      f.src_port = kPortB;
      f.dst_port = kDstPortB;
      break;
    case Kind::kOther:
      f.src = addr(kOtherCustomerHost);
      f.protocol = IPPROTO_UDP;
      f.src_port = kPortA;
      f.dst_port = kDstPortA;
      break;
    case Kind::kEchoRequest:
      f.protocol = IPPROTO_ICMP;
      f.icmp_type = 8;
      break;
    case Kind::kEchoReply:
      std::swap(f.src, f.dst);
      f.protocol = IPPROTO_ICMP;
      f.icmp_type = 0;
      break;
    case Kind::kUnknown:
      break;
  }
  return f;
}

Identity identify_ipv4(ByteSpan p) {
  Identity id;
  id.length = static_cast<std::uint32_t>(p.size());
  if (p.size() < 20 || (p[0] >> 4) != 4) return id;
  std::size_t ihl = std::size_t{p[0] & 0x0Fu} * 4;
  if (ihl < 20 || p.size() < ihl) return id;
  std::uint32_t src = load_be32(p, 12);
  std::uint8_t proto = p[9];
  ByteSpan l4 = p.subspan(ihl);
  if (proto == IPPROTO_UDP && l4.size() >= 8) {
    std::uint16_t sport = load_be16(l4, 0);
    if (src == addr(kOtherCustomerHost)) {
      id.kind = Kind::kOther;
    } else if (sport == kPortA) {
      id.kind = Kind::kUdpA;
    } else if (sport == kPortB) {
      id.kind = Kind::kUdpB;
    }
    id.seq = parse_marker(l4.subspan(8));
  } else if (proto == IPPROTO_ICMP && l4.size() >= 8) {
    if (l4[0] == 8) id.kind = Kind::kEchoRequest;
    if (l4[0] == 0) id.kind = Kind::kEchoReply;
    id.seq = parse_marker(l4.subspan(8));
  }
  if (id.kind == Kind::kUnknown) id.seq.reset();
  return id;
}

// --- Generator ----------------------------------------------------------------------------------

Result<Generator> Generator::open(const std::string& customer_ns, std::uint16_t icmp_id) {
  auto scope = NetnsScope::enter(customer_ns);
  if (!scope) return Unexpected<Error>(scope.error());
  Generator g;
  g.icmp_id_ = icmp_id;
  auto a = bound_socket(SOCK_DGRAM, 0, kCustomerHost, kPortA);
  if (!a) return Unexpected<Error>(a.error());
  g.udp_a_ = *a;
  auto b = bound_socket(SOCK_DGRAM, 0, kCustomerHost, kPortB);
  if (!b) return Unexpected<Error>(b.error());
  g.udp_b_ = *b;
  auto o = bound_socket(SOCK_DGRAM, 0, kOtherCustomerHost, kPortA);
  if (!o) return Unexpected<Error>(o.error());
  g.udp_other_ = *o;
  auto i = bound_socket(SOCK_RAW, IPPROTO_ICMP, kCustomerHost, 0);
  if (!i) return Unexpected<Error>(i.error());
  g.icmp_ = *i;
  return g;
}

Generator::Generator(Generator&& o) noexcept
    : udp_a_(std::exchange(o.udp_a_, -1)),
      udp_b_(std::exchange(o.udp_b_, -1)),
      udp_other_(std::exchange(o.udp_other_, -1)),
      icmp_(std::exchange(o.icmp_, -1)),
      icmp_id_(o.icmp_id_),
      send_errors_(o.send_errors_) {}

Generator::~Generator() {
  close_fd(udp_a_);
  close_fd(udp_b_);
  close_fd(udp_other_);
  close_fd(icmp_);
}

bool Generator::send(std::uint32_t seq, Kind k) {
  ssize_t n = -1;
  std::size_t want = 0;
  if (k == Kind::kEchoRequest) {
    std::array<std::uint8_t, 8 + kIcmpPayload> msg{};
    msg[0] = 8;  // echo request (RFC 792)
    store_be16(msg, 4, icmp_id_);
    store_be16(msg, 6, static_cast<std::uint16_t>(seq));
    std::string p = payload(seq, kIcmpPayload);
    std::memcpy(msg.data() + 8, p.data(), p.size());
    store_be16(msg, 2, inet_checksum(msg.data(), msg.size()));
    sockaddr_in to = sockaddr_of(kDestination, 0);
    want = msg.size();
    n = sendto(icmp_, msg.data(), msg.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  } else {
    int fd = k == Kind::kUdpA ? udp_a_ : (k == Kind::kUdpB ? udp_b_ : udp_other_);
    std::uint16_t port = k == Kind::kUdpB ? kDstPortB : kDstPortA;
    sockaddr_in to = sockaddr_of(kDestination, port);
    std::string p = payload(seq, kUdpPayload);
    want = p.size();
    n = sendto(fd, p.data(), p.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  if (n != static_cast<ssize_t>(want)) {
    ++send_errors_;
    last_error_ = std::strerror(errno);
    return false;
  }
  return true;
}

std::vector<std::uint32_t> Generator::drain_replies() {
  std::vector<std::uint32_t> out;
  std::array<std::uint8_t, 2048> buf{};
  while (true) {
    ssize_t n = recv(icmp_, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    // Raw ICMP sockets receive the IP header too.
    Identity id = identify_ipv4(ByteSpan(buf.data(), static_cast<std::size_t>(n)));
    if (id.kind == Kind::kEchoReply && id.seq) out.push_back(*id.seq);
  }
  return out;
}

// --- Sink ---------------------------------------------------------------------------------------

Result<Sink> Sink::open(const std::string& destination_ns) {
  auto scope = NetnsScope::enter(destination_ns);
  if (!scope) return Unexpected<Error>(scope.error());
  Sink s;
  auto a = bound_socket(SOCK_DGRAM, 0, kDestination, kDstPortA);
  if (!a) return Unexpected<Error>(a.error());
  s.a_ = *a;
  auto b = bound_socket(SOCK_DGRAM, 0, kDestination, kDstPortB);
  if (!b) return Unexpected<Error>(b.error());
  s.b_ = *b;
  return s;
}

Sink::Sink(Sink&& o) noexcept
    : a_(std::exchange(o.a_, -1)), b_(std::exchange(o.b_, -1)), received_(o.received_) {}

Sink::~Sink() {
  close_fd(a_);
  close_fd(b_);
}

void Sink::drain(int fd) {
  std::array<std::uint8_t, 2048> buf{};
  while (recv(fd, buf.data(), buf.size(), 0) > 0) ++received_;
}

// --- WireTap ------------------------------------------------------------------------------------

Result<WireTap> WireTap::open(const std::string& collector_ns) {
  auto scope = NetnsScope::enter(collector_ns);
  if (!scope) return Unexpected<Error>(scope.error());
  WireTap t;
  auto fd = bound_socket(SOCK_RAW, IPPROTO_GRE, kCaptureServer, 0);
  if (!fd) return Unexpected<Error>(fd.error());
  t.fd_ = *fd;
  int big = 4 << 20;
  setsockopt(t.fd_, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  return t;
}

WireTap::WireTap(WireTap&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), copies_(std::move(o.copies_)) {}

WireTap::~WireTap() {
  close_fd(fd_);
}

void WireTap::drain() {
  std::array<std::uint8_t, 65536> buf{};
  while (true) {
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    ByteSpan p(buf.data(), static_cast<std::size_t>(n));
    if (p.size() < 20) continue;
    WireCopy c;
    std::size_t ihl = std::size_t{p[0] & 0x0Fu} * 4;
    c.outer_src = load_be32(p, 12);
    c.outer_dst = load_be32(p, 16);
    c.outer_ttl = p[8];
    if (p.size() < ihl + 4) {
      copies_.push_back(c);
      continue;
    }
    // GRE (RFC 2784 / RFC 2890): C, K, S flags select the optional words.
    ByteSpan gre = p.subspan(ihl);
    c.gre_flags = load_be16(gre, 0);
    c.gre_protocol = load_be16(gre, 2);
    std::size_t off = 4;
    if ((c.gre_flags & 0x8000) != 0) off += 4;
    if ((c.gre_flags & 0x2000) != 0 && gre.size() >= off + 4) {
      c.gre_key = load_be32(gre, off);
      off += 4;
    }
    if ((c.gre_flags & 0x1000) != 0 && gre.size() >= off + 4) {
      c.gre_seq = load_be32(gre, off);
      off += 4;
    }
    if (gre.size() >= off) {
      ByteSpan inner = gre.subspan(off);
      if (c.gre_protocol == 0x0800) {
        c.inner = identify_ipv4(inner);
      } else if (c.gre_protocol == 0x6558 && inner.size() >= 14 && load_be16(inner, 12) == 0x0800) {
        c.inner = identify_ipv4(inner.subspan(14));
      }
    }
    copies_.push_back(c);
  }
}

// --- pcap / pcapng reader -----------------------------------------------------------------------

namespace {

struct Endian {
  bool swap = false;
  std::uint32_t u32(ByteSpan b, std::size_t off) const {
    std::uint32_t v = load_host<std::uint32_t>(b, off);
    return swap ? __builtin_bswap32(v) : v;
  }
  std::uint16_t u16(ByteSpan b, std::size_t off) const {
    std::uint16_t v = load_host<std::uint16_t>(b, off);
    return swap ? __builtin_bswap16(v) : v;
  }
};

Identity identify_frame(std::uint32_t link_type, ByteSpan d) {
  switch (link_type) {
    case 101:  // LINKTYPE_RAW
    case 228:  // LINKTYPE_IPV4
      return identify_ipv4(d);
    case 1:  // LINKTYPE_ETHERNET
      if (d.size() >= 14 && load_be16(d, 12) == 0x0800) return identify_ipv4(d.subspan(14));
      break;
    case 113:  // LINKTYPE_LINUX_SLL
      if (d.size() >= 16 && load_be16(d, 14) == 0x0800) return identify_ipv4(d.subspan(16));
      break;
    case 276:  // LINKTYPE_LINUX_SLL2
      if (d.size() >= 20 && load_be16(d, 0) == 0x0800) return identify_ipv4(d.subspan(20));
      break;
    default:
      break;
  }
  Identity id;
  id.length = static_cast<std::uint32_t>(d.size());
  return id;
}

}  // namespace

Result<std::vector<FilePacket>> read_capture_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ExitCode::kInputUnreadable, fmt::format("cannot open {}", path));
  std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)),
                                 std::istreambuf_iterator<char>());
  ByteSpan all(data);
  std::vector<FilePacket> out;
  auto bad = [&](std::string_view why) {
    return make_error(ExitCode::kInputUnreadable, fmt::format("{}: {}", path, why));
  };
  if (all.size() < 24) return bad("too short for a capture file");
  std::uint32_t magic = load_host<std::uint32_t>(all, 0);
  if (magic == 0xA1B2C3D4 || magic == 0xD4C3B2A1 || magic == 0xA1B23C4D || magic == 0x4D3CB2A1) {
    Endian e{magic == 0xD4C3B2A1 || magic == 0x4D3CB2A1};
    std::uint32_t link = e.u32(all, 20) & 0x0FFFFFFF;
    std::size_t off = 24;
    while (off + 16 <= all.size()) {
      std::uint32_t caplen = e.u32(all, off + 8);
      if (off + 16 + caplen > all.size()) return bad("truncated record");
      out.push_back({0, link, identify_frame(link, all.subspan(off + 16, caplen))});
      off += 16 + caplen;
    }
    return out;
  }
  if (magic != 0x0A0D0D0A) return bad("neither pcap nor pcapng");
  // pcapng (protocols.md §5.2): SHB, IDB (link type per interface), EPB/SPB records.
  Endian e;
  std::vector<std::uint32_t> links;
  std::size_t off = 0;
  while (off + 12 <= all.size()) {
    std::uint32_t type = load_host<std::uint32_t>(all, off);
    if (type == 0x0A0D0D0A) {
      std::uint32_t bom = load_host<std::uint32_t>(all, off + 8);
      if (bom == 0x1A2B3C4D) {
        e.swap = false;
      } else if (bom == 0x4D3C2B1A) {
        e.swap = true;
      } else {
        return bad("bad byte-order magic");
      }
      links.clear();  // interface ids restart per section
    }
    std::uint32_t len = e.u32(all, off + 4);
    if (len < 12 || len % 4 != 0 || off + len > all.size()) return bad("bad block length");
    ByteSpan block = all.subspan(off, len);
    type = e.u32(block, 0);
    if (type == 1 && len >= 20) {  // IDB
      links.push_back(e.u16(block, 8));
    } else if (type == 6 && len >= 32) {  // EPB
      std::uint32_t ifid = e.u32(block, 8);
      std::uint32_t caplen = e.u32(block, 20);
      if (28 + std::size_t{caplen} > len) return bad("EPB captured length beyond its block");
      std::uint32_t link = ifid < links.size() ? links[ifid] : 0;
      out.push_back({ifid, link, identify_frame(link, block.subspan(28, caplen))});
    } else if (type == 3 && len >= 16 && !links.empty()) {  // SPB
      std::uint32_t orig = e.u32(block, 8);
      std::size_t caplen = std::min<std::size_t>(orig, len - 16);
      out.push_back({0, links[0], identify_frame(links[0], block.subspan(12, caplen))});
    }
    off += len;
  }
  return out;
}

}  // namespace portmirror::app::lab

#include "portmirror/io/packet_ring.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace portmirror::io {
namespace {

static_assert(sizeof(BpfInsn) == sizeof(sock_filter));
static_assert(sizeof(BpfInsn) == sizeof(bpf_insn));

constexpr std::uint16_t kVlanTagLen = 4;
constexpr std::uint16_t kTpidDot1q = 0x8100;
// TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): where the sockaddr_ll follows the header.
constexpr std::size_t kSllOffset =
    (sizeof(tpacket3_hdr) + TPACKET_ALIGNMENT - 1) & ~std::size_t{TPACKET_ALIGNMENT - 1};

std::string errno_text(int e) {
  return std::strerror(e);
}

Unexpected<Error> socket_error(const std::string& what, int e, const std::string& ifname) {
  if (e == EPERM || e == EACCES) {
    return make_error(ExitCode::kPermission,
                      what + " on " + ifname + ": " + errno_text(e) +
                          " — capturing needs CAP_NET_RAW (run as root, or `setcap "
                          "cap_net_raw,cap_net_admin+ep portmirror`)");
  }
  if (e == ENODEV || e == ENXIO) {
    return make_error(ExitCode::kNoSuchInterface, what + ": no interface named '" + ifname + "'");
  }
  return make_error(ExitCode::kFailure, what + " on " + ifname + ": " + errno_text(e));
}

// Prefixes a direction test on the packet type: `ldb pkttype; jeq #OUTGOING; ret #0` arranged so
// the user program (relative jumps, unchanged) runs only for the wanted direction.
BpfProgram with_direction(const BpfProgram& user, CaptureDirection dir, bool host_only) {
  BpfProgram out;
  constexpr std::uint32_t kAccept = 0x40000;
  if (host_only) {
    // Only frames this host received as its own (PACKET_HOST) and no longer VLAN-tagged (a tagged
    // frame is seen again, untagged, on its VLAN device).
    out.push_back(BpfInsn{BPF_LD | BPF_B | BPF_ABS, 0, 0,
                          static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)});
    out.push_back(BpfInsn{BPF_JMP | BPF_JEQ | BPF_K, 1, 0, PACKET_HOST});
    out.push_back(BpfInsn{BPF_RET | BPF_K, 0, 0, 0});
    out.push_back(BpfInsn{BPF_LD | BPF_W | BPF_ABS, 0, 0,
                          static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT)});
    out.push_back(BpfInsn{BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0});
    out.push_back(BpfInsn{BPF_RET | BPF_K, 0, 0, 0});
  }
  if (dir != CaptureDirection::kBoth) {
    out.push_back(BpfInsn{BPF_LD | BPF_B | BPF_ABS, 0, 0,
                          static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)});
    if (dir == CaptureDirection::kOut) {
      out.push_back(BpfInsn{BPF_JMP | BPF_JEQ | BPF_K, 1, 0, PACKET_OUTGOING});  // out: skip ret 0
    } else {
      out.push_back(
          BpfInsn{BPF_JMP | BPF_JEQ | BPF_K, 0, 1, PACKET_OUTGOING});  // in: drop outgoing
    }
    out.push_back(BpfInsn{BPF_RET | BPF_K, 0, 0, 0});
  }
  if (user.empty()) {
    out.push_back(BpfInsn{BPF_RET | BPF_K, 0, 0, kAccept});
  } else {
    out.insert(out.end(), user.begin(), user.end());
  }
  return out;
}

}  // namespace

Result<BpfProgram> compile_bpf(const std::string& expression, int dlt, std::uint32_t snaplen) {
  if (expression.empty()) return BpfProgram{};
  pcap_t* p = pcap_open_dead(dlt, static_cast<int>(snaplen));
  if (p == nullptr) return make_error(ExitCode::kFailure, "pcap_open_dead failed");
  bpf_program prog{};
  if (pcap_compile(p, &prog, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    std::string msg = pcap_geterr(p);
    pcap_close(p);
    return make_error(ExitCode::kBadFilter, "filter expression '" + expression + "': " + msg);
  }
  BpfProgram out(prog.bf_len);
  std::memcpy(out.data(), prog.bf_insns, prog.bf_len * sizeof(BpfInsn));
  pcap_freecode(&prog);
  pcap_close(p);
  if (out.size() > BPF_MAXINSNS - 3) {
    return make_error(ExitCode::kBadFilter, "filter expression '" + expression +
                                                "' compiles to more than 4093 BPF instructions");
  }
  return out;
}

bool bpf_accepts(const BpfProgram& program, ByteSpan data, std::uint32_t wire_len) noexcept {
  if (program.empty()) return true;
  bpf_insn* insns = const_cast<bpf_insn*>(reinterpret_cast<const bpf_insn*>(program.data()));
  return bpf_filter(insns, data.data(), wire_len, static_cast<u_int>(data.size())) != 0;
}

Result<PacketRing> PacketRing::open(const RingOptions& o) {
  PacketRing r;
  r.ifname_ = o.ifname;
  r.direction_ = o.direction;
  r.source_id_ = o.source_id;
  if (o.ifname.empty() || o.ifname.size() >= IF_NAMESIZE) {
    return make_error(ExitCode::kNoSuchInterface, "bad interface name '" + o.ifname + "'");
  }
  const unsigned idx = if_nametoindex(o.ifname.c_str());
  if (idx == 0) {
    return make_error(ExitCode::kNoSuchInterface,
                      "no interface named '" + o.ifname + "' (see `ip link show`)");
  }
  r.ifindex_ = static_cast<int>(idx);
  // Protocol 0: the socket receives nothing until bound with ETH_P_ALL below (§6.8 race).
  r.fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (r.fd_ < 0) return socket_error("socket(AF_PACKET)", errno, o.ifname);

  int v = TPACKET_V3;
  if (setsockopt(r.fd_, SOL_PACKET, PACKET_VERSION, &v, sizeof v) != 0)
    return socket_error("PACKET_VERSION TPACKET_V3", errno, o.ifname);
  unsigned reserve = kVlanTagLen;  // room to re-insert an offloaded VLAN tag in place
  if (setsockopt(r.fd_, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof reserve) != 0)
    return socket_error("PACKET_RESERVE", errno, o.ifname);
  if (o.direction == CaptureDirection::kIn) {
    int one = 1;
    // Best effort (Linux >= 4.20); the BPF prefix below filters outgoing frames anyway.
    (void)setsockopt(r.fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  }

  const long page = sysconf(_SC_PAGESIZE);
  std::uint32_t bs = o.block_size;
  if (page > 0 && bs % static_cast<std::uint32_t>(page) != 0) {
    return make_error(ExitCode::kUsage, "ring block size must be a multiple of the page size");
  }
  std::uint32_t fs = o.frame_size;
  if (fs < TPACKET_ALIGNMENT * 8 || fs % TPACKET_ALIGNMENT != 0 || fs > bs) fs = 2048;
  tpacket_req3 req{};
  req.tp_block_size = bs;
  req.tp_block_nr = o.block_count;
  req.tp_frame_size = fs;
  req.tp_frame_nr = (bs / fs) * o.block_count;
  req.tp_retire_blk_tov = o.retire_ms;
  req.tp_sizeof_priv = 0;
  req.tp_feature_req_word = 0;
  if (setsockopt(r.fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
    return socket_error(
        "PACKET_RX_RING (block " + std::to_string(bs) + " x " + std::to_string(o.block_count) + ")",
        errno, o.ifname);
  r.block_size_ = bs;
  r.block_count_ = o.block_count;
  r.map_size_ = std::size_t{bs} * o.block_count;
  void* m = mmap(nullptr, r.map_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, r.fd_, 0);
  if (m == MAP_FAILED) {
    // MAP_LOCKED can fail under RLIMIT_MEMLOCK; retry unlocked.
    m = mmap(nullptr, r.map_size_, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd_, 0);
  }
  if (m == MAP_FAILED) return socket_error("mmap of the ring", errno, o.ifname);
  r.map_ = static_cast<std::uint8_t*>(m);

  const BpfProgram prog = with_direction(o.filter, o.direction, o.host_only);
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(prog.size());
  fprog.filter = const_cast<sock_filter*>(reinterpret_cast<const sock_filter*>(prog.data()));
  if (setsockopt(r.fd_, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0)
    return socket_error("SO_ATTACH_FILTER", errno, o.ifname);

  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = r.ifindex_;
  if (bind(r.fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
    return socket_error("bind(AF_PACKET)", errno, o.ifname);
  if (o.promiscuous) {
    packet_mreq mr{};
    mr.mr_ifindex = r.ifindex_;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(r.fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0)
      return socket_error("PACKET_MR_PROMISC", errno, o.ifname);
  }
  // Discard whatever statistics accrued during setup.
  tpacket_stats_v3 st{};
  socklen_t len = sizeof st;
  (void)getsockopt(r.fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len);
  return r;
}

PacketRing::PacketRing(PacketRing&& o) noexcept {
  *this = std::move(o);
}

PacketRing& PacketRing::operator=(PacketRing&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    ifindex_ = o.ifindex_;
    ifname_ = std::move(o.ifname_);
    direction_ = o.direction_;
    source_id_ = o.source_id_;
    map_ = std::exchange(o.map_, nullptr);
    map_size_ = std::exchange(o.map_size_, 0);
    block_size_ = o.block_size_;
    block_count_ = o.block_count_;
    current_ = o.current_;
    block_ = std::exchange(o.block_, nullptr);
    next_pkt_ = std::exchange(o.next_pkt_, nullptr);
    remaining_ = std::exchange(o.remaining_, 0);
    stats_ = o.stats_;
  }
  return *this;
}

PacketRing::~PacketRing() {
  close();
}

void PacketRing::close() noexcept {
  if (map_ != nullptr) munmap(map_, map_size_);
  map_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool PacketRing::acquire_block() noexcept {
  if (block_ != nullptr) return true;
  if (map_ == nullptr) return false;
  auto* desc = reinterpret_cast<tpacket_block_desc*>(map_ + std::size_t{current_} * block_size_);
  const std::uint32_t status = __atomic_load_n(&desc->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
  if ((status & TP_STATUS_USER) == 0) return false;
  block_ = reinterpret_cast<std::uint8_t*>(desc);
  remaining_ = desc->hdr.bh1.num_pkts;
  next_pkt_ = block_ + desc->hdr.bh1.offset_to_first_pkt;
  return true;
}

bool PacketRing::next_frame(RingFrame& out) noexcept {
  while (block_ != nullptr && remaining_ > 0) {
    auto* h = reinterpret_cast<tpacket3_hdr*>(next_pkt_);
    --remaining_;
    next_pkt_ = h->tp_next_offset != 0 ? next_pkt_ + h->tp_next_offset : next_pkt_;
    const auto* sll =
        reinterpret_cast<const sockaddr_ll*>(reinterpret_cast<std::uint8_t*>(h) + kSllOffset);
    std::uint8_t* data = reinterpret_cast<std::uint8_t*>(h) + h->tp_mac;
    std::uint32_t caplen = h->tp_snaplen;
    std::uint32_t wirelen = h->tp_len;
    out.pkttype = sll->sll_pkttype;
    out.outgoing = sll->sll_pkttype == PACKET_OUTGOING;
    out.status = h->tp_status;
    out.vlan_reinserted = false;
    out.vlan_tci = 0;
    const bool vlan = (h->tp_status & TP_STATUS_VLAN_VALID) != 0 || h->hv1.tp_vlan_tci != 0;
    if (vlan && caplen >= 12 && h->tp_mac >= kVlanTagLen) {
      const std::uint16_t tpid =
          (h->tp_status & TP_STATUS_VLAN_TPID_VALID) != 0 ? h->hv1.tp_vlan_tpid : kTpidDot1q;
      std::memmove(data - kVlanTagLen, data, 12);
      data -= kVlanTagLen;
      store_be16(MutableByteSpan(data, 16), 12, tpid);
      store_be16(MutableByteSpan(data, 16), 14, static_cast<std::uint16_t>(h->hv1.tp_vlan_tci));
      caplen += kVlanTagLen;
      wirelen += kVlanTagLen;
      out.vlan_reinserted = true;
      out.vlan_tci = static_cast<std::uint16_t>(h->hv1.tp_vlan_tci);
    }
    out.frame.data = ByteSpan(data, caplen);
    out.frame.orig_len = wirelen;
    out.frame.ts = static_cast<TimestampNs>(h->tp_sec) * kNsPerSec + h->tp_nsec;
    out.frame.link = LinkType::kEthernet;
    out.frame.source_id = source_id_;
    return true;
  }
  return false;
}

void PacketRing::release_block() noexcept {
  if (block_ == nullptr) return;
  auto* desc = reinterpret_cast<tpacket_block_desc*>(block_);
  __atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  block_ = nullptr;
  next_pkt_ = nullptr;
  remaining_ = 0;
  current_ = (current_ + 1) % block_count_;
}

int PacketRing::take_error() noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (fd_ < 0 || getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return 0;
  return err;
}

bool PacketRing::interface_exists() const noexcept {
  return ifindex_ > 0 && if_nametoindex(ifname_.c_str()) == static_cast<unsigned>(ifindex_);
}

const RingStats& PacketRing::update_stats() noexcept {
  if (fd_ < 0) return stats_;
  tpacket_stats_v3 st{};
  socklen_t len = sizeof st;
  if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
    stats_.packets += st.tp_packets;
    stats_.drops += st.tp_drops;
    stats_.freezes += st.tp_freeze_q_cnt;
  }
  return stats_;
}

}  // namespace portmirror::io

// AF_PACKET TPACKET_V3 receive ring on one interface (protocols.md §6.2, §6.4, §6.8), shared by the
// mirror source and live capture's sniff mode.
//
//   auto ring = PacketRing::open({.ifname = "eth1", .direction = CaptureDirection::kIn});
//   poll(ring->fd() ...);
//   while (ring->acquire_block()) {
//     RingFrame f;
//     while (ring->next_frame(f)) use(f.frame);   // f.frame.data is valid until release_block()
//     ring->release_block();
//   }
//   ring->update_stats();                            // PACKET_STATISTICS, read-and-reset,
//   accumulated
//
// Setup follows §6.2 and closes the filter race of §6.8: the socket is created with protocol 0 (it
// receives nothing), the ring and the BPF program are installed, and only then is it bound to the
// interface with ETH_P_ALL. VLAN tags the NIC/veth offloaded into tp_vlan_tci are re-inserted into
// the frame in place (PACKET_RESERVE leaves the room), as libpcap does, so mirrored copies keep
// them. Direction: kIn sets PACKET_IGNORE_OUTGOING and drops PACKET_OUTGOING in the kernel filter;
// kOut keeps only PACKET_OUTGOING (a two-instruction prefix on the BPF program tests
// SKF_AD_PKTTYPE).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "portmirror/base/error.h"
#include "portmirror/packet/frame.h"

namespace portmirror::io {

enum class CaptureDirection : std::uint8_t { kIn, kOut, kBoth };

// One classic-BPF instruction, layout-identical to struct sock_filter / struct bpf_insn.
struct BpfInsn {
  std::uint16_t code;
  std::uint8_t jt;
  std::uint8_t jf;
  std::uint32_t k;
};
using BpfProgram = std::vector<BpfInsn>;

// Compiles a tcpdump expression for frames of `link_type` (DLT value; 1 = Ethernet) with libpcap.
// Errors carry libpcap's message and ExitCode::kBadFilter. An empty expression gives an empty
// program.
Result<BpfProgram> compile_bpf(const std::string& expression, int dlt = 1,
                               std::uint32_t snaplen = 262144);
// Runs `program` in user space (libpcap's bpf_filter); an empty program accepts everything.
bool bpf_accepts(const BpfProgram& program, ByteSpan data, std::uint32_t wire_len) noexcept;

struct RingOptions {
  std::string ifname;
  CaptureDirection direction = CaptureDirection::kBoth;
  std::uint32_t block_size = 1u << 20;  // power-of-two pages; bounds the largest frame
  std::uint32_t block_count = 32;
  std::uint32_t frame_size = 2048;  // validated by the kernel, not used for layout in V3
  std::uint32_t retire_ms = 10;     // hand partly filled blocks over after this long
  BpfProgram filter;                // empty = every frame
  bool promiscuous = false;
  // Only frames addressed to this host (PACKET_HOST) and not VLAN-tagged: a kernel BPF prefix, so
  // that "received by filter" counts only those (capture's receive mode ring).
  bool host_only = false;
  std::uint16_t source_id = 0;  // copied into every Frame
  int rcvbuf = 0;               // unused by rings; kept for symmetry with socket sources
};

struct RingFrame {
  Frame frame;               // Ethernet, VLAN tag re-inserted when the kernel had stripped it
  std::uint8_t pkttype = 0;  // PACKET_HOST, PACKET_BROADCAST, ..., PACKET_OUTGOING (4)
  bool outgoing = false;     // pkttype == PACKET_OUTGOING
  bool vlan_reinserted = false;
  std::uint16_t vlan_tci = 0;  // valid when vlan_reinserted
  std::uint32_t status = 0;    // tp_status (TP_STATUS_LOSING, CSUMNOTREADY, ...)
};

// Kernel counters accumulated across reads (PACKET_STATISTICS is read-and-reset, §6.4).
struct RingStats {
  std::uint64_t packets = 0;  // seen by the socket, including drops (tp_packets)
  std::uint64_t drops = 0;    // ring full (tp_drops)
  std::uint64_t freezes = 0;  // tp_freeze_q_cnt
  std::uint64_t delivered() const noexcept { return packets - drops; }
};

class PacketRing {
 public:
  static Result<PacketRing> open(const RingOptions& options);

  PacketRing(PacketRing&& o) noexcept;
  PacketRing& operator=(PacketRing&& o) noexcept;
  PacketRing(const PacketRing&) = delete;
  PacketRing& operator=(const PacketRing&) = delete;
  ~PacketRing();

  int fd() const noexcept { return fd_; }
  int ifindex() const noexcept { return ifindex_; }
  const std::string& ifname() const noexcept { return ifname_; }
  CaptureDirection direction() const noexcept { return direction_; }
  std::uint16_t source_id() const noexcept { return source_id_; }

  // True when the next block is owned by user space; then iterate it with next_frame().
  bool acquire_block() noexcept;
  bool next_frame(RingFrame& out) noexcept;
  // Returns the acquired block to the kernel; frames from it must no longer be used.
  void release_block() noexcept;

  // After poll() reported POLLERR: reads and clears the socket error (SO_ERROR; ENETDOWN when the
  // interface went down or away) and returns it. 0 if none was pending.
  int take_error() noexcept;
  // True while the interface the ring was bound to still exists under its index.
  bool interface_exists() const noexcept;

  // Reads PACKET_STATISTICS (read-and-reset) and adds it to the totals; returns the totals.
  const RingStats& update_stats() noexcept;
  const RingStats& stats() const noexcept { return stats_; }

 private:
  PacketRing() = default;
  void close() noexcept;

  int fd_ = -1;
  int ifindex_ = 0;
  std::string ifname_;
  CaptureDirection direction_ = CaptureDirection::kBoth;
  std::uint16_t source_id_ = 0;
  std::uint8_t* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::uint32_t block_size_ = 0;
  std::uint32_t block_count_ = 0;
  std::uint32_t current_ = 0;
  // Iteration state within the acquired block.
  std::uint8_t* block_ = nullptr;
  std::uint8_t* next_pkt_ = nullptr;
  std::uint32_t remaining_ = 0;
  RingStats stats_;
};

}  // namespace portmirror::io

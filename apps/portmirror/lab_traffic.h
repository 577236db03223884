// The lab's traffic: the seed's flows sent from the customer namespace, a UDP sink on the
// destination, and a tap on the capture server that sees the GRE packets on the wire.
// Every packet carries "portmirror-lab seq=NNNNNN" in its payload so each copy can be told apart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portmirror/base/bytes.h"
#include "portmirror/base/error.h"

namespace portmirror::app::lab {

// The seed's flows (tethereal output in remote-port-mirror.md) plus one the filter must not take.
enum class Kind : std::uint8_t {
  kUdpA,         // 192.168.70.5:49378 -> 10.0.45.8:18252
  kUdpB,         // 192.168.70.5:49380 -> 10.0.45.8:16968
  kEchoRequest,  // 192.168.70.5 -> 10.0.45.8 ICMP echo request
  kEchoReply,    // 10.0.45.8 -> 192.168.70.5 ICMP echo reply (leaves the router on t1-1/0/3:3)
  kOther,        // 192.168.71.5:49378 -> 10.0.45.8:18252 (another customer, outside the filter)
  kUnknown,
};
std::string_view kind_name(Kind k);

inline constexpr std::uint16_t kPortA = 49378, kDstPortA = 18252;
inline constexpr std::uint16_t kPortB = 49380, kDstPortB = 16968;

// Generation order: a repeating cycle of ten, alternating the two UDP flows like the seed.
Kind kind_for_index(std::uint32_t i);

// Header fields a firewall term looks at, for one packet.
struct PacketFields {
  std::uint32_t src = 0;  // host order
  std::uint32_t dst = 0;
  std::uint8_t protocol = 0;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint8_t icmp_type = 0;
  std::uint8_t icmp_code = 0;
  std::uint8_t dscp = 0;
};
PacketFields fields_for(Kind k);

// What an inner IPv4 packet is: its kind and lab sequence number (nullopt when the payload
// marker is missing, e.g. a copy truncated by maximum-packet-length).
struct Identity {
  Kind kind = Kind::kUnknown;
  std::optional<std::uint32_t> seq;
  std::uint32_t length = 0;
};
Identity identify_ipv4(ByteSpan packet);

// Sockets in the customer namespace (created via setns, used from the lab's own loop).
class Generator {
 public:
  static Result<Generator> open(const std::string& customer_ns, std::uint16_t icmp_id);
  Generator(Generator&& o) noexcept;
  Generator& operator=(Generator&&) = delete;
  Generator(const Generator&) = delete;
  ~Generator();

  // Sends packet `seq` of kind `k` (UDP A/B/other or echo request). Errors are counted.
  bool send(std::uint32_t seq, Kind k);
  int icmp_fd() const noexcept { return icmp_; }
  // Reads pending ICMP; returns the sequence numbers of our echo replies.
  std::vector<std::uint32_t> drain_replies();
  std::uint64_t send_errors() const noexcept { return send_errors_; }
  const std::string& last_error() const noexcept { return last_error_; }

 private:
  Generator() = default;
  int udp_a_ = -1, udp_b_ = -1, udp_other_ = -1, icmp_ = -1;
  std::uint16_t icmp_id_ = 0;
  std::uint64_t send_errors_ = 0;
  std::string last_error_;
};

// UDP receivers on 10.0.45.8:18252 and :16968, so the destination neither answers with port
// unreachable nor loses track of what arrived.
class Sink {
 public:
  static Result<Sink> open(const std::string& destination_ns);
  Sink(Sink&& o) noexcept;
  Sink& operator=(Sink&&) = delete;
  Sink(const Sink&) = delete;
  ~Sink();
  std::vector<int> fds() const { return {a_, b_}; }
  void drain(int fd);
  std::uint64_t received() const noexcept { return received_; }

 private:
  Sink() = default;
  int a_ = -1, b_ = -1;
  std::uint64_t received_ = 0;
};

// A raw IPPROTO_GRE socket on the capture server: sees every GRE packet that reaches
// 192.168.51.20, next to (not instead of) `portmirror capture`, for an independent count.
struct WireCopy {
  std::uint32_t outer_src = 0, outer_dst = 0;
  std::uint8_t outer_ttl = 0;
  std::uint16_t gre_flags = 0, gre_protocol = 0;
  std::optional<std::uint32_t> gre_key, gre_seq;
  Identity inner;
};

class WireTap {
 public:
  static Result<WireTap> open(const std::string& collector_ns);
  WireTap(WireTap&& o) noexcept;
  WireTap& operator=(WireTap&&) = delete;
  WireTap(const WireTap&) = delete;
  ~WireTap();
  int fd() const noexcept { return fd_; }
  void drain();
  const std::vector<WireCopy>& copies() const noexcept { return copies_; }

 private:
  WireTap() = default;
  int fd_ = -1;
  std::vector<WireCopy> copies_;
};

// Reads the inner packets of a pcap or pcapng file (link types RAW/IPV4, Ethernet, Linux SLL).
struct FilePacket {
  std::uint32_t interface_id = 0;
  std::uint32_t link_type = 0;
  Identity inner;
};
Result<std::vector<FilePacket>> read_capture_file(const std::string& path);

}  // namespace portmirror::app::lab

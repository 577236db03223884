// One output capture file (pcap or pcapng) of inner packets; the leaf of the sink chain.
// Link-type policy (issue 2 "Output"): by default every file and every pcapng interface is
// Ethernet, and IP payloads get a synthesized Ethernet header so that libpcap 1.10 (tcpdump) reads
// the file; kNative keeps LINKTYPE_RAW for IP payloads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "portmirror/base/error.h"
#include "portmirror/base/time.h"
#include "portmirror/collector/session.h"
#include "portmirror/io/sink.h"
#include "portmirror/packet/decapsulated.h"

namespace portmirror::io {

// Synthesized Ethernet header for IP payloads: locally administered unicast addresses (IEEE 802
// U/L bit set), documented in docs/output.md. EtherType 0x0800 or 0x86DD from the IP version.
inline constexpr std::array<std::uint8_t, 6> kSynthSrcMac{0x02, 0, 0, 0, 0, 0x01};
inline constexpr std::array<std::uint8_t, 6> kSynthDstMac{0x02, 0, 0, 0, 0, 0x02};
inline constexpr std::size_t kEthernetHeaderSize = 14;
// The largest record we write: libpcap rejects caplen above 262144 for most link types.
inline constexpr std::uint32_t kMaxSnaplen = 262144;

// Writes the synthesized header for the IP packet `ip` into `out` (>= 14 bytes).
void write_synth_ethernet(std::uint8_t* out, ByteSpan ip) noexcept;

struct WriterOptions {
  FileFormat format = FileFormat::kPcapng;
  LinkTypePolicy link_policy = LinkTypePolicy::kEthernet;
  std::uint32_t snaplen = 0;  // 0 = kMaxSnaplen
  std::string filter_text;    // pcapng if_filter
  bool flush_each_packet = false;
  std::size_t buffer_size = 1u << 20;
};

class CaptureWriter {
 public:
  virtual ~CaptureWriter() = default;
  // Appends one inner packet. False after a (sticky) write error; error() says what.
  virtual bool write(const collector::Session& session, const Decapsulated& d,
                     TimestampNs ts) noexcept = 0;
  // Writes closing blocks (pcapng: one ISB per session), flushes, closes. Idempotent.
  virtual bool close() noexcept = 0;
  virtual bool flush() noexcept = 0;
  // Packet bytes inside `region` stay valid until the writer's next flush or close (an mmap'ed
  // input file kept open until the output is closed): they are written without a copy.
  virtual void set_stable_region(ByteSpan region) noexcept = 0;
  virtual std::uint64_t bytes() const noexcept = 0;  // file size so far, buffered bytes included
  virtual std::uint64_t packets() const noexcept = 0;
  // Packets not written because this file cannot hold their link type (pcap, --linktype native).
  virtual std::uint64_t skipped() const noexcept = 0;
  virtual const Error* error() const noexcept = 0;
  virtual const std::string& path() const noexcept = 0;
};

// Opens `path` ("-" = standard output) and writes the file header.
Result<std::unique_ptr<CaptureWriter>> open_capture_writer(const std::string& path,
                                                           const WriterOptions& options);

}  // namespace portmirror::io

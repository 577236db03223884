// Output sinks of the collector (decap and capture share them): text lines, pcap, pcapng, composed
// as a chain  TextSink | SplitSink -> RotatingSink -> PcapWriter / PcapngWriter. Writers fill large
// buffers and issue few write() calls; -U flushes per packet; every close leaves a valid file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "portmirror/base/error.h"
#include "portmirror/base/time.h"
#include "portmirror/collector/session.h"
#include "portmirror/packet/decapsulated.h"

namespace portmirror::io {

enum class FileFormat : std::uint8_t { kPcap, kPcapNs, kPcapng };
enum class LinkTypePolicy : std::uint8_t {
  kEthernet,  // default: every output is Ethernet; IP payloads get a synthesized Ethernet header
  kNative,    // keep each session's own link type (RAW for IP payloads)
};
enum class SplitBy : std::uint8_t { kNone, kSender, kSession };

struct SinkOptions {
  std::string path;  // "-" = standard output
  FileFormat format = FileFormat::kPcapng;
  LinkTypePolicy link_policy = LinkTypePolicy::kEthernet;
  SplitBy split = SplitBy::kNone;
  std::string split_pattern;         // e.g. "out-%s-%k.pcapng"; default derived from path
  std::uint64_t rotate_bytes = 0;    // -C (bytes; the flag is in MB = 1,000,000 like tcpdump)
  std::uint32_t rotate_seconds = 0;  // -G
  std::uint32_t ring_files = 0;      // -W
  bool flush_each_packet = false;    // -U
  std::uint32_t snaplen = 0;         // 0 = no limit
  std::string filter_text;           // recorded in pcapng if_filter
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Writes one inner packet of `session` with timestamp `ts`. Errors (disk full) are sticky:
  // returns false, and error() says what; the caller stops and reports.
  virtual bool write(const collector::Session& session, const Decapsulated& d,
                     TimestampNs ts) noexcept = 0;
  // Flushes buffers (also writes pcapng statistics blocks when `final`), closes files validly.
  virtual bool close(const collector::SessionTable& sessions) noexcept = 0;
  virtual bool flush() noexcept = 0;
  virtual const Error* error() const noexcept = 0;
  // Packets accepted but not written because the output cannot hold their link type (pcap with
  // --linktype native and mixed payloads). Added by io; default 0.
  virtual std::uint64_t skipped() const noexcept { return 0; }
  // Names of the files written so far, in the order they were opened (added by io).
  virtual std::vector<std::string> files() const { return {}; }
};

// Opens the writer chain described by `options`.
Result<std::unique_ptr<Sink>> open_sink(const SinkOptions& options);

}  // namespace portmirror::io

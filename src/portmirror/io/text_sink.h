// The collector's screen output: one tcpdump-style line per inner packet, prefixed by the tunnel it
// came through, e.g.
//   gre 192.168.50.10 key - seq 12 | 10:11:15.842147 IP 192.168.70.5.49378 > 10.0.45.8.18252: UDP,
//   length 18
// The inner part follows tcpdump 4.99's default output for IPv4/IPv6 (TCP, UDP, ICMP, ICMPv6, GRE),
// ARP and other EtherTypes; -q, -v and -n behave as in tcpdump (see docs/capture.md for the
// limits).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>

#include "portmirror/base/time.h"
#include "portmirror/io/sink.h"
#include "portmirror/packet/decapsulated.h"

namespace portmirror::io {

struct TextOptions {
  bool numeric = false;  // -n: no port names (host names are never looked up)
  bool quiet = false;    // -q: less protocol detail
  int verbose = 0;       // -v: every tunnel field; the inner packet as tcpdump -v prints it
  bool utc = false;      // timestamps in UTC instead of local time (tests)
};

// Formats the tunnel prefix, " | ", and the inner packet into `out` without a newline; returns the
// length (truncated to out.size()). Never allocates; safe on any bytes.
std::size_t format_packet_line(const Decapsulated& d, TimestampNs ts, const TextOptions& options,
                               std::span<char> out) noexcept;

// Only the inner part (timestamp onwards), as tcpdump would print the inner packet.
std::size_t format_inner(ByteSpan inner, LinkType link, std::uint32_t orig_len, TimestampNs ts,
                         const TextOptions& options, std::span<char> out) noexcept;

// Only the tunnel prefix ("gre 192.168.50.10 key 0x1234 seq 12").
std::size_t format_tunnel(const TunnelInfo& t, const TextOptions& options,
                          std::span<char> out) noexcept;

// A Sink that prints lines to a stdio stream (stdout by default). Lines are buffered; flush()
// (called by the capture loop after each batch, and per packet with -U) makes them visible.
class TextSink final : public Sink {
 public:
  explicit TextSink(TextOptions options, std::FILE* out = stdout, bool flush_each = false);
  bool write(const collector::Session& session, const Decapsulated& d,
             TimestampNs ts) noexcept override;
  bool close(const collector::SessionTable& sessions) noexcept override;
  bool flush() noexcept override;
  const Error* error() const noexcept override { return failed_ ? &error_ : nullptr; }
  std::uint64_t lines() const noexcept { return lines_; }

 private:
  TextOptions options_;
  std::FILE* out_;
  bool flush_each_;
  bool failed_ = false;
  Error error_;
  std::uint64_t lines_ = 0;
  char line_[1024];
};

// Writes every packet to two sinks: `capture -w FILE --print` (tcpdump 4.99's --print) shows the
// lines while the file is written. Fails as soon as either fails; errors come from the first
// failure.
class TeeSink final : public Sink {
 public:
  TeeSink(std::unique_ptr<Sink> first, std::unique_ptr<Sink> second)
      : a_(std::move(first)), b_(std::move(second)) {}
  bool write(const collector::Session& session, const Decapsulated& d,
             TimestampNs ts) noexcept override {
    return a_->write(session, d, ts) && b_->write(session, d, ts);
  }
  bool close(const collector::SessionTable& sessions) noexcept override {
    bool x = a_->close(sessions);
    return b_->close(sessions) && x;
  }
  bool flush() noexcept override {
    bool x = a_->flush();
    return b_->flush() && x;
  }
  const Error* error() const noexcept override {
    return a_->error() != nullptr ? a_->error() : b_->error();
  }
  std::uint64_t skipped() const noexcept override { return a_->skipped() + b_->skipped(); }

 private:
  std::unique_ptr<Sink> a_;
  std::unique_ptr<Sink> b_;
};

}  // namespace portmirror::io

// pcap (libpcap format 2.4) writer, µs or ns timestamps, native byte order. protocols.md §5.1.
#pragma once

#include <memory>

#include "portmirror/io/capture_writer.h"
#include "portmirror/io/output_file.h"

namespace portmirror::io {

class PcapWriter final : public CaptureWriter {
 public:
  // `options.format` must be kPcap or kPcapNs. With kNative, the file's link type is that of the
  // first packet (the header is written lazily); later packets of another link type are written
  // with a synthesized Ethernet header if the file is Ethernet, else skipped and counted.
  static Result<std::unique_ptr<PcapWriter>> open(const std::string& path,
                                                  const WriterOptions& options);

  bool write(const collector::Session& session, const Decapsulated& d,
             TimestampNs ts) noexcept override;
  bool close() noexcept override;
  bool flush() noexcept override;
  void set_stable_region(ByteSpan region) noexcept override;
  std::uint64_t bytes() const noexcept override { return out_->size(); }
  std::uint64_t packets() const noexcept override { return packets_; }
  std::uint64_t skipped() const noexcept override { return skipped_; }
  const Error* error() const noexcept override { return out_->error(); }
  const std::string& path() const noexcept override { return out_->path(); }

  static constexpr std::size_t kFileHeaderSize = 24;
  static constexpr std::size_t kRecordHeaderSize = 16;

 private:
  PcapWriter(std::unique_ptr<OutputFile> out, const WriterOptions& options);
  bool write_header(LinkType link) noexcept;

  std::unique_ptr<OutputFile> out_;
  bool nanos_;
  bool native_;
  bool flush_each_;
  std::uint32_t snaplen_;
  bool header_written_ = false;
  LinkType link_ = LinkType::kEthernet;
  std::uint64_t packets_ = 0;
  std::uint64_t skipped_ = 0;
  bool closed_ = false;
};

}  // namespace portmirror::io

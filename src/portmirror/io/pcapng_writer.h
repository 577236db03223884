// pcapng writer (draft-ietf-opsawg-pcapng; protocols.md §5.2): SHB, one IDB per tunnel session (and
// inner link type under --linktype native) whose if_name/if_description carry the session, EPBs
// with ERSPAN direction/T bit/VLAN as epb_flags and opt_comment, and one ISB per session at close.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "portmirror/io/capture_writer.h"
#include "portmirror/io/output_file.h"

namespace portmirror::io {

// Interface name, e.g. "erspan2:10.0.0.1>10.0.0.2:341" ("gre:a>b" without key; "untunnelled").
std::string interface_name(const collector::Session& s);
// Human-readable description of the session and how its packets were written.
std::string interface_description(const collector::Session& s, const TunnelInfo& t, LinkType inner,
                                  bool synthesized_ethernet);

class PcapngWriter final : public CaptureWriter {
 public:
  // Block types and option codes used (protocols.md §5.2).
  static constexpr std::uint32_t kShb = 0x0A0D0D0A;
  static constexpr std::uint32_t kIdb = 0x00000001;
  static constexpr std::uint32_t kEpb = 0x00000006;
  static constexpr std::uint32_t kIsb = 0x00000005;
  static constexpr std::uint32_t kByteOrderMagic = 0x1A2B3C4D;

  static Result<std::unique_ptr<PcapngWriter>> open(const std::string& path,
                                                    const WriterOptions& options);

  bool write(const collector::Session& session, const Decapsulated& d,
             TimestampNs ts) noexcept override;
  bool close() noexcept override;
  bool flush() noexcept override;
  std::uint64_t bytes() const noexcept override { return out_->size(); }
  std::uint64_t packets() const noexcept override { return packets_; }
  std::uint64_t skipped() const noexcept override { return 0; }
  const Error* error() const noexcept override { return out_->error(); }
  const std::string& path() const noexcept override { return out_->path(); }
  std::size_t interface_count() const noexcept { return interfaces_.size(); }

 private:
  struct Interface {
    const collector::Session* session;  // stable: SessionTable reserves its storage up front
    bool first_of_session;              // the one that carries the session's ISB
  };
  PcapngWriter(std::unique_ptr<OutputFile> out, const WriterOptions& options);
  bool write_shb() noexcept;
  [[gnu::cold]] std::int32_t add_interface(const collector::Session& s, const Decapsulated& d,
                                           LinkType file_link) noexcept;
  bool write_isbs() noexcept;
  bool write_placeholder_idb() noexcept;

  std::unique_ptr<OutputFile> out_;
  bool native_;
  bool flush_each_;
  std::uint32_t snaplen_;
  std::string filter_text_;
  // Interface id per session index and output link type (0 = Ethernet, 1 = RAW); -1 = none yet.
  std::vector<std::array<std::int32_t, 2>> by_session_;
  std::vector<Interface> interfaces_;
  std::uint64_t packets_ = 0;
  bool closed_ = false;
};

}  // namespace portmirror::io

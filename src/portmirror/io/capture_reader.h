// Reads capture files into Frames: pcap (µs/ns, either byte order) through a zero-copy walk over an
// mmap'ed file, pcapng (and standard input) through libpcap. protocols.md §5.1–5.3.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "portmirror/base/bytes.h"
#include "portmirror/base/error.h"
#include "portmirror/packet/frame.h"

namespace portmirror::io {

class CaptureReader {
 public:
  // Records whose captured length exceeds this are treated as corruption (libpcap's own limit is
  // 262144 for most link types; we accept Linux BIG TCP / GSO frames up to this bound).
  static constexpr std::uint32_t kMaxCaplen = 16u << 20;

  // Opens `path` ("-" = standard input). Errors: kInputUnreadable (cannot open, not a capture
  // file), kUnknownLinkType (a link type the walk cannot start from).
  static Result<std::unique_ptr<CaptureReader>> open(const std::string& path,
                                                     std::uint16_t source_id = 0);
  // Reads a capture held in memory (fuzzing, tests). `data` must outlive the reader.
  static Result<std::unique_ptr<CaptureReader>> open_memory(ByteSpan data,
                                                            std::uint16_t source_id = 0);

  virtual ~CaptureReader() = default;
  // The next frame, its bytes borrowed until the next call. False at the end of the input, or at a
  // record that is cut short or corrupt (then truncated() is true and warning() says where).
  virtual bool next(Frame& out) noexcept = 0;

  LinkType link_type() const noexcept { return link_; }
  bool truncated() const noexcept { return truncated_; }
  const std::string& warning() const noexcept { return warning_; }
  std::uint64_t frames() const noexcept { return frames_; }
  // Bytes consumed so far and in total (0 when unknown), for a progress bar.
  virtual std::uint64_t position() const noexcept = 0;
  std::uint64_t size() const noexcept { return size_; }
  const std::string& path() const noexcept { return path_; }
  bool nanosecond_file() const noexcept { return nanos_; }
  // The bytes every frame borrows from when they stay valid for the reader's lifetime (the mmap'ed
  // pcap file); empty when frames are only valid until the next call (libpcap).
  virtual ByteSpan stable_bytes() const noexcept { return {}; }

 protected:
  [[gnu::cold]] void set_truncated(std::string what) noexcept;

  std::string path_;
  LinkType link_ = LinkType::kEthernet;
  std::uint16_t source_id_ = 0;
  bool truncated_ = false;
  bool nanos_ = false;
  std::string warning_;
  std::uint64_t frames_ = 0;
  std::uint64_t size_ = 0;
};

}  // namespace portmirror::io

// Buffered output to a file (or standard output): one large buffer, few writev() calls, sticky
// errors, and a file that stays valid when the disk fills up (cut back to the last whole record).
// Packet bytes that lie in a registered stable region (an mmap'ed input file) are not copied: the
// iovec list points at them and the kernel copies them once, straight into the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "portmirror/base/bytes.h"
#include "portmirror/base/error.h"

namespace portmirror::io {

class OutputFile {
 public:
  // Size of the record (pcap record, pcapng block, file header) starting at `p`, which lies at
  // `file_offset` in the file. Used after a short write to find the last complete record.
  using RecordSizeFn = std::size_t (*)(const std::uint8_t* p, std::uint64_t file_offset) noexcept;

  // The largest record a writer may reserve: a 262144-byte packet plus block header and options.
  static constexpr std::size_t kMaxRecord = 262144 + 8192;
  static constexpr std::size_t kDefaultBuffer = 1u << 20;

  // Creates/truncates `path` ("-" = standard output). Errors carry ExitCode::kOutputUnwritable.
  static Result<std::unique_ptr<OutputFile>> open(const std::string& path, RecordSizeFn record_size,
                                                  std::size_t buffer_size = kDefaultBuffer);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Space for one record of `n` <= kMaxRecord bytes (flushes first when the buffer is full);
  // nullptr after a sticky error. The caller fills it and calls commit(n).
  std::uint8_t* reserve(std::size_t n) noexcept;
  void commit(std::size_t n) noexcept { used_ += n; }

  // A record in parts: begin_record() with an upper bound of the bytes the buffer must take (the
  // parts written with put(), plus put_data() bytes unless they are stable); flushes only here, so
  // the buffer always starts at a record boundary. False after a sticky error.
  bool begin_record(std::size_t buffered_max) noexcept;
  // `n` bytes of the current record, in the buffer (already committed).
  std::uint8_t* put(std::size_t n) noexcept {
    std::uint8_t* p = buf_.get() + used_;
    used_ += n;
    return p;
  }
  // Packet bytes of the current record: referenced if inside the stable region, else copied.
  void put_data(ByteSpan d) noexcept;
  // Bytes in [region] stay valid until this file's next flush/close (e.g. an mmap'ed input that
  // outlives the output). Empty = copy everything.
  void set_stable_region(ByteSpan region) noexcept { stable_ = region; }
  bool is_stable(ByteSpan d) const noexcept {
    return !stable_.empty() && d.data() >= stable_.data() &&
           d.data() + d.size() <= stable_.data() + stable_.size();
  }

  bool flush() noexcept;
  // Flushes and closes. Idempotent; returns false if anything ever failed.
  bool close() noexcept;

  // Bytes in the file including those still buffered.
  std::uint64_t size() const noexcept { return flushed_ + used_ + ref_bytes_; }
  const std::string& path() const noexcept { return path_; }
  bool is_stdout() const noexcept { return is_stdout_; }
  const Error* error() const noexcept { return failed_ ? &error_ : nullptr; }

 private:
  OutputFile(std::string path, int fd, bool is_stdout, RecordSizeFn fn, std::size_t cap);
  [[gnu::cold]] void fail(int err, std::uint64_t written) noexcept;
  // Pointer to byte `off` of the pending (unflushed) stream; null if out of range.
  const std::uint8_t* pending_at(std::uint64_t off) const noexcept;
  void close_segment() noexcept;

  // Pending stream = segments_[0..nseg_) then the buffer tail from seg_start_ to used_.
  static constexpr std::size_t kMaxSegments = 1000;  // < IOV_MAX (1024)
  struct Segment {
    const std::uint8_t* data;
    std::size_t size;
  };

  std::string path_;
  int fd_ = -1;
  bool is_stdout_ = false;
  RecordSizeFn record_size_;
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t cap_ = 0;
  std::size_t used_ = 0;
  std::uint64_t flushed_ = 0;
  std::uint64_t ref_bytes_ = 0;  // pending bytes referenced in the stable region
  std::size_t seg_start_ = 0;    // start of the buffer part not yet in segments_
  std::unique_ptr<Segment[]> segments_;
  std::size_t nseg_ = 0;
  ByteSpan stable_;
  bool failed_ = false;
  Error error_;
};

}  // namespace portmirror::io

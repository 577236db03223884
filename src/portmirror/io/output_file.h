// Buffered output to a file (or standard output): one large buffer, few write() calls, sticky
// errors, and a file that stays valid when the disk fills up (cut back to the last whole record).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

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

  bool flush() noexcept;
  // Flushes and closes. Idempotent; returns false if anything ever failed.
  bool close() noexcept;

  // Bytes in the file including those still buffered.
  std::uint64_t size() const noexcept { return flushed_ + used_; }
  const std::string& path() const noexcept { return path_; }
  bool is_stdout() const noexcept { return is_stdout_; }
  const Error* error() const noexcept { return failed_ ? &error_ : nullptr; }

 private:
  OutputFile(std::string path, int fd, bool is_stdout, RecordSizeFn fn, std::size_t cap);
  [[gnu::cold]] void fail(int err, std::size_t written_of_buffer) noexcept;

  std::string path_;
  int fd_ = -1;
  bool is_stdout_ = false;
  RecordSizeFn record_size_;
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t cap_ = 0;
  std::size_t used_ = 0;
  std::uint64_t flushed_ = 0;
  bool failed_ = false;
  Error error_;
};

}  // namespace portmirror::io

#include "portmirror/io/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

namespace portmirror::io {

Result<std::unique_ptr<OutputFile>> OutputFile::open(const std::string& path,
                                                     RecordSizeFn record_size,
                                                     std::size_t buffer_size) {
  if (buffer_size < 2 * kMaxRecord) buffer_size = 2 * kMaxRecord;
  if (path == "-") {
    return std::unique_ptr<OutputFile>(
        new OutputFile(path, STDOUT_FILENO, true, record_size, buffer_size));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(ExitCode::kOutputUnwritable,
                      fmt::format("cannot create output file {}: {}", path, std::strerror(errno)));
  }
  return std::unique_ptr<OutputFile>(new OutputFile(path, fd, false, record_size, buffer_size));
}

OutputFile::OutputFile(std::string path, int fd, bool is_stdout, RecordSizeFn fn, std::size_t cap)
    : path_(std::move(path)),
      fd_(fd),
      is_stdout_(is_stdout),
      record_size_(fn),
      buf_(new std::uint8_t[cap]),
      cap_(cap) {}

OutputFile::~OutputFile() {
  (void)close();
}

std::uint8_t* OutputFile::reserve(std::size_t n) noexcept {
  if (failed_ || fd_ < 0 || n > kMaxRecord) return nullptr;
  if (used_ + n > cap_ && !flush()) return nullptr;
  return buf_.get() + used_;
}

bool OutputFile::flush() noexcept {
  if (failed_) return false;
  if (fd_ < 0) return true;
  std::size_t done = 0;
  while (done < used_) {
    ssize_t w = ::write(fd_, buf_.get() + done, used_ - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail(errno, done);
      return false;
    }
    if (w == 0) {
      fail(ENOSPC, done);
      return false;
    }
    done += static_cast<std::size_t>(w);
  }
  flushed_ += used_;
  used_ = 0;
  return true;
}

void OutputFile::fail(int err, std::size_t written) noexcept {
  failed_ = true;
  // The buffer starts at a record boundary and holds whole records: find the last one that made it
  // to disk completely and cut the file back to it, so readers see a valid file.
  std::size_t keep = 0;
  while (keep < used_) {
    std::size_t r = record_size_(buf_.get() + keep, flushed_ + keep);
    if (r == 0 || keep + r > written) break;
    keep += r;
  }
  std::uint64_t valid = flushed_ + keep;
  bool cut = false;
  if (!is_stdout_) {
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
      cut = ::ftruncate(fd_, static_cast<off_t>(valid)) == 0;
    }
  }
  try {
    error_ = Error{ExitCode::kOutputUnwritable,
                   fmt::format("cannot write {}: {}{}", is_stdout_ ? "standard output" : path_,
                               std::strerror(err),
                               cut ? fmt::format(" (file kept valid up to the last complete "
                                                 "record, {} bytes)",
                                                 valid)
                                   : std::string()),
                   std::nullopt};
  } catch (...) {
    error_.code = ExitCode::kOutputUnwritable;
  }
  flushed_ = valid;
  used_ = 0;
}

bool OutputFile::close() noexcept {
  if (fd_ < 0) return !failed_;
  bool ok = flush();
  if (!is_stdout_) {
    if (::close(fd_) != 0 && ok) {
      int e = errno;
      failed_ = true;
      try {
        error_ = Error{ExitCode::kOutputUnwritable,
                       fmt::format("cannot close {}: {}", path_, std::strerror(e)), std::nullopt};
      } catch (...) {
      }
      ok = false;
    }
  }
  fd_ = -1;
  return ok && !failed_;
}

}  // namespace portmirror::io

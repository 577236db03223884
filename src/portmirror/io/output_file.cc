#include "portmirror/io/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
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
      cap_(cap),
      segments_(new Segment[kMaxSegments]) {}

OutputFile::~OutputFile() {
  (void)close();
}

std::uint8_t* OutputFile::reserve(std::size_t n) noexcept {
  if (!begin_record(n)) return nullptr;
  return buf_.get() + used_;
}

bool OutputFile::begin_record(std::size_t buffered_max) noexcept {
  if (failed_ || fd_ < 0 || buffered_max > kMaxRecord) return false;
  if ((used_ + buffered_max > cap_ || nseg_ + 4 > kMaxSegments) && !flush()) return false;
  return true;
}

void OutputFile::close_segment() noexcept {
  if (used_ > seg_start_) {
    segments_[nseg_++] = Segment{buf_.get() + seg_start_, used_ - seg_start_};
    seg_start_ = used_;
  }
}

void OutputFile::put_data(ByteSpan d) noexcept {
  if (d.empty()) return;
  if (is_stable(d) && nseg_ + 2 < kMaxSegments) {
    close_segment();
    segments_[nseg_++] = Segment{d.data(), d.size()};
    ref_bytes_ += d.size();
    return;
  }
  std::memcpy(buf_.get() + used_, d.data(), d.size());
  used_ += d.size();
}

const std::uint8_t* OutputFile::pending_at(std::uint64_t off) const noexcept {
  for (std::size_t i = 0; i < nseg_; ++i) {
    if (off < segments_[i].size) return segments_[i].data + off;
    off -= segments_[i].size;
  }
  return off < used_ - seg_start_ ? buf_.get() + seg_start_ + off : nullptr;
}

bool OutputFile::flush() noexcept {
  if (failed_) return false;
  if (fd_ < 0) return true;
  close_segment();
  std::uint64_t total = used_ + ref_bytes_;
  std::uint64_t done = 0;
  std::size_t first = 0;      // first segment not completely written
  std::size_t first_off = 0;  // bytes of it already written
  iovec iov[kMaxSegments];
  while (first < nseg_) {
    std::size_t n = 0;
    for (std::size_t i = first; i < nseg_; ++i, ++n) {
      std::size_t skip = i == first ? first_off : 0;
      // The kernel reads the iovec; the cast drops const only to fit struct iovec.
      iov[n].iov_base = const_cast<std::uint8_t*>(segments_[i].data + skip);
      iov[n].iov_len = segments_[i].size - skip;
    }
    ssize_t w = ::writev(fd_, iov, static_cast<int>(n));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      fail(w < 0 ? errno : ENOSPC, done);
      return false;
    }
    done += static_cast<std::uint64_t>(w);
    auto left = static_cast<std::size_t>(w);
    while (first < nseg_ && left >= segments_[first].size - first_off) {
      left -= segments_[first].size - first_off;
      ++first;
      first_off = 0;
    }
    first_off += left;
  }
  flushed_ += total;
  used_ = 0;
  seg_start_ = 0;
  nseg_ = 0;
  ref_bytes_ = 0;
  return true;
}

void OutputFile::fail(int err, std::uint64_t written) noexcept {
  failed_ = true;
  // The pending stream starts at a record boundary and holds whole records (their headers are in
  // the buffer): find the last one that reached the disk completely and cut the file back to it,
  // so readers see a valid file.
  std::uint64_t pending = used_ + ref_bytes_;
  std::uint64_t keep = 0;
  while (keep < pending) {
    const std::uint8_t* p = pending_at(keep);
    if (p == nullptr) break;
    std::size_t r = record_size_(p, flushed_ + keep);
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
  seg_start_ = 0;
  nseg_ = 0;
  ref_bytes_ = 0;
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

#include "portmirror/io/capture_reader.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/core.h>

namespace portmirror::io {
namespace {

constexpr std::uint32_t kMagicMicros = 0xA1B2C3D4;
constexpr std::uint32_t kMagicNanos = 0xA1B23C4D;
constexpr std::size_t kFileHeader = 24;
constexpr std::size_t kRecordHeader = 16;

Unexpected<Error> unknown_link(const std::string& path, std::uint32_t lt) {
  return make_error(ExitCode::kUnknownLinkType,
                    fmt::format("{}: unsupported link type {} (supported: EN10MB 1, RAW 101/12, "
                                "NULL 0, LOOP 108, LINUX_SLL 113, IPV4 228, IPV6 229, "
                                "LINUX_SLL2 276)",
                                path, lt));
}

// pcap: a bounds-checked walk over bytes in memory. Two ways to get them there:
//  - borrowed (open_memory, or an mmap'ed file when PM_READER=mmap): frames point straight into it;
//  - streamed (regular files, the default): read() into one reused buffer, compacted when a record
//    straddles its end. The kernel copies from the page cache at memory speed and the bytes we then
//    copy to the output are cache-hot; with a 4 KiB-page mapping every first touch of a page costs
//    a fault/TLB miss instead. Measured on the 1M-packet decap benchmark (README "Benchmarks").
class PcapMemoryReader final : public CaptureReader {
 public:
  static constexpr std::size_t kStreamChunk = std::size_t{1} << 20;  // bytes per refill
  // Room for the largest record plus a chunk; allocated once per input, touched as used.
  static constexpr std::size_t kStreamBuffer = kMaxCaplen + kRecordHeader + kStreamChunk;

  PcapMemoryReader(std::string path, ByteSpan data, void* mapping, std::uint16_t source_id)
      : data_(data), mapping_(mapping), mapped_size_(data.size()) {
    path_ = std::move(path);
    source_id_ = source_id;
    size_ = data.size();
  }
  // Streaming constructor: takes ownership of `fd`.
  PcapMemoryReader(std::string path, int fd, std::uint64_t size, std::uint16_t source_id)
      : mapping_(nullptr),
        fd_(fd),
        buffer_(std::make_unique_for_overwrite<std::uint8_t[]>(kStreamBuffer)) {
    path_ = std::move(path);
    source_id_ = source_id;
    size_ = size;
  }
  ~PcapMemoryReader() override {
    if (mapping_ != nullptr) ::munmap(mapping_, mapped_size_);
    if (fd_ >= 0) ::close(fd_);
  }

  Result<void> parse_header() {
    if (!ensure(kFileHeader)) {
      return make_error(ExitCode::kInputUnreadable,
                        fmt::format("{}: cannot read the pcap file header", path_));
    }
    std::uint32_t magic = load_host<std::uint32_t>(data_, 0);
    if (magic == kMagicMicros || magic == kMagicNanos) {
      swapped_ = false;
    } else if (__builtin_bswap32(magic) == kMagicMicros ||
               __builtin_bswap32(magic) == kMagicNanos) {
      swapped_ = true;
      magic = __builtin_bswap32(magic);
    }
    nanos_ = magic == kMagicNanos;
    // Bits 0-15 are the link type; the FCS and class bits above are not part of it (§5.1).
    std::uint32_t lt = u32(20) & 0xFFFFu;
    if (!link_type_from_file(lt, link_)) return unknown_link(path_, lt);
    pos_ = kFileHeader;
    return {};
  }

  bool next(Frame& out) noexcept override {
    if (!ensure(kRecordHeader)) {
      if (pos_ >= data_.size()) return false;
      set_truncated(fmt::format("record header cut short at offset {} ({} of {} bytes)",
                                base_ + pos_, data_.size() - pos_, kRecordHeader));
      return false;
    }
    std::uint32_t sec = u32(pos_);
    std::uint32_t frac = u32(pos_ + 4);
    std::uint32_t caplen = u32(pos_ + 8);
    std::uint32_t orig = u32(pos_ + 12);
    if (caplen > kMaxCaplen) {
      set_truncated(
          fmt::format("record at offset {} has an impossible length {}", base_ + pos_, caplen));
      return false;
    }
    if (!ensure(kRecordHeader + caplen)) {
      set_truncated(fmt::format("record at offset {} cut short ({} of {} bytes)", base_ + pos_,
                                data_.size() - pos_ - kRecordHeader, caplen));
      return false;
    }
    std::size_t start = pos_ + kRecordHeader;
    out.data = data_.subspan(start, caplen);
    out.orig_len = orig < caplen ? caplen : orig;
    out.ts = static_cast<TimestampNs>(sec) * kNsPerSec +
             static_cast<TimestampNs>(nanos_ ? frac : std::uint64_t{frac} * 1000);
    out.link = link_;
    out.source_id = source_id_;
    pos_ = start + caplen;
    ++frames_;
    return true;
  }

  std::uint64_t position() const noexcept override { return base_ + pos_; }
  ByteSpan stable_bytes() const noexcept override { return fd_ >= 0 ? ByteSpan{} : data_; }

 private:
  // Makes at least `need` bytes available at pos_ if the input has them. In streaming mode the
  // unread rest moves to the front of the buffer and read() adds at least a chunk (no allocation:
  // kStreamBuffer holds the largest record plus a chunk). The previous frame's bytes become
  // invalid, which the reader contract allows ("borrowed until the next call").
  bool ensure(std::size_t need) noexcept {
    if (data_.size() - pos_ >= need) return true;
    if (fd_ < 0 || eof_) return false;
    std::size_t rest = data_.size() - pos_;
    if (rest > 0) std::memmove(buffer_.get(), data_.data() + pos_, rest);
    base_ += pos_;
    pos_ = 0;
    std::size_t have = rest;
    const std::size_t want = std::max(need, kStreamChunk);
    while (have < want) {
      // Read only up to `want`: the buffer is sized for the largest record, but touching all of it
      // costs a page fault per 4 KiB (5,000 on a 20 MiB buffer, expensive under virtualisation)
      // and evicts the cache; the front chunk stays resident and hot.
      ssize_t n = ::read(fd_, buffer_.get() + have, want - have);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // end of file, or a read error: what was read is used, then truncation
        eof_ = true;
        break;
      }
      have += static_cast<std::size_t>(n);
    }
    data_ = ByteSpan(buffer_.get(), have);
    return have >= need;
  }

  std::uint32_t u32(std::size_t off) const noexcept {
    std::uint32_t v = load_host<std::uint32_t>(data_, off);
    return swapped_ ? __builtin_bswap32(v) : v;
  }

  ByteSpan data_;
  void* mapping_;
  std::size_t mapped_size_ = 0;
  int fd_ = -1;
  bool eof_ = false;
  std::unique_ptr<std::uint8_t[]> buffer_;  // streaming mode only; pages touched as used
  std::uint64_t base_ = 0;                  // file offset of data_[0]
  bool swapped_ = false;
  std::size_t pos_ = 0;
};

// pcapng, standard input and anything else libpcap can read.
class LibpcapReader final : public CaptureReader {
 public:
  LibpcapReader(std::string path, pcap_t* p, std::uint16_t source_id, std::uint64_t size) : p_(p) {
    path_ = std::move(path);
    source_id_ = source_id;
    size_ = size;
    nanos_ = true;
  }
  ~LibpcapReader() override { pcap_close(p_); }

  Result<void> check_link() {
    auto lt = static_cast<std::uint32_t>(pcap_datalink(p_));
    if (!link_type_from_file(lt, link_)) return unknown_link(path_, lt);
    return {};
  }

  bool next(Frame& out) noexcept override {
    if (done_) return false;
    pcap_pkthdr* h = nullptr;
    const u_char* d = nullptr;
    int r = pcap_next_ex(p_, &h, &d);
    if (r == 1) {
      out.data = ByteSpan(d, h->caplen);
      out.orig_len = h->len < h->caplen ? h->caplen : h->len;
      out.ts = timestamp_from(static_cast<std::int64_t>(h->ts.tv_sec),
                              static_cast<std::int64_t>(h->ts.tv_usec));  // ns precision requested
      out.link = link_;
      out.source_id = source_id_;
      ++frames_;
      return true;
    }
    done_ = true;
    if (r == PCAP_ERROR) set_truncated(pcap_geterr(p_));
    return false;
  }

  std::uint64_t position() const noexcept override {
    FILE* f = pcap_file(p_);
    long at = f != nullptr ? std::ftell(f) : -1;
    return at < 0 ? 0 : static_cast<std::uint64_t>(at);
  }

 private:
  pcap_t* p_;
  bool done_ = false;
};

Result<std::unique_ptr<CaptureReader>> open_libpcap(const std::string& path, FILE* f,
                                                    std::uint16_t source_id, std::uint64_t size) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = nullptr;
  if (f != nullptr) {
    p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == nullptr) std::fclose(f);
  } else {
    p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  }
  if (p == nullptr) {
    return make_error(ExitCode::kInputUnreadable,
                      fmt::format("{}: not a readable pcap or pcapng file: {}", path, err));
  }
  auto r = std::make_unique<LibpcapReader>(path, p, source_id, size);
  if (auto ok = r->check_link(); !ok) return Unexpected<Error>(ok.error());
  return std::unique_ptr<CaptureReader>(std::move(r));
}

bool is_pcap_magic(ByteSpan d) noexcept {
  if (d.size() < kFileHeader) return false;
  std::uint32_t m = load_host<std::uint32_t>(d, 0);
  return m == kMagicMicros || m == kMagicNanos || __builtin_bswap32(m) == kMagicMicros ||
         __builtin_bswap32(m) == kMagicNanos;
}

}  // namespace

void CaptureReader::set_truncated(std::string what) noexcept {
  truncated_ = true;
  try {
    warning_ = fmt::format("{}: {} (kept the {} frames before it)", path_, what, frames_);
  } catch (...) {
  }
}

Result<std::unique_ptr<CaptureReader>> CaptureReader::open(const std::string& path,
                                                           std::uint16_t source_id) {
  if (path == "-") return open_libpcap(path, nullptr, source_id, 0);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(ExitCode::kInputUnreadable,
                      fmt::format("cannot open input {}: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return make_error(ExitCode::kInputUnreadable, fmt::format("{}: not a capture file", path));
  }
  if (!S_ISREG(st.st_mode)) {  // pipe, FIFO, device: stream it through libpcap
    FILE* f = ::fdopen(fd, "rb");
    if (f == nullptr) {
      ::close(fd);
      return make_error(ExitCode::kInputUnreadable,
                        fmt::format("cannot open input {}: {}", path, std::strerror(errno)));
    }
    return open_libpcap(path, f, source_id, 0);
  }
  auto size = static_cast<std::size_t>(st.st_size);
  if (size < kFileHeader) {
    ::close(fd);
    return make_error(
        ExitCode::kInputUnreadable,
        fmt::format("{}: not a capture file ({} bytes, too short for a header)", path, size));
  }
  std::uint8_t head[kFileHeader];
  if (::pread(fd, head, sizeof head, 0) != static_cast<ssize_t>(sizeof head)) {
    ::close(fd);
    return make_error(ExitCode::kInputUnreadable,
                      fmt::format("cannot read input {}: {}", path, std::strerror(errno)));
  }
  if (!is_pcap_magic(ByteSpan(head, sizeof head))) {
    ::close(fd);
    return open_libpcap(path, nullptr, source_id, size);
  }
  const char* mode = std::getenv("PM_READER");
  if (mode == nullptr || std::strcmp(mode, "mmap") != 0) {
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    auto r = std::make_unique<PcapMemoryReader>(path, fd, size, source_id);
    if (auto ok = r->parse_header(); !ok) return Unexpected<Error>(ok.error());
    return std::unique_ptr<CaptureReader>(std::move(r));
  }
  // Pre-fault the mapping in one go (much cheaper than a fault per 64 KiB on the walk) unless
  // the file is too large to want it all resident at once.
  int populate = size <= (std::size_t{2} << 30) ? MAP_POPULATE : 0;
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | populate, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) return open_libpcap(path, nullptr, source_id, size);
  ::madvise(m, size, MADV_SEQUENTIAL);
  ::madvise(m, size, MADV_WILLNEED);
  auto r = std::make_unique<PcapMemoryReader>(
      path, ByteSpan(static_cast<const std::uint8_t*>(m), size), m, source_id);
  if (auto ok = r->parse_header(); !ok) return Unexpected<Error>(ok.error());
  return std::unique_ptr<CaptureReader>(std::move(r));
}

Result<std::unique_ptr<CaptureReader>> CaptureReader::open_memory(ByteSpan data,
                                                                  std::uint16_t source_id) {
  if (is_pcap_magic(data)) {
    auto r = std::make_unique<PcapMemoryReader>("<memory>", data, nullptr, source_id);
    if (auto ok = r->parse_header(); !ok) return Unexpected<Error>(ok.error());
    return std::unique_ptr<CaptureReader>(std::move(r));
  }
  if (data.empty()) return make_error(ExitCode::kInputUnreadable, "<memory>: empty input");
  // fmemopen does not write through a "rb" stream; the cast only satisfies its signature.
  FILE* f = ::fmemopen(const_cast<std::uint8_t*>(data.data()), data.size(), "rb");
  if (f == nullptr) return make_error(ExitCode::kInputUnreadable, "<memory>: fmemopen failed");
  return open_libpcap("<memory>", f, source_id, data.size());
}

}  // namespace portmirror::io

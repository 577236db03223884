#include "portmirror/io/pcap_writer.h"

#include <algorithm>
#include <cstring>

#include "portmirror/io/pcapng_writer.h"

namespace portmirror::io {
namespace {

constexpr std::uint32_t kMagicMicros = 0xA1B2C3D4;
constexpr std::uint32_t kMagicNanos = 0xA1B23C4D;

std::size_t pcap_record_size(const std::uint8_t* p, std::uint64_t file_offset) noexcept {
  if (file_offset == 0) return PcapWriter::kFileHeaderSize;
  std::uint32_t caplen;
  std::memcpy(&caplen, p + 8, 4);
  return PcapWriter::kRecordHeaderSize + caplen;
}

}  // namespace

void write_synth_ethernet(std::uint8_t* out, ByteSpan ip) noexcept {
  std::memcpy(out, kSynthDstMac.data(), 6);
  std::memcpy(out + 6, kSynthSrcMac.data(), 6);
  bool v6 = !ip.empty() && (ip[0] >> 4) == 6;
  out[12] = v6 ? 0x86 : 0x08;
  out[13] = v6 ? 0xDD : 0x00;
}

Result<std::unique_ptr<CaptureWriter>> open_capture_writer(const std::string& path,
                                                           const WriterOptions& options) {
  if (options.format == FileFormat::kPcapng) {
    auto w = PcapngWriter::open(path, options);
    if (!w) return Unexpected<Error>(w.error());
    return std::unique_ptr<CaptureWriter>(std::move(*w));
  }
  auto w = PcapWriter::open(path, options);
  if (!w) return Unexpected<Error>(w.error());
  return std::unique_ptr<CaptureWriter>(std::move(*w));
}

Result<std::unique_ptr<PcapWriter>> PcapWriter::open(const std::string& path,
                                                     const WriterOptions& options) {
  auto out = OutputFile::open(path, pcap_record_size, options.buffer_size);
  if (!out) return Unexpected<Error>(out.error());
  std::unique_ptr<PcapWriter> w(new PcapWriter(std::move(*out), options));
  // Ethernet files get their header now, so even an empty output is a valid file; native ones
  // wait for the first packet to learn the link type (close() writes Ethernet if none came).
  if (!w->native_) w->write_header(LinkType::kEthernet);
  if (w->flush_each_ && !w->flush()) return Unexpected<Error>(*w->error());
  if (w->error()) return Unexpected<Error>(*w->error());
  return w;
}

PcapWriter::PcapWriter(std::unique_ptr<OutputFile> out, const WriterOptions& options)
    : out_(std::move(out)),
      nanos_(options.format == FileFormat::kPcapNs),
      native_(options.link_policy == LinkTypePolicy::kNative),
      flush_each_(options.flush_each_packet),
      snaplen_(options.snaplen == 0 || options.snaplen > kMaxSnaplen ? kMaxSnaplen
                                                                     : options.snaplen) {}

bool PcapWriter::write_header(LinkType link) noexcept {
  std::uint8_t* p = out_->reserve(kFileHeaderSize);
  if (p == nullptr) return false;
  // protocols.md §5.1: writer's native byte order; version 2.4; reserved fields 0.
  MutableByteSpan h(p, kFileHeaderSize);
  store_host<std::uint32_t>(h, 0, nanos_ ? kMagicNanos : kMagicMicros);
  store_host<std::uint16_t>(h, 4, 2);
  store_host<std::uint16_t>(h, 6, 4);
  store_host<std::uint32_t>(h, 8, 0);
  store_host<std::uint32_t>(h, 12, 0);
  store_host<std::uint32_t>(h, 16, snaplen_);
  store_host<std::uint32_t>(h, 20, static_cast<std::uint16_t>(link));
  out_->commit(kFileHeaderSize);
  header_written_ = true;
  link_ = link;
  return true;
}

bool PcapWriter::write(const collector::Session& /*session*/, const Decapsulated& d,
                       TimestampNs ts) noexcept {
  if (out_->error() != nullptr || closed_) return false;
  LinkType in = d.inner_link;
  if (!header_written_ &&
      !write_header(in == LinkType::kRaw ? LinkType::kRaw : LinkType::kEthernet)) {
    return false;
  }
  bool synth = false;
  if (in == LinkType::kRaw && link_ == LinkType::kEthernet) {
    synth = true;
  } else if (in != link_) {
    ++skipped_;
    return true;
  }
  std::size_t head = synth ? kEthernetHeaderSize : 0;
  std::size_t data_len = d.inner.size();
  std::uint64_t orig = std::max<std::uint64_t>(d.inner_orig_len, data_len) + head;
  if (head + data_len > snaplen_) data_len = snaplen_ > head ? snaplen_ - head : 0;
  std::size_t caplen = head + data_len;
  ByteSpan data = d.inner.first(data_len);
  bool stable = out_->is_stable(data);
  if (!out_->begin_record(kRecordHeaderSize + head + (stable ? 0 : data_len))) return false;
  std::uint8_t* p = out_->put(kRecordHeaderSize + head);
  MutableByteSpan r(p, kRecordHeaderSize + head);
  if (ts < 0) ts = 0;
  auto sec = static_cast<std::uint64_t>(ts / kNsPerSec);
  auto frac = static_cast<std::uint64_t>(ts % kNsPerSec);
  store_host<std::uint32_t>(r, 0, static_cast<std::uint32_t>(sec));
  store_host<std::uint32_t>(r, 4, static_cast<std::uint32_t>(nanos_ ? frac : frac / 1000));
  store_host<std::uint32_t>(r, 8, static_cast<std::uint32_t>(caplen));
  store_host<std::uint32_t>(r, 12,
                            static_cast<std::uint32_t>(std::min<std::uint64_t>(orig, 0xFFFFFFFFu)));
  if (synth) write_synth_ethernet(p + kRecordHeaderSize, d.inner);
  out_->put_data(data);  // referenced (no copy) when it lies in an mmap'ed input
  ++packets_;
  if (flush_each_) return out_->flush();
  return true;
}

void PcapWriter::set_stable_region(ByteSpan region) noexcept {
  out_->set_stable_region(region);
}

bool PcapWriter::flush() noexcept {
  return out_->flush();
}

bool PcapWriter::close() noexcept {
  if (closed_) return out_->error() == nullptr;
  closed_ = true;
  if (!header_written_) write_header(LinkType::kEthernet);
  return out_->close();
}

}  // namespace portmirror::io

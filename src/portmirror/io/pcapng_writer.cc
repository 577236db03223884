#include "portmirror/io/pcapng_writer.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace portmirror::io {
namespace {

constexpr std::uint16_t kOptEnd = 0;
constexpr std::uint16_t kOptComment = 1;
constexpr std::uint16_t kShbUserAppl = 4;
constexpr std::uint16_t kIfName = 2;
constexpr std::uint16_t kIfDescription = 3;
constexpr std::uint16_t kIfTsresol = 9;
constexpr std::uint16_t kIfFilter = 11;
constexpr std::uint16_t kEpbFlags = 2;
constexpr std::uint16_t kIsbStartTime = 2;
constexpr std::uint16_t kIsbEndTime = 3;
constexpr std::uint16_t kIsbIfRecv = 4;
constexpr std::uint16_t kIsbIfDrop = 5;
// epb_flags bits 0-1: direction (01 inbound, 10 outbound); LSB = bit 0 (protocols.md §7 item 11).
constexpr std::uint32_t kEpbInbound = 0x1;
constexpr std::uint32_t kEpbOutbound = 0x2;

constexpr std::size_t pad4(std::size_t n) noexcept {
  return (n + 3) & ~std::size_t{3};
}
constexpr std::size_t option_size(std::size_t value_len) noexcept {
  return 4 + pad4(value_len);
}

std::size_t pcapng_block_size(const std::uint8_t* p, std::uint64_t) noexcept {
  std::uint32_t n;
  std::memcpy(&n, p + 4, 4);
  return n;
}

// Appends blocks into a reserved region, host byte order (the SHB magic tells readers which).
class BlockWriter {
 public:
  explicit BlockWriter(std::uint8_t* p) : p_(p) {}
  void u16(std::uint16_t v) noexcept { put(&v, 2); }
  void u32(std::uint32_t v) noexcept { put(&v, 4); }
  void u64_as_pair(std::uint64_t v) noexcept {  // timestamps: high then low 32 bits
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void bytes(const void* d, std::size_t n) noexcept {
    put(d, n);
    pad();
  }
  void option(std::uint16_t code, const void* d, std::size_t n) noexcept {
    u16(code);
    u16(static_cast<std::uint16_t>(n));
    bytes(d, n);
  }
  void option_u64(std::uint16_t code, std::uint64_t v) noexcept { option(code, &v, 8); }
  void option_ts(std::uint16_t code, std::uint64_t v) noexcept {
    u16(code);
    u16(8);
    u64_as_pair(v);
  }
  void end_options() noexcept {
    u16(kOptEnd);
    u16(0);
  }
  void pad() noexcept {
    while ((off_ & 3) != 0) p_[off_++] = 0;
  }
  std::size_t size() const noexcept { return off_; }
  std::uint8_t* cursor() noexcept { return p_ + off_; }
  void advance(std::size_t n) noexcept { off_ += n; }

 private:
  void put(const void* d, std::size_t n) noexcept {
    if (n != 0) std::memcpy(p_ + off_, d, n);
    off_ += n;
  }
  std::uint8_t* p_;
  std::size_t off_ = 0;
};

std::uint64_t ts_ns(TimestampNs t) noexcept {
  return t < 0 ? 0 : static_cast<std::uint64_t>(t);
}

}  // namespace

std::string interface_name(const collector::Session& s) {
  if (s.key.sender.empty()) return "untunnelled";
  std::string n = fmt::format("{}:{}>{}", encap_name(s.key.encap), s.key.sender.to_string(),
                              s.key.receiver.to_string());
  if (s.key.has_id) n += fmt::format(":{}", s.key.id);
  return n;
}

std::string interface_description(const collector::Session& s, const TunnelInfo& t, LinkType inner,
                                  bool synthesized_ethernet) {
  if (s.key.sender.empty()) return "frames that carried no tunnel (--keep-untunnelled)";
  std::string what;
  switch (s.key.encap) {
    case Encap::kGre:
      what = fmt::format("GRE protocol 0x{:04x}", t.gre_proto);
      break;
    case Encap::kErspan1:
      what = "ERSPAN Type I";
      break;
    case Encap::kErspan2:
      what = "ERSPAN Type II";
      break;
    case Encap::kErspan3:
      what = "ERSPAN Type III";
      break;
    case Encap::kVxlan:
      what = fmt::format("VXLAN UDP port {}", t.outer_udp_dst);
      break;
    case Encap::kGeneve:
      what = fmt::format("Geneve UDP port {}", t.outer_udp_dst);
      break;
    case Encap::kTzsp:
      what = fmt::format("TZSP UDP port {}", t.outer_udp_dst);
      break;
  }
  std::string id;
  if (s.key.has_id) {
    switch (s.key.encap) {
      case Encap::kGre:
        id = fmt::format(", key {}", s.key.id);
        break;
      case Encap::kErspan1:
      case Encap::kErspan2:
      case Encap::kErspan3:
        id = fmt::format(", session ID {}", s.key.id);
        break;
      case Encap::kVxlan:
      case Encap::kGeneve:
        id = fmt::format(", VNI {}", s.key.id);
        break;
      case Encap::kTzsp:
        id = fmt::format(", id {}", s.key.id);
        break;
    }
  }
  std::string payload =
      inner == LinkType::kRaw
          ? (synthesized_ethernet ? "IP payload behind a synthesized Ethernet header "
                                    "02:00:00:00:00:01 > 02:00:00:00:00:02"
                                  : "IP payload (LINKTYPE_RAW)")
          : "Ethernet payload";
  return fmt::format("{}{} from {} to {}; {}", what, id, s.key.sender.to_string(),
                     s.key.receiver.to_string(), payload);
}

Result<std::unique_ptr<PcapngWriter>> PcapngWriter::open(const std::string& path,
                                                         const WriterOptions& options) {
  auto out = OutputFile::open(path, pcapng_block_size, options.buffer_size);
  if (!out) return Unexpected<Error>(out.error());
  std::unique_ptr<PcapngWriter> w(new PcapngWriter(std::move(*out), options));
  w->write_shb();
  if (w->flush_each_) w->flush();
  if (w->error()) return Unexpected<Error>(*w->error());
  return w;
}

PcapngWriter::PcapngWriter(std::unique_ptr<OutputFile> out, const WriterOptions& options)
    : out_(std::move(out)),
      native_(options.link_policy == LinkTypePolicy::kNative),
      flush_each_(options.flush_each_packet),
      snaplen_(options.snaplen == 0 || options.snaplen > kMaxSnaplen ? kMaxSnaplen
                                                                     : options.snaplen),
      filter_text_(options.filter_text.substr(0, 4000)) {
  by_session_.reserve(256);
  interfaces_.reserve(256);
}

bool PcapngWriter::write_shb() noexcept {
  static constexpr std::string_view kApp = "portmirror 0.1.0";
  std::size_t len = 28 + option_size(kApp.size()) + 4;
  std::uint8_t* p = out_->reserve(len);
  if (p == nullptr) return false;
  BlockWriter b(p);
  b.u32(kShb);
  b.u32(static_cast<std::uint32_t>(len));
  b.u32(kByteOrderMagic);
  b.u16(1);  // major 1, minor 0 (protocols.md §5.2: MUST write 1.0)
  b.u16(0);
  std::uint64_t unknown = ~std::uint64_t{0};  // section length -1
  b.bytes(&unknown, 8);
  b.option(kShbUserAppl, kApp.data(), kApp.size());
  b.end_options();
  b.u32(static_cast<std::uint32_t>(len));
  out_->commit(len);
  return true;
}

std::int32_t PcapngWriter::add_interface(const collector::Session& s, const Decapsulated& d,
                                         LinkType file_link) noexcept {
  try {
    std::string name = interface_name(s);
    std::string desc =
        interface_description(s, d.tunnel, d.inner_link,
                              d.inner_link == LinkType::kRaw && file_link == LinkType::kEthernet);
    if (name.size() > 1000) name.resize(1000);
    std::string filter;
    if (!filter_text_.empty()) {
      filter.push_back('\0');  // if_filter type 0: libpcap filter string (Wireshark convention)
      filter += filter_text_;
    }
    std::uint8_t tsresol = 9;  // 10^-9 s
    std::size_t len = 16 + option_size(name.size()) + option_size(desc.size()) + option_size(1) +
                      (filter.empty() ? 0 : option_size(filter.size())) + 4 + 4;
    std::uint8_t* p = out_->reserve(len);
    if (p == nullptr) return -1;
    BlockWriter b(p);
    b.u32(kIdb);
    b.u32(static_cast<std::uint32_t>(len));
    b.u16(static_cast<std::uint16_t>(file_link));
    b.u16(0);
    b.u32(snaplen_ == kMaxSnaplen ? 0 : snaplen_);  // 0 = no limit
    b.option(kIfName, name.data(), name.size());
    b.option(kIfDescription, desc.data(), desc.size());
    b.option(kIfTsresol, &tsresol, 1);
    if (!filter.empty()) b.option(kIfFilter, filter.data(), filter.size());
    b.end_options();
    b.u32(static_cast<std::uint32_t>(len));
    out_->commit(len);

    if (s.index >= by_session_.size()) by_session_.resize(s.index + 1, {-1, -1});
    auto& slot = by_session_[s.index];
    bool first = slot[0] < 0 && slot[1] < 0;
    auto id = static_cast<std::int32_t>(interfaces_.size());
    slot[file_link == LinkType::kRaw ? 1 : 0] = id;
    interfaces_.push_back(Interface{&s, first});
    return id;
  } catch (...) {
    return -1;
  }
}

bool PcapngWriter::write(const collector::Session& session, const Decapsulated& d,
                         TimestampNs ts) noexcept {
  if (out_->error() != nullptr || closed_) return false;
  LinkType file_link =
      (native_ && d.inner_link == LinkType::kRaw) ? LinkType::kRaw : LinkType::kEthernet;
  std::size_t li = file_link == LinkType::kRaw ? 1 : 0;
  std::int32_t ifid = -1;
  if (session.index < by_session_.size()) ifid = by_session_[session.index][li];
  if (ifid < 0) {
    ifid = add_interface(session, d, file_link);
    if (ifid < 0) return false;
  }
  bool synth = d.inner_link == LinkType::kRaw && file_link == LinkType::kEthernet;
  std::size_t head = synth ? kEthernetHeaderSize : 0;
  std::size_t data_len = d.inner.size();
  std::uint64_t orig = std::max<std::uint64_t>(d.inner_orig_len, data_len) + head;
  if (head + data_len > snaplen_) data_len = snaplen_ > head ? snaplen_ - head : 0;
  std::size_t caplen = head + data_len;

  // ERSPAN metadata (protocols.md §5.2 recommendation): Type III D bit -> epb_flags direction;
  // T bit, VLAN/COS and a bad GRE checksum -> one opt_comment. Formatted on the stack.
  std::uint32_t flags = 0;
  char comment[96];
  std::size_t comment_len = 0;
  const TunnelInfo& t = d.tunnel;
  if (t.encap == Encap::kErspan3) flags = t.erspan.direction_egress ? kEpbOutbound : kEpbInbound;
  if (t.encap == Encap::kErspan2 || t.encap == Encap::kErspan3) {
    if (t.erspan.truncated || t.erspan.vlan != 0 || t.erspan.cos != 0) {
      auto r = fmt::format_to_n(comment, sizeof comment, "erspan{} vlan {} cos {}",
                                t.erspan.truncated ? " truncated-by-sender(T)" : "", t.erspan.vlan,
                                t.erspan.cos);
      comment_len = std::min(r.size, sizeof comment);
    }
  }
  if (t.gre_checksum_bad && comment_len + 24 < sizeof comment) {
    static constexpr std::string_view kBad = "gre checksum mismatch";
    if (comment_len != 0) comment[comment_len++] = ';';
    std::memcpy(comment + comment_len, kBad.data(), kBad.size());
    comment_len += kBad.size();
  }
  std::size_t len = 28 + pad4(caplen) + (flags != 0 ? option_size(4) : 0) +
                    (comment_len != 0 ? option_size(comment_len) : 0) +
                    (flags != 0 || comment_len != 0 ? 4 : 0) + 4;
  std::uint8_t* p = out_->reserve(len);
  if (p == nullptr) return false;
  BlockWriter b(p);
  b.u32(kEpb);
  b.u32(static_cast<std::uint32_t>(len));
  b.u32(static_cast<std::uint32_t>(ifid));
  b.u64_as_pair(ts_ns(ts));
  b.u32(static_cast<std::uint32_t>(caplen));
  b.u32(static_cast<std::uint32_t>(std::min<std::uint64_t>(orig, 0xFFFFFFFFu)));
  std::uint8_t* data = b.cursor();
  if (synth) write_synth_ethernet(data, d.inner);
  if (data_len != 0) std::memcpy(data + head, d.inner.data(), data_len);
  b.advance(caplen);
  b.pad();
  if (flags != 0 || comment_len != 0) {
    if (flags != 0) b.option(kEpbFlags, &flags, 4);
    if (comment_len != 0) b.option(kOptComment, comment, comment_len);
    b.end_options();
  }
  b.u32(static_cast<std::uint32_t>(len));
  out_->commit(len);
  ++packets_;
  if (flush_each_) return out_->flush();
  return true;
}

bool PcapngWriter::write_placeholder_idb() noexcept {
  static constexpr std::string_view kName = "none";
  static constexpr std::string_view kDesc = "no packets were written";
  std::size_t len = 16 + option_size(kName.size()) + option_size(kDesc.size()) + 4 + 4;
  std::uint8_t* p = out_->reserve(len);
  if (p == nullptr) return false;
  BlockWriter b(p);
  b.u32(kIdb);
  b.u32(static_cast<std::uint32_t>(len));
  b.u16(static_cast<std::uint16_t>(LinkType::kEthernet));
  b.u16(0);
  b.u32(0);
  b.option(kIfName, kName.data(), kName.size());
  b.option(kIfDescription, kDesc.data(), kDesc.size());
  b.end_options();
  b.u32(static_cast<std::uint32_t>(len));
  out_->commit(len);
  return true;
}

bool PcapngWriter::write_isbs() noexcept {
  for (std::size_t i = 0; i < interfaces_.size(); ++i) {
    const Interface& itf = interfaces_[i];
    if (!itf.first_of_session || itf.session == nullptr) continue;
    const collector::Session& s = *itf.session;
    std::size_t len = 20 + 2 * option_size(8) + 2 * option_size(8) + 4 + 4;
    std::uint8_t* p = out_->reserve(len);
    if (p == nullptr) return false;
    BlockWriter b(p);
    b.u32(kIsb);
    b.u32(static_cast<std::uint32_t>(len));
    b.u32(static_cast<std::uint32_t>(i));
    b.u64_as_pair(ts_ns(s.last_seen));
    b.option_ts(kIsbStartTime, ts_ns(s.first_seen));
    b.option_ts(kIsbEndTime, ts_ns(s.last_seen));
    b.option_u64(kIsbIfRecv, s.packets);
    b.option_u64(kIsbIfDrop, s.seq.stats().lost);
    b.end_options();
    b.u32(static_cast<std::uint32_t>(len));
    out_->commit(len);
  }
  return true;
}

bool PcapngWriter::flush() noexcept {
  return out_->flush();
}

bool PcapngWriter::close() noexcept {
  if (closed_) return out_->error() == nullptr;
  closed_ = true;
  // libpcap (tcpdump) rejects a section without any IDB: an output with no packets still gets one
  // Ethernet interface, so that every file we write opens everywhere.
  if (interfaces_.empty()) write_placeholder_idb();
  write_isbs();
  return out_->close();
}

}  // namespace portmirror::io

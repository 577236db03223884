#include "portmirror/io/bpf_filter.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

#include "portmirror/io/capture_writer.h"

namespace portmirror::io {

struct InnerFilter::Program {
  bpf_program prog{};
  ~Program() { pcap_freecode(&prog); }
};

namespace {

// Compiles for one DLT; on failure returns libpcap's message in `error`.
std::unique_ptr<InnerFilter::Program> compile_for(int dlt, const std::string& expr,
                                                  std::uint32_t snaplen, std::string& error) {
  pcap_t* p = pcap_open_dead(dlt, static_cast<int>(snaplen));
  if (p == nullptr) {
    error = "pcap_open_dead failed";
    return nullptr;
  }
  auto prog = std::make_unique<InnerFilter::Program>();
  if (pcap_compile(p, &prog->prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    error = pcap_geterr(p);
    prog->prog = bpf_program{};
    pcap_close(p);
    return nullptr;
  }
  pcap_close(p);
  return prog;
}
}  // namespace

InnerFilter::~InnerFilter() = default;

Result<std::unique_ptr<InnerFilter>> InnerFilter::compile(const std::string& expression,
                                                          std::uint32_t snaplen) {
  std::unique_ptr<InnerFilter> f(new InnerFilter());
  f->expression_ = expression;
  f->snaplen_ = snaplen == 0 ? 262144 : snaplen;
  if (expression.find_first_not_of(" \t\n") == std::string::npos) {
    f->expression_.clear();
    return f;
  }
  std::string eth_error;
  std::string raw_error;
  f->ethernet_ = compile_for(DLT_EN10MB, expression, f->snaplen_, eth_error);
  if (!f->ethernet_) {
    return make_error(ExitCode::kBadFilter,
                      fmt::format("bad filter expression '{}': {}", expression, eth_error));
  }
  f->raw_ = compile_for(DLT_RAW, expression, f->snaplen_, raw_error);
  if (!f->raw_) {
    f->scratch_.reset(new std::uint8_t[f->snaplen_ + kEthernetHeaderSize]);
  }
  return f;
}

bool InnerFilter::matches(LinkType link, ByteSpan data, std::uint32_t orig_len) const noexcept {
  if (expression_.empty()) return true;
  auto caplen = static_cast<u_int>(std::min<std::size_t>(data.size(), snaplen_));
  auto wirelen = static_cast<u_int>(std::max<std::size_t>(orig_len, caplen));
  if (link == LinkType::kEthernet) {
    return bpf_filter(ethernet_->prog.bf_insns, data.data(), wirelen, caplen) != 0;
  }
  if (raw_) return bpf_filter(raw_->prog.bf_insns, data.data(), wirelen, caplen) != 0;
  std::uint8_t* s = scratch_.get();
  write_synth_ethernet(s, data);
  std::memcpy(s + kEthernetHeaderSize, data.data(), caplen);
  return bpf_filter(ethernet_->prog.bf_insns, s, wirelen + kEthernetHeaderSize,
                    caplen + static_cast<u_int>(kEthernetHeaderSize)) != 0;
}

}  // namespace portmirror::io

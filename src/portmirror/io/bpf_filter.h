// The tcpdump filter expression of `decap`/`capture`, applied to INNER packets in user space:
// compiled once per inner link type with libpcap (protocols.md §6.8), matched with bpf_filter().
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "portmirror/base/bytes.h"
#include "portmirror/base/error.h"
#include "portmirror/packet/link_type.h"

namespace portmirror::io {

class InnerFilter {
 public:
  // Compiles `expression` for Ethernet (DLT_EN10MB) and raw IP (DLT_RAW) inner packets. An
  // expression that only makes sense on Ethernet (e.g. "ether host ...") is matched against IP
  // packets behind the same synthesized Ethernet header the writers use. Errors: kBadFilter with
  // libpcap's message. An empty expression matches everything.
  static Result<std::unique_ptr<InnerFilter>> compile(const std::string& expression,
                                                      std::uint32_t snaplen = 262144);
  ~InnerFilter();
  InnerFilter(const InnerFilter&) = delete;
  InnerFilter& operator=(const InnerFilter&) = delete;

  // True if the inner packet (Ethernet or RAW) matches. No allocation.
  bool matches(LinkType link, ByteSpan data, std::uint32_t orig_len) const noexcept;
  const std::string& expression() const noexcept { return expression_; }
  bool empty() const noexcept { return expression_.empty(); }

  struct Program;  // a compiled bpf_program (defined in the .cc)

 private:
  InnerFilter() = default;
  std::string expression_;
  std::unique_ptr<Program> ethernet_;
  std::unique_ptr<Program> raw_;             // null when the expression needs a link header
  std::unique_ptr<std::uint8_t[]> scratch_;  // synthesized Ethernet copy for raw packets
  std::uint32_t snaplen_ = 262144;
};

}  // namespace portmirror::io

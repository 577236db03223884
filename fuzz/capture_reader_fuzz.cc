// Fuzz target: the capture reader (pcap walk over memory, pcapng through libpcap) on arbitrary
// bytes. Invariants: no crash, every frame lies inside the input, orig_len >= captured length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "portmirror/io/capture_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  portmirror::ByteSpan in(data, size);
  auto r = portmirror::io::CaptureReader::open_memory(in);
  if (!r) return 0;
  portmirror::Frame f;
  std::size_t frames = 0;
  while ((*r)->next(f) && frames < 100000) {
    if (f.orig_len < f.data.size()) std::abort();
    if (f.link != (*r)->link_type()) std::abort();
    ++frames;
  }
  if ((*r)->frames() != frames && frames < 100000) std::abort();
  return 0;
}

#include "portmirror/wire/gre.h"

#include "portmirror/wire/checksum.h"

namespace portmirror::wire {

void gre_fill_checksum(MutableByteSpan gre_and_payload) noexcept {
  PM_DCHECK(gre_and_payload.size() >= 8);
  store_be16(gre_and_payload, 4, 0);
  store_be16(gre_and_payload, 4, internet_checksum(gre_and_payload));
}

bool gre_checksum_ok(ByteSpan gre_and_payload) noexcept {
  if (gre_and_payload.size() < 8 ||
      (load_be16(gre_and_payload, 0) & GreView::kChecksumPresent) == 0)
    return true;
  return checksum_valid(gre_and_payload);
}

}  // namespace portmirror::wire

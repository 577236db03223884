// ERSPAN Type II and Type III headers (Type I has none). draft-foschiano-erspan-03 §4.1 (Type II),
// §4.2 (Type III), §4.2.1 (platform-specific sub-header). protocols.md §2.
//
// Type II (8 octets):
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |  Ver  |          VLAN         | COS | En|T|    Session ID     |
// |      Reserved         |                  Index                |
//
// Type III (12 octets, + 8 if O):
// |  Ver  |          VLAN         | COS |BSO|T|     Session ID    |
// |                          Timestamp                            |
// |             SGT               |P|    FT   |   Hw ID   |D|Gra|O|
// |  Platf ID |               Platform Specific Info              |   (if O)
// |                  Platform Specific Info                       |   (if O)
#pragma once

#include <cstddef>
#include <cstdint>

#include "portmirror/base/bytes.h"
#include "portmirror/base/expected.h"
#include "portmirror/wire/parse_error.h"

namespace portmirror::wire {

namespace erspan {
// Word 0, common to Types II and III.
inline constexpr std::uint32_t kVerMask = 0xF0000000;
inline constexpr int kVerShift = 28;
inline constexpr std::uint32_t kVlanMask = 0x0FFF0000;
inline constexpr int kVlanShift = 16;
inline constexpr std::uint32_t kCosMask = 0x0000E000;
inline constexpr int kCosShift = 13;
inline constexpr std::uint32_t kEnMask = 0x00001800;  // Type II En, Type III BSO
inline constexpr int kEnShift = 11;
inline constexpr std::uint32_t kTruncatedBit = 0x00000400;
inline constexpr std::uint32_t kSessionIdMask = 0x000003FF;
// Type II word 1.
inline constexpr std::uint32_t kReservedMask = 0xFFF00000;
inline constexpr std::uint32_t kIndexMask = 0x000FFFFF;
// Type III word 2.
inline constexpr std::uint32_t kSgtMask = 0xFFFF0000;
inline constexpr int kSgtShift = 16;
inline constexpr std::uint32_t kPBit = 0x00008000;
inline constexpr std::uint32_t kFtMask = 0x00007C00;
inline constexpr int kFtShift = 10;
inline constexpr std::uint32_t kHwIdMask = 0x000003F0;
inline constexpr int kHwIdShift = 4;
inline constexpr std::uint32_t kDirectionBit = 0x00000008;
inline constexpr std::uint32_t kGraMask = 0x00000006;
inline constexpr int kGraShift = 1;
inline constexpr std::uint32_t kOBit = 0x00000001;
// Platform sub-header word 0.
inline constexpr std::uint32_t kPlatfIdMask = 0xFC000000;
inline constexpr int kPlatfIdShift = 26;
inline constexpr std::uint32_t kPlatfInfoMask = 0x03FFFFFF;

inline constexpr std::uint8_t kVersionTypeII = 1;
inline constexpr std::uint8_t kVersionTypeIII = 2;
inline constexpr std::uint8_t kFrameTypeEthernet = 0;
inline constexpr std::uint8_t kFrameTypeIp = 2;

/// Word 0, identical in Types II and III: |Ver|VLAN|COS|En (II) or BSO (III)|T|Session ID|.
/// Values wider than their field are cut to it.
struct Word0 {
  std::uint8_t ver = 0;
  std::uint16_t vlan = 0;
  std::uint8_t cos = 0;
  std::uint8_t en = 0;  // Type II "En", Type III "BSO"
  bool truncated = false;
  std::uint16_t session_id = 0;
  friend constexpr bool operator==(const Word0&, const Word0&) noexcept = default;
};

constexpr std::uint32_t pack_word0(const Word0& w) noexcept {
  return ((std::uint32_t{w.ver} << kVerShift) & kVerMask) |
         ((std::uint32_t{w.vlan} << kVlanShift) & kVlanMask) |
         ((std::uint32_t{w.cos} << kCosShift) & kCosMask) |
         ((std::uint32_t{w.en} << kEnShift) & kEnMask) | (w.truncated ? kTruncatedBit : 0u) |
         (std::uint32_t{w.session_id} & kSessionIdMask);
}

constexpr Word0 unpack_word0(std::uint32_t w) noexcept {
  return Word0{
      .ver = static_cast<std::uint8_t>((w & kVerMask) >> kVerShift),
      .vlan = static_cast<std::uint16_t>((w & kVlanMask) >> kVlanShift),
      .cos = static_cast<std::uint8_t>((w & kCosMask) >> kCosShift),
      .en = static_cast<std::uint8_t>((w & kEnMask) >> kEnShift),
      .truncated = (w & kTruncatedBit) != 0,
      .session_id = static_cast<std::uint16_t>(w & kSessionIdMask),
  };
}
}  // namespace erspan

/// Reads the Ver field of either type (first 4 bits); caller checks size >= 1.
inline std::uint8_t erspan_version(ByteSpan bytes) noexcept {
  return static_cast<std::uint8_t>(bytes[0] >> 4);
}

/// ERSPAN Type II header view. parse() checks the 8 octets (not Ver: the walk decides policy).
class Erspan2View {
 public:
  static constexpr std::size_t kSize = 8;
  static Expected<Erspan2View, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    return Erspan2View(bytes);
  }
  erspan::Word0 word0() const noexcept { return erspan::unpack_word0(load_be32(bytes_, 0)); }
  std::uint8_t ver() const noexcept { return word0().ver; }
  std::uint16_t vlan() const noexcept { return word0().vlan; }
  std::uint8_t cos() const noexcept { return word0().cos; }
  std::uint8_t en() const noexcept { return word0().en; }
  bool truncated() const noexcept { return word0().truncated; }
  std::uint16_t session_id() const noexcept { return word0().session_id; }
  std::uint16_t reserved() const noexcept {
    return static_cast<std::uint16_t>((load_be32(bytes_, 4) & erspan::kReservedMask) >> 20);
  }
  std::uint32_t index() const noexcept { return load_be32(bytes_, 4) & erspan::kIndexMask; }
  ByteSpan payload() const noexcept { return bytes_.subspan(kSize); }

 private:
  explicit Erspan2View(ByteSpan bytes) noexcept : bytes_(bytes) {}
  ByteSpan bytes_;
};

/// ERSPAN Type III header view. parse() checks 12 octets, and 20 when O is set; after that no
/// accessor reads out of bounds. The platform sub-header is always skipped whole (protocols.md
/// §2.4).
class Erspan3View {
 public:
  static constexpr std::size_t kSize = 12;
  static constexpr std::size_t kPlatformSize = 8;
  static Expected<Erspan3View, ParseError> parse(ByteSpan bytes) noexcept {
    if (bytes.size() < kSize) return unexpected(ParseError::kTruncated);
    const bool o = (load_be32(bytes, 8) & erspan::kOBit) != 0;
    if (o && bytes.size() < kSize + kPlatformSize) return unexpected(ParseError::kTruncated);
    return Erspan3View(bytes);
  }
  erspan::Word0 word0() const noexcept { return erspan::unpack_word0(w(0)); }
  std::uint8_t ver() const noexcept { return word0().ver; }
  std::uint16_t vlan() const noexcept { return word0().vlan; }
  std::uint8_t cos() const noexcept { return word0().cos; }
  std::uint8_t bso() const noexcept { return word0().en; }
  bool truncated() const noexcept { return word0().truncated; }
  std::uint16_t session_id() const noexcept { return word0().session_id; }
  std::uint32_t timestamp() const noexcept { return w(4); }
  std::uint16_t sgt() const noexcept {
    return static_cast<std::uint16_t>((w(8) & erspan::kSgtMask) >> erspan::kSgtShift);
  }
  bool p() const noexcept { return (w(8) & erspan::kPBit) != 0; }
  std::uint8_t ft() const noexcept { return field8(w(8), erspan::kFtMask, erspan::kFtShift); }
  std::uint8_t hw_id() const noexcept {
    return field8(w(8), erspan::kHwIdMask, erspan::kHwIdShift);
  }
  bool direction_egress() const noexcept { return (w(8) & erspan::kDirectionBit) != 0; }
  std::uint8_t gra() const noexcept { return field8(w(8), erspan::kGraMask, erspan::kGraShift); }
  bool has_platform() const noexcept { return (w(8) & erspan::kOBit) != 0; }
  std::uint8_t platform_id() const noexcept {
    return has_platform() ? field8(w(12), erspan::kPlatfIdMask, erspan::kPlatfIdShift) : 0;
  }
  std::uint32_t platform_info() const noexcept {
    return has_platform() ? (w(12) & erspan::kPlatfInfoMask) : 0;
  }
  std::uint32_t platform_w4() const noexcept { return has_platform() ? w(16) : 0; }
  std::size_t header_length() const noexcept {
    return has_platform() ? kSize + kPlatformSize : kSize;
  }
  ByteSpan payload() const noexcept { return bytes_.subspan(header_length()); }

 private:
  explicit Erspan3View(ByteSpan bytes) noexcept : bytes_(bytes) {}
  std::uint32_t w(std::size_t off) const noexcept { return load_be32(bytes_, off); }
  static std::uint8_t field8(std::uint32_t word, std::uint32_t mask, int shift) noexcept {
    return static_cast<std::uint8_t>((word & mask) >> shift);
  }
  ByteSpan bytes_;
};

struct Erspan2Header {
  std::uint16_t vlan = 0;
  std::uint8_t cos = 0;
  std::uint8_t en = 0;
  bool truncated = false;
  std::uint16_t session_id = 0;
  std::uint32_t index = 0;
  std::uint8_t ver = erspan::kVersionTypeII;  // tests may write other values
  static constexpr std::size_t size() noexcept { return Erspan2View::kSize; }
  static constexpr std::size_t kWord0Offset = 0;  // T bit lives here (patched per packet)
  static constexpr std::size_t kIndexOffset = 4;
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    store_be32(out, 0, erspan::pack_word0({ver, vlan, cos, en, truncated, session_id}));
    store_be32(out, 4, index & erspan::kIndexMask);
  }
};

struct Erspan3Header {
  std::uint16_t vlan = 0;
  std::uint8_t cos = 0;
  std::uint8_t bso = 0;
  bool truncated = false;
  std::uint16_t session_id = 0;
  std::uint32_t timestamp = 0;
  std::uint16_t sgt = 0;
  bool p = true;
  std::uint8_t ft = erspan::kFrameTypeEthernet;
  std::uint8_t hw_id = 0;
  bool direction_egress = false;
  std::uint8_t gra = 0;
  bool has_platform = false;
  std::uint8_t platform_id = 0;
  std::uint32_t platform_info = 0;  // 26 bits
  std::uint32_t platform_w4 = 0;
  std::uint8_t ver = erspan::kVersionTypeIII;

  constexpr std::size_t size() const noexcept {
    return Erspan3View::kSize + (has_platform ? Erspan3View::kPlatformSize : 0u);
  }
  static constexpr std::size_t kTimestampOffset = 4;
  static constexpr std::size_t kPlatformW4Offset = 16;
  void write_to(MutableByteSpan out) const noexcept {
    PM_DCHECK(out.size() >= size());
    store_be32(out, 0, erspan::pack_word0({ver, vlan, cos, bso, truncated, session_id}));
    store_be32(out, 4, timestamp);
    store_be32(out, 8,
               (std::uint32_t{sgt} << erspan::kSgtShift) | (p ? erspan::kPBit : 0u) |
                   ((std::uint32_t{ft} << erspan::kFtShift) & erspan::kFtMask) |
                   ((std::uint32_t{hw_id} << erspan::kHwIdShift) & erspan::kHwIdMask) |
                   (direction_egress ? erspan::kDirectionBit : 0u) |
                   ((std::uint32_t{gra} << erspan::kGraShift) & erspan::kGraMask) |
                   (has_platform ? erspan::kOBit : 0u));
    if (has_platform) {
      store_be32(out, 12,
                 ((std::uint32_t{platform_id} << erspan::kPlatfIdShift) & erspan::kPlatfIdMask) |
                     (platform_info & erspan::kPlatfInfoMask));
      store_be32(out, 16, platform_w4);
    }
  }
};

}  // namespace portmirror::wire

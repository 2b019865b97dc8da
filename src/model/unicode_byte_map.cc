#include "model/unicode_byte_map.h"

#include <array>

#include "model/unicode_utf8.h"

namespace cellar::unicode {
namespace {

struct ByteTables {
  std::array<char32_t, 256> to_cp{};
  std::array<std::string, 256> to_utf8;
  std::array<int16_t, 324> from_cp{};  // code points 0..323 cover the whole image

  ByteTables() {
    from_cp.fill(-1);
    auto printable = [](int b) {
      return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      const char32_t cp =
          printable(b) ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + next++);
      to_cp[b] = cp;
      to_utf8[b] = EncodeUtf8(cp);
      from_cp[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteTables& Tables() {
  static const ByteTables tables;
  return tables;
}

}  // namespace

char32_t ByteToCodepoint(uint8_t b) { return Tables().to_cp[b]; }

std::string_view ByteToUtf8(uint8_t b) { return Tables().to_utf8[b]; }

std::optional<uint8_t> CodepointToByte(char32_t cp) {
  if (cp >= Tables().from_cp.size()) return std::nullopt;
  const int16_t b = Tables().from_cp[cp];
  if (b < 0) return std::nullopt;
  return static_cast<uint8_t>(b);
}

}  // namespace cellar::unicode

#include "base/hash.h"

#include <xxhash.h>

#include <array>
#include <cstdio>

namespace cellar {

std::string Hash128::ToHex() const {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return std::string(buf, 32);
}

uint64_t Xxh3_64(std::span<const uint8_t> bytes, uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

Hash128 Xxh3_128(std::span<const uint8_t> bytes, uint64_t seed) {
  XXH128_hash_t h = XXH3_128bits_withSeed(bytes.data(), bytes.size(), seed);
  return {h.low64, h.high64};
}

Hasher128::Hasher128() : state_(XXH3_createState()) {
  XXH3_128bits_reset(static_cast<XXH3_state_t*>(state_));
}
Hasher128::~Hasher128() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }
void Hasher128::Update(std::span<const uint8_t> bytes) {
  XXH3_128bits_update(static_cast<XXH3_state_t*>(state_), bytes.data(), bytes.size());
}
Hash128 Hasher128::Finish() const {
  XXH128_hash_t h = XXH3_128bits_digest(static_cast<XXH3_state_t*>(state_));
  return {h.low64, h.high64};
}

namespace {
// Table for the reflected Castagnoli polynomial 0x82F63B78, built once.
std::array<uint32_t, 256> MakeCrc32cTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : (c >> 1);
    t[i] = c;
  }
  return t;
}
}  // namespace

__attribute__((target("sse4.2"))) static uint32_t Crc32cHw(const uint8_t* p, size_t n, uint32_t c) {
  uint64_t c64 = c;
  while (n >= 8) {
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    c64 = __builtin_ia32_crc32di(c64, v);
    p += 8;
    n -= 8;
  }
  c = static_cast<uint32_t>(c64);
  while (n--) c = __builtin_ia32_crc32qi(c, *p++);
  return c;
}

uint32_t Crc32c(std::span<const uint8_t> bytes, uint32_t crc) {
  uint32_t c = ~crc;
  static const bool has_sse42 = __builtin_cpu_supports("sse4.2");
  if (has_sse42) {
    c = Crc32cHw(bytes.data(), bytes.size(), c);
  } else {
    static const std::array<uint32_t, 256> table = MakeCrc32cTable();
    for (uint8_t b : bytes) c = table[(c ^ b) & 0xffu] ^ (c >> 8);
  }
  return ~c;
}

}  // namespace cellar

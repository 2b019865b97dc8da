// Stable content hashes (xxHash XXH3, from Debian's libxxhash). Never seeded per
// process: the same bytes hash the same in every run, on every machine of the
// same endianness, so hashes can name cached KV on disk and across servers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cellar {

struct Hash128 {
  uint64_t lo = 0;
  uint64_t hi = 0;
  friend bool operator==(const Hash128&, const Hash128&) = default;
  // 32 lowercase hex digits (hi then lo).
  std::string ToHex() const;
};

uint64_t Xxh3_64(std::span<const uint8_t> bytes, uint64_t seed = 0);
inline uint64_t Xxh3_64(std::string_view s, uint64_t seed = 0) {
  return Xxh3_64({reinterpret_cast<const uint8_t*>(s.data()), s.size()}, seed);
}
Hash128 Xxh3_128(std::span<const uint8_t> bytes, uint64_t seed = 0);

// Streaming XXH3-128 for hashing several pieces (parent hash, token ids, ...).
class Hasher128 {
 public:
  Hasher128();
  ~Hasher128();
  Hasher128(const Hasher128&) = delete;
  Hasher128& operator=(const Hasher128&) = delete;
  void Update(std::span<const uint8_t> bytes);
  void Update(std::string_view s) {
    Update({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
  template <typename T>
  void UpdatePod(const T& v) {
    Update({reinterpret_cast<const uint8_t*>(&v), sizeof(T)});
  }
  Hash128 Finish() const;

 private:
  void* state_;
};

struct Hash128Hasher {
  size_t operator()(const Hash128& h) const {
    return static_cast<size_t>(h.lo ^ (h.hi * 0x9e3779b97f4a7c15ull));
  }
};

// CRC-32C (Castagnoli), as used by the on-disk formats. `crc` continues a running value.
uint32_t Crc32c(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace cellar

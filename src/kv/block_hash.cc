#include "kv/block_hash.h"

#include <cstdint>
#include <cstring>

namespace cellar {
namespace {

constexpr char kBlockTag[8] = {'C', 'L', 'K', 'V', 'B', 'H', '0', '1'};
constexpr char kTenantTag[] = "CLTENANT01";  // 10 bytes, without the terminator
constexpr size_t kHeaderBytes = 60;

void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

Hash128 HashBlock(const Hash128& parent, std::span<const TokenId> tokens,
                  const BlockHashContext& ctx) {
  // Small blocks (the common 16 tokens: 124 bytes) are laid out on the stack.
  constexpr size_t kStackTokens = 64;
  uint8_t stack_buf[kHeaderBytes + 4 * kStackTokens];
  std::vector<uint8_t> heap_buf;
  const size_t n_bytes = kHeaderBytes + 4 * tokens.size();
  uint8_t* buf = stack_buf;
  if (tokens.size() > kStackTokens) {
    heap_buf.resize(n_bytes);
    buf = heap_buf.data();
  }
  std::memcpy(buf, kBlockTag, 8);
  PutU64(buf + 8, parent.lo);
  PutU64(buf + 16, parent.hi);
  PutU64(buf + 24, ctx.model_fingerprint.lo);
  PutU64(buf + 32, ctx.model_fingerprint.hi);
  PutU64(buf + 40, ctx.tenant_salt.lo);
  PutU64(buf + 48, ctx.tenant_salt.hi);
  PutU32(buf + 56, static_cast<uint32_t>(tokens.size()));
  for (size_t i = 0; i < tokens.size(); ++i) {
    PutU32(buf + kHeaderBytes + 4 * i, static_cast<uint32_t>(tokens[i]));
  }
  return Xxh3_128({buf, n_bytes}, /*seed=*/0);
}

void ExtendBlockHashes(std::span<const TokenId> tokens, int block_size, const BlockHashContext& ctx,
                       std::vector<Hash128>* hashes) {
  const size_t bs = static_cast<size_t>(block_size);
  const size_t n_full = tokens.size() / bs;
  hashes->reserve(n_full);
  for (size_t i = hashes->size(); i < n_full; ++i) {
    const Hash128& parent = i == 0 ? kRootBlockHash : (*hashes)[i - 1];
    hashes->push_back(HashBlock(parent, tokens.subspan(i * bs, bs), ctx));
  }
}

std::vector<Hash128> HashFullBlocks(std::span<const TokenId> tokens, int block_size,
                                    const BlockHashContext& ctx) {
  std::vector<Hash128> hashes;
  ExtendBlockHashes(tokens, block_size, ctx, &hashes);
  return hashes;
}

Hash128 MakeTenantSalt(std::string_view tenant) {
  std::vector<uint8_t> bytes(sizeof(kTenantTag) - 1 + tenant.size());
  std::memcpy(bytes.data(), kTenantTag, sizeof(kTenantTag) - 1);
  if (!tenant.empty())
    std::memcpy(bytes.data() + sizeof(kTenantTag) - 1, tenant.data(), tenant.size());
  return Xxh3_128(bytes, /*seed=*/0);
}

}  // namespace cellar

#include "server/api_key_auth.h"

#include <strings.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "kv/block_hash.h"

namespace cellar {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Loop over the presented bytes only; read b modulo its length so the
  // memory access pattern does not depend on b's contents.
  unsigned diff = static_cast<unsigned>(a.size() ^ b.size());
  const size_t nb = b.size();
  for (size_t i = 0; i < a.size(); ++i) {
    const unsigned char cb = nb == 0 ? 0 : static_cast<unsigned char>(b[i % nb]);
    diff |= static_cast<unsigned char>(a[i]) ^ cb;
  }
  return diff == 0;
}

std::string TenantNameForKey(std::string_view key) {
  const Hash128 h =
      Xxh3_128(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
  return "key:" + h.ToHex().substr(0, 16);
}

Result<ApiKeyAuth> ApiKeyAuth::Create(std::vector<ApiKeyEntry> keys, std::string default_tenant) {
  ApiKeyAuth auth;
  auth.default_tenant_ = Tenant{default_tenant, MakeTenantSalt(default_tenant)};
  for (auto& k : keys) {
    if (k.key.empty()) return InvalidArgument("empty API key");
    for (const auto& seen : auth.keys_) {
      if (seen.key == k.key) return InvalidArgument("API key given twice");
    }
    std::string name = k.tenant.empty() ? TenantNameForKey(k.key) : k.tenant;
    Hash128 salt = MakeTenantSalt(name);
    auth.keys_.push_back(Key{std::move(k.key), Tenant{std::move(name), salt}});
  }
  return auth;
}

std::optional<Tenant> ApiKeyAuth::Authenticate(std::string_view authorization) const {
  if (keys_.empty()) return default_tenant_;
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() <= kBearer.size() ||
      strncasecmp(authorization.data(), kBearer.data(), kBearer.size()) != 0) {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  const Key* match = nullptr;
  for (const Key& k : keys_) {  // every key, no early exit
    const bool eq = ConstantTimeEquals(token, k.key);
    if (eq && match == nullptr) match = &k;
  }
  if (match == nullptr || token.empty()) return std::nullopt;
  return match->tenant;
}

Result<std::vector<ApiKeyEntry>> ParseApiKeyFile(std::string_view text) {
  std::vector<ApiKeyEntry> out;
  std::istringstream in{std::string(text)};
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream fields(line);
    ApiKeyEntry e;
    if (!(fields >> e.key) || e.key[0] == '#') continue;
    fields >> e.tenant;
    std::string extra;
    if (fields >> extra) {
      return InvalidArgument("API key file line " + std::to_string(line_no) +
                             ": expected '<key> [tenant]'");
    }
    out.push_back(std::move(e));
  }
  if (out.empty()) return InvalidArgument("the API key file holds no keys");
  return out;
}

Result<std::vector<ApiKeyEntry>> LoadApiKeyFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot read API key file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  auto r = ParseApiKeyFile(ss.str());
  if (!r.ok()) return r.status().WithContext(path);
  return r;
}

}  // namespace cellar

// ApiKeyAuth: bearer-token authentication and the tenant identity it gives.
//
// With no keys configured every request belongs to one tenant (--tenant, "" by
// default). With keys (--api-key, --api-key-file), a request must carry
// "Authorization: Bearer <key>" naming one of them; the key's tenant name (from
// the key file, or --tenant for a single --api-key, or else "key:" + a hash of
// the key) is the request's identity, and its tenant salt
// (kv::MakeTenantSalt) enters every KV block hash, so tenants never share
// cached KV. Keys are compared in constant time, and every key is compared
// (no early exit), so timing tells nothing about which bytes matched.
//
// Immutable after Create; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/hash.h"
#include "base/status.h"

namespace cellar {

struct ApiKeyEntry {
  std::string key;
  std::string tenant;  // "" -> "key:" + hash of the key
};

struct Tenant {
  std::string name;
  Hash128 salt;
};

class ApiKeyAuth {
 public:
  // INVALID_ARGUMENT for an empty key or a key given twice.
  static Result<ApiKeyAuth> Create(std::vector<ApiKeyEntry> keys, std::string default_tenant);

  bool enabled() const { return !keys_.empty(); }

  // The tenant for a request's Authorization header value, or nullopt when
  // keys are configured and the header does not carry one of them.
  std::optional<Tenant> Authenticate(std::string_view authorization) const;

 private:
  ApiKeyAuth() = default;
  struct Key {
    std::string key;
    Tenant tenant;
  };
  std::vector<Key> keys_;
  Tenant default_tenant_;
};

// Reads a key file: one key per line, optionally followed by whitespace and a
// tenant name; blank lines and lines starting with '#' are skipped.
Result<std::vector<ApiKeyEntry>> ParseApiKeyFile(std::string_view text);
Result<std::vector<ApiKeyEntry>> LoadApiKeyFile(const std::string& path);

// Equal contents, in time that depends only on a.size() (the presented key).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The tenant name of a key that has none: "key:" + the first 16 hex digits of
// its XXH3-128 (the key itself is never used as a name).
std::string TenantNameForKey(std::string_view key);

}  // namespace cellar

#include "server/api_key_auth.h"

#include <gtest/gtest.h>

#include "kv/block_hash.h"

namespace cellar {
namespace {

TEST(ApiKeyAuth, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("secret2", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals("x", ""));
  // A key repeated to the presented length must not match (b is read modulo its length).
  EXPECT_FALSE(ConstantTimeEquals("abab", "ab"));
}

TEST(ApiKeyAuth, NoKeysGivesTheDefaultTenant) {
  auto auth = ApiKeyAuth::Create({}, "team");
  ASSERT_TRUE(auth.ok());
  EXPECT_FALSE(auth->enabled());
  auto t = auth->Authenticate("");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->name, "team");
  EXPECT_EQ(t->salt, MakeTenantSalt("team"));
  // A client's header does not change the tenant.
  EXPECT_EQ(auth->Authenticate("Bearer whatever")->salt, MakeTenantSalt("team"));
}

TEST(ApiKeyAuth, KeysNameTenants) {
  auto auth = ApiKeyAuth::Create({{"k1", "alice"}, {"k2", ""}}, "");
  ASSERT_TRUE(auth.ok());
  EXPECT_TRUE(auth->enabled());
  auto a = auth->Authenticate("Bearer k1");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->name, "alice");
  EXPECT_EQ(a->salt, MakeTenantSalt("alice"));
  auto b = auth->Authenticate("bearer   k2 ");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->name, TenantNameForKey("k2"));
  EXPECT_EQ(b->name.substr(0, 4), "key:");
  EXPECT_EQ(b->name.size(), 4u + 16u);
  EXPECT_NE(a->salt, b->salt);
  EXPECT_FALSE(auth->Authenticate("").has_value());
  EXPECT_FALSE(auth->Authenticate("Bearer").has_value());
  EXPECT_FALSE(auth->Authenticate("Bearer ").has_value());
  EXPECT_FALSE(auth->Authenticate("Bearer k3").has_value());
  EXPECT_FALSE(auth->Authenticate("Basic k1").has_value());
  EXPECT_FALSE(auth->Authenticate("Bearer k1k1").has_value());
}

TEST(ApiKeyAuth, RejectsBadKeys) {
  EXPECT_FALSE(ApiKeyAuth::Create({{"", "x"}}, "").ok());
  EXPECT_FALSE(ApiKeyAuth::Create({{"k", "a"}, {"k", "b"}}, "").ok());
}

TEST(ApiKeyAuth, ParsesKeyFiles) {
  auto keys = ParseApiKeyFile("# comment\n\nk1 alice\r\n  k2\n");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].key, "k1");
  EXPECT_EQ((*keys)[0].tenant, "alice");
  EXPECT_EQ((*keys)[1].key, "k2");
  EXPECT_EQ((*keys)[1].tenant, "");
  EXPECT_FALSE(ParseApiKeyFile("k1 alice extra\n").ok());
  EXPECT_FALSE(ParseApiKeyFile("# only a comment\n").ok());
  EXPECT_EQ(LoadApiKeyFile("/nonexistent/keys").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cellar

// Test helpers for data in ../shared (models, golden outputs, vocab files).
// Tests that need it call CELLAR_REQUIRE_SHARED(path) and are reported as
// skipped (not passed, not failed) when the folder is absent.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace cellar::testing {

// The shared folder: $CELLAR_SHARED_DIR if set, else the path baked in at configure time.
std::filesystem::path SharedDir();

// SharedDir() / rel.
std::filesystem::path SharedPath(const std::string& rel);

// The whole file as bytes (empty string if unreadable).
std::string ReadFileToString(const std::filesystem::path& path);

// A fresh, empty temporary directory, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace cellar::testing

// Declares `var` as the absolute path of `rel` under the shared folder, or skips the test.
#define CELLAR_REQUIRE_SHARED(var, rel)                                 \
  const std::filesystem::path var = ::cellar::testing::SharedPath(rel); \
  if (!std::filesystem::exists(var)) GTEST_SKIP() << "needs ../shared: " << (rel)

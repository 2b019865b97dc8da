#include "base/mapped_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/testing/shared_data.h"

namespace cellar {
namespace {

TEST(MappedFileTest, MapsContents) {
  testing::TempDir dir;
  const auto path = (dir.path() / "f.bin").string();
  { std::ofstream(path, std::ios::binary) << "abcdef"; }
  auto f = MappedFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ((*f)->size(), 6u);
  EXPECT_EQ((*f)->data()[5], 'f');
}

TEST(MappedFileTest, MissingFileIsNotFound) {
  auto f = MappedFile::Open("/nonexistent/cellar/file.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
}

TEST(MappedFileTest, DirectoryIsRejected) {
  testing::TempDir dir;
  auto f = MappedFile::Open(dir.path().string());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cellar

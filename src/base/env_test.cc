#include "base/env.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <numeric>

#include "base/testing/fault_env.h"
#include "base/testing/shared_data.h"

namespace cellar {
namespace {

using testing::FaultEnv;
using testing::TempDir;

std::vector<uint8_t> Bytes(size_t n, uint8_t start = 0) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

Status WriteFile(Env* env, const std::string& path, std::span<const uint8_t> data) {
  CELLAR_ASSIGN_OR_RETURN(auto f, env->CreateFile(path));
  CELLAR_RETURN_IF_ERROR(f->Append(data));
  CELLAR_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

// Waits for n async completions and keeps their results.
class Completions {
 public:
  AsyncReader::Callback Slot(size_t i) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (results_.size() <= i) results_.resize(i + 1, Result<size_t>(Internal("pending")));
    }
    return [this, i](Result<size_t> r) {
      std::lock_guard<std::mutex> lock(mu_);
      results_[i] = std::move(r);
      ++done_;
      cv_.notify_all();
    };
  }
  void Wait(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_ >= n; });
  }
  Result<size_t> Get(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return results_[i];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Result<size_t>> results_;
  size_t done_ = 0;
};

TEST(PosixEnvTest, WriteReadRenameListRemove) {
  TempDir tmp;
  Env* env = Env::Default();
  const std::string dir = (tmp.path() / "a" / "b").string();
  ASSERT_TRUE(env->CreateDirs(dir).ok());
  const auto data = Bytes(1000);
  ASSERT_TRUE(WriteFile(env, dir + "/x.tmp", data).ok());
  ASSERT_TRUE(env->Rename(dir + "/x.tmp", dir + "/x").ok());
  ASSERT_TRUE(env->SyncDir(dir).ok());
  auto size = env->FileSize(dir + "/x");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 1000u);
  auto names = env->ListDir(dir);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"x"});
  auto f = env->OpenForRead(dir + "/x");
  ASSERT_TRUE(f.ok());
  std::vector<uint8_t> buf(10);
  auto n = (*f)->Read(995, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5u);  // short only at end of file
  EXPECT_EQ(buf[0], static_cast<uint8_t>(995 % 256));
  ASSERT_TRUE(env->Remove(dir + "/x").ok());
  EXPECT_FALSE(env->Exists(dir + "/x"));
  EXPECT_EQ(env->OpenForRead(dir + "/x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env->Remove(dir + "/x").code(), StatusCode::kNotFound);
  auto space = env->GetFsSpace(dir);
  ASSERT_TRUE(space.ok());
  EXPECT_GT(space->capacity_bytes, 0u);
}

TEST(PosixEnvTest, WriteFileAtomicallyLeavesNoTemporary) {
  TempDir tmp;
  Env* env = Env::Default();
  const std::string path = (tmp.path() / "f").string();
  const auto data = Bytes(300);
  ASSERT_TRUE(WriteFileAtomically(env, path, data).ok());
  auto back = ReadWholeFile(env, path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
  EXPECT_FALSE(env->Exists(path + ".tmp"));
}

void CheckAsyncReads(Env* env, AsyncReader* reader, const std::string& dir) {
  const auto data = Bytes(64 * 1024);
  ASSERT_TRUE(WriteFile(env, dir + "/r", data).ok());
  auto file = env->OpenForRead(dir + "/r");
  ASSERT_TRUE(file.ok());
  constexpr int kReads = 40;
  std::vector<std::vector<uint8_t>> bufs(kReads, std::vector<uint8_t>(4096));
  Completions c;
  for (int i = 0; i < kReads; ++i) {
    // The last read runs past the end of the file.
    const uint64_t off = i == kReads - 1 ? data.size() - 100 : static_cast<uint64_t>(i) * 1500;
    reader->Read(file->get(), off, bufs[i], c.Slot(i));
  }
  c.Wait(kReads);
  for (int i = 0; i < kReads; ++i) {
    auto r = c.Get(i);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const uint64_t off = i == kReads - 1 ? data.size() - 100 : static_cast<uint64_t>(i) * 1500;
    EXPECT_EQ(*r, i == kReads - 1 ? 100u : 4096u);
    EXPECT_TRUE(std::equal(bufs[i].begin(), bufs[i].begin() + static_cast<long>(*r),
                           data.begin() + static_cast<long>(off)));
  }
}

TEST(PosixEnvTest, AsyncReaderReadsInParallel) {
  TempDir tmp;
  auto reader = Env::Default()->NewAsyncReader(8);
  ASSERT_TRUE(reader.ok());
  CheckAsyncReads(Env::Default(), reader->get(), tmp.path().string());
}

TEST(PosixEnvTest, ThreadAsyncReader) {
  TempDir tmp;
  auto reader = NewThreadAsyncReader(3);
  EXPECT_EQ(reader->kind(), "threads");
  CheckAsyncReads(Env::Default(), reader.get(), tmp.path().string());
}

TEST(PosixEnvTest, InlineAsyncReader) {
  TempDir tmp;
  auto reader = NewInlineAsyncReader();
  EXPECT_EQ(reader->kind(), "inline");
  EXPECT_TRUE(reader->reads_inline());
  CheckAsyncReads(Env::Default(), reader.get(), tmp.path().string());
}

TEST(PosixEnvTest, DefaultAsyncReaderIsIoUringWhereAvailable) {
  auto reader = Env::Default()->NewAsyncReader(4);
  ASSERT_TRUE(reader.ok());
  // io_uring may be disabled (containers, seccomp); then the thread reader stands in.
  EXPECT_TRUE((*reader)->kind() == "io_uring" || (*reader)->kind() == "threads");
  EXPECT_FALSE((*reader)->reads_inline());
}

TEST(PosixEnvTest, AsyncReaderReportsErrors) {
  TempDir tmp;
  FaultEnv env;
  const auto data = Bytes(100);
  ASSERT_TRUE(WriteFile(&env, tmp.path().string() + "/e", data).ok());
  auto file = env.OpenForRead(tmp.path().string() + "/e");
  ASSERT_TRUE(file.ok());
  env.SetReadError("/e");
  auto reader = env.NewAsyncReader(4);
  ASSERT_TRUE(reader.ok());
  std::vector<uint8_t> buf(10);
  Completions c;
  (*reader)->Read(file->get(), 0, buf, c.Slot(0));
  c.Wait(1);
  EXPECT_EQ(c.Get(0).status().code(), StatusCode::kIoError);
}

TEST(FaultEnvTest, TornWriteKeepsOnlyPrefixButReportsSuccess) {
  TempDir tmp;
  FaultEnv env;
  env.SetTornWrites("torn", 150);
  const auto data = Bytes(400);
  ASSERT_TRUE(WriteFile(&env, tmp.path().string() + "/torn", data).ok());
  ASSERT_TRUE(WriteFile(&env, tmp.path().string() + "/whole", data).ok());
  EXPECT_EQ(*env.FileSize(tmp.path().string() + "/torn"), 150u);
  EXPECT_EQ(*env.FileSize(tmp.path().string() + "/whole"), 400u);
}

TEST(FaultEnvTest, FlippedByteOnRead) {
  TempDir tmp;
  FaultEnv env;
  const auto data = Bytes(100);
  const std::string path = tmp.path().string() + "/f";
  ASSERT_TRUE(WriteFile(&env, path, data).ok());
  env.SetFlipByteOnRead("/f", 42);
  auto back = ReadWholeFile(&env, path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[42], static_cast<uint8_t>(42 ^ 0x5a));
  EXPECT_EQ((*back)[41], 41);
  env.ClearFaults();
  EXPECT_EQ(*ReadWholeFile(&env, path), data);
}

TEST(FaultEnvTest, NoSpaceAfterBudget) {
  TempDir tmp;
  FaultEnv env;
  env.SetNoSpaceAfter(250);
  const auto data = Bytes(200);
  EXPECT_TRUE(WriteFile(&env, tmp.path().string() + "/a", data).ok());
  const Status s = WriteFile(&env, tmp.path().string() + "/b", data);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(*env.FileSize(tmp.path().string() + "/b"), 50u);
  EXPECT_EQ(env.bytes_appended(), 250u);
}

TEST(FaultEnvTest, IoErrorsAndFakeSpace) {
  TempDir tmp;
  FaultEnv env;
  const auto data = Bytes(10);
  env.SetWriteError("w1");
  EXPECT_EQ(WriteFile(&env, tmp.path().string() + "/w1", data).code(), StatusCode::kIoError);
  env.SetSyncError("w2");
  EXPECT_EQ(WriteFile(&env, tmp.path().string() + "/w2", data).code(), StatusCode::kIoError);
  env.SetFsSpace({1000, 10});
  EXPECT_EQ(env.GetFsSpace(tmp.path().string())->available_bytes, 10u);
}

TEST(FaultEnvTest, TruncateCorruptAndRemoveDir) {
  TempDir tmp;
  Env* env = Env::Default();
  const std::string dir = tmp.path().string() + "/d";
  ASSERT_TRUE(env->CreateDirs(dir).ok());
  const auto data = Bytes(100);
  ASSERT_TRUE(WriteFile(env, dir + "/f", data).ok());
  testing::TruncateFile(dir + "/f", 30);
  EXPECT_EQ(*env->FileSize(dir + "/f"), 30u);
  testing::CorruptByte(dir + "/f", 3);
  EXPECT_EQ((*ReadWholeFile(env, dir + "/f"))[3], static_cast<uint8_t>(3 ^ 0xff));
  testing::RemoveDirAll(dir);
  EXPECT_EQ(env->ListDir(dir).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env->CreateFile(dir + "/g").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cellar

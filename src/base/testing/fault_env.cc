#include "base/testing/fault_env.h"

#include <filesystem>
#include <fstream>
#include <thread>

namespace cellar::testing {

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(FaultEnv* env, std::unique_ptr<RandomAccessFile> base)
      : env_(env), base_(std::move(base)) {}

  Result<size_t> Read(uint64_t offset, std::span<uint8_t> buf) const override {
    const FaultEnv::Faults f = env_->Snapshot();
    env_->reads_.fetch_add(1);
    if (f.read_delay.count() > 0) std::this_thread::sleep_for(f.read_delay);
    if (FaultEnv::Matches(f.read_error_substr, path())) {
      return IoError("cannot read '" + path() + "': Input/output error (injected)");
    }
    CELLAR_ASSIGN_OR_RETURN(size_t n, base_->Read(offset, buf));
    if (FaultEnv::Matches(f.flip_substr, path()) && f.flip_offset >= offset &&
        f.flip_offset < offset + n) {
      buf[static_cast<size_t>(f.flip_offset - offset)] ^= 0x5a;
    }
    return n;
  }
  Result<uint64_t> Size() const override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultEnv* env_;
  std::unique_ptr<RandomAccessFile> base_;
};

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultEnv* env, std::string path, std::unique_ptr<WritableFile> base,
                    std::optional<uint64_t> keep)
      : env_(env), path_(std::move(path)), base_(std::move(base)), keep_(keep) {}

  Status Append(std::span<const uint8_t> data) override {
    const FaultEnv::Faults f = env_->Snapshot();
    if (f.write_delay.count() > 0) std::this_thread::sleep_for(f.write_delay);
    env_->WaitWhileBlocked();
    if (FaultEnv::Matches(f.write_error_substr, path_)) {
      return IoError("cannot write '" + path_ + "': Input/output error (injected)");
    }
    const uint64_t allowed = env_->TakeSpace(data.size());
    std::span<const uint8_t> part = data.first(static_cast<size_t>(allowed));
    // A torn file silently loses everything past keep_.
    std::span<const uint8_t> persisted = part;
    if (keep_.has_value()) {
      const uint64_t room = *keep_ > written_ ? *keep_ - written_ : 0;
      persisted = part.first(static_cast<size_t>(std::min<uint64_t>(room, part.size())));
    }
    if (!persisted.empty()) CELLAR_RETURN_IF_ERROR(base_->Append(persisted));
    written_ += part.size();
    env_->bytes_appended_.fetch_add(part.size());
    if (allowed < data.size()) {
      return ResourceExhausted("cannot write '" + path_ + "': No space left on device (injected)");
    }
    return OkStatus();
  }

  Status Sync() override {
    const FaultEnv::Faults f = env_->Snapshot();
    if (FaultEnv::Matches(f.sync_error_substr, path_)) {
      return IoError("cannot fsync '" + path_ + "': Input/output error (injected)");
    }
    return base_->Sync();
  }
  Status Close() override { return base_->Close(); }

 private:
  FaultEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
  std::optional<uint64_t> keep_;
  uint64_t written_ = 0;
};

void FaultEnv::SetTornWrites(std::string path_substr, uint64_t keep_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.torn_substr = std::move(path_substr);
  faults_.torn_keep = keep_bytes;
}
void FaultEnv::SetFlipByteOnRead(std::string path_substr, uint64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.flip_substr = std::move(path_substr);
  faults_.flip_offset = offset;
}
void FaultEnv::SetNoSpaceAfter(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.space_left = bytes;
}
void FaultEnv::SetReadError(std::string path_substr) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.read_error_substr = std::move(path_substr);
}
void FaultEnv::SetWriteError(std::string path_substr) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.write_error_substr = std::move(path_substr);
}
void FaultEnv::SetSyncError(std::string path_substr) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.sync_error_substr = std::move(path_substr);
}
void FaultEnv::SetReadDelay(std::chrono::microseconds d) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.read_delay = d;
}
void FaultEnv::SetWriteDelay(std::chrono::microseconds d) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.write_delay = d;
}
void FaultEnv::SetWritesBlocked(bool blocked) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    writes_blocked_ = blocked;
  }
  unblock_cv_.notify_all();
}
int FaultEnv::blocked_writers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blocked_writers_;
}
void FaultEnv::WaitWhileBlocked() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!writes_blocked_) return;
  ++blocked_writers_;
  unblock_cv_.wait(lock, [this] { return !writes_blocked_; });
  --blocked_writers_;
}
void FaultEnv::SetFsSpace(FsSpace space) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.fs_space = space;
}
void FaultEnv::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_ = Faults();
}

uint64_t FaultEnv::TakeSpace(uint64_t want) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!faults_.space_left.has_value()) return want;
  const uint64_t got = std::min(want, *faults_.space_left);
  *faults_.space_left -= got;
  return got;
}

Result<std::unique_ptr<RandomAccessFile>> FaultEnv::OpenForRead(const std::string& path) {
  CELLAR_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, base_->OpenForRead(path));
  return std::unique_ptr<RandomAccessFile>(new FaultRandomAccessFile(this, std::move(f)));
}

Result<std::unique_ptr<WritableFile>> FaultEnv::CreateFile(const std::string& path) {
  const Faults f = Snapshot();
  CELLAR_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> w, base_->CreateFile(path));
  files_created_.fetch_add(1);
  std::optional<uint64_t> keep;
  if (Matches(f.torn_substr, path)) keep = f.torn_keep;
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, path, std::move(w), keep));
}

Status FaultEnv::Rename(const std::string& from, const std::string& to) {
  return base_->Rename(from, to);
}
Status FaultEnv::Remove(const std::string& path) { return base_->Remove(path); }
Result<std::vector<std::string>> FaultEnv::ListDir(const std::string& dir) {
  return base_->ListDir(dir);
}
Status FaultEnv::CreateDirs(const std::string& dir) { return base_->CreateDirs(dir); }
Status FaultEnv::SyncDir(const std::string& dir) { return base_->SyncDir(dir); }
Result<uint64_t> FaultEnv::FileSize(const std::string& path) { return base_->FileSize(path); }
bool FaultEnv::Exists(const std::string& path) { return base_->Exists(path); }

Result<FsSpace> FaultEnv::GetFsSpace(const std::string& path) {
  const Faults f = Snapshot();
  if (f.fs_space.has_value()) return *f.fs_space;
  return base_->GetFsSpace(path);
}

Result<std::unique_ptr<AsyncReader>> FaultEnv::NewAsyncReader(int /*queue_depth*/) {
  return NewThreadAsyncReader(2);
}

void TruncateFile(const std::string& path, uint64_t size) {
  std::filesystem::resize_file(path, size);
}

void CorruptByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0xff);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

void RemoveDirAll(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace cellar::testing

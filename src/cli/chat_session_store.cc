#include "cli/chat_session_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "base/env.h"
#include "base/log.h"
#include "engine/kv_store_sink.h"
#include "engine/kv_store_truncation.h"
#include "kv/block_hash.h"
#include "model/model_fingerprint.h"
#include "store/chunk_accumulator.h"

namespace cellar::cli {
namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

Result<std::string> ReadAll(Env* env, const std::string& path) {
  CELLAR_ASSIGN_OR_RETURN(auto file, env->OpenForRead(path));
  CELLAR_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::string s(static_cast<size_t>(size), '\0');
  CELLAR_ASSIGN_OR_RETURN(size_t n,
                          file->Read(0, {reinterpret_cast<uint8_t*>(s.data()), s.size()}));
  s.resize(n);
  return s;
}

Status WriteAtomically(Env* env, const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  CELLAR_ASSIGN_OR_RETURN(auto f, env->CreateFile(tmp));
  CELLAR_RETURN_IF_ERROR(f->Append({reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
  CELLAR_RETURN_IF_ERROR(f->Sync());
  CELLAR_RETURN_IF_ERROR(f->Close());
  return env->Rename(tmp, path);
}

}  // namespace

ChatSessionStore::ChatSessionStore(const Options& options, const Model& model,
                                   LocalSession* session)
    : options_(options), session_(*session), rope_(model.hparams().rope) {}

Result<std::unique_ptr<ChatSessionStore>> ChatSessionStore::Open(const Options& in,
                                                                 const Model& model,
                                                                 LocalSession* session) {
  if (!ValidName(in.name)) {
    return InvalidArgument("--session: a name of letters, digits, '.', '_' and '-' (at most 128)");
  }
  Options o = in;
  if (o.store_dir.empty()) o.store_dir = DefaultStoreDir();
  const KvLayout& layout = session->forward().kv().layout();
  if (o.chunk_tokens <= 0 || o.chunk_tokens % layout.block_size != 0) {
    return InvalidArgument("the chunk size must be a multiple of the KV block size");
  }
  auto s = std::unique_ptr<ChatSessionStore>(new ChatSessionStore(o, model, session));
  s->fingerprint_ = ComputeModelFingerprint(model.gguf());
  s->salt_ = MakeTenantSalt("");  // the local tenant, as `cellar serve` without keys
  s->store_session_ = "chat/" + o.name;
  Env* env = Env::Default();
  const std::string folder = o.store_dir + "/sessions";
  CELLAR_RETURN_IF_ERROR(env->CreateDirs(folder));
  s->file_ = folder + "/" + o.name + ".json";
  if (env->Exists(s->file_)) {
    CELLAR_ASSIGN_OR_RETURN(std::string text, ReadAll(env, s->file_));
    const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("messages") ||
        !j["messages"].is_array()) {
      return DataLoss("session file " + s->file_ + " is not a Cellar chat session");
    }
    for (const auto& m : j["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
          !m.contains("content") || !m["content"].is_string()) {
        return DataLoss("session file " + s->file_ + " has a malformed message");
      }
      s->messages_.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
  }
  StoreOptions so;
  so.shape = KvShape{layout.n_layers, layout.n_kv_heads, layout.head_dim, layout.type};
  so.model = s->fingerprint_;
  so.chunk_tokens = o.chunk_tokens;
  so.dram_bytes = 0;  // straight to disk: a chat may end any time
  so.disk_bytes = o.disk_bytes;
  so.dir = o.store_dir;
  CELLAR_ASSIGN_OR_RETURN(s->tiers_, TieredStore::Open(so, &s->metrics_));
  CELLAR_ASSIGN_OR_RETURN(s->loader_, Loader::Create(s->tiers_.get(), nullptr, {}));
  s->worker_ = std::make_unique<StoreWorker>(s->tiers_.get(), StoreWorker::Options{});
  return s;
}

ChatSessionStore::~ChatSessionStore() { Close(); }

void ChatSessionStore::Close() {
  if (closed_) return;
  closed_ = true;
  worker_->Close(/*persist_dram=*/false);
  loader_.reset();
}

std::vector<Hash128> ChatSessionStore::ChunkHashes(std::span<const int32_t> tokens) const {
  return cellar::ChunkHashes(tokens, options_.chunk_tokens,
                             session_.forward().kv().layout().block_size, {fingerprint_, salt_});
}

int ChatSessionStore::Restore(std::span<const int32_t> tokens) {
  const int C = options_.chunk_tokens;
  const std::vector<int32_t>& have = session_.tokens();
  int n_have = 0;
  while (static_cast<size_t>(n_have) < have.size() && static_cast<size_t>(n_have) < tokens.size() &&
         have[static_cast<size_t>(n_have)] == tokens[static_cast<size_t>(n_have)]) {
    ++n_have;
  }
  const std::vector<Hash128> hashes = ChunkHashes(tokens);
  const TieredStore::PrefixMatch m = tiers_->Lookup(hashes, tokens, 0, store_session_);
  const int end =
      std::min(static_cast<int>(m.chunks.size()) * C, static_cast<int>(tokens.size()) - 1);
  if (end <= n_have) return 0;
  PoolLoadSink::Options o;
  o.kv = &session_.forward().kv();
  o.rope = rope_;
  o.block_table = session_.block_table();
  o.chunk_tokens = C;
  o.begin = n_have;
  o.end = end;
  std::vector<Hash128> chunks;
  for (int j = n_have / C; j * C < end; ++j) {
    chunks.push_back(m.chunks[static_cast<size_t>(j)].hash);
    o.chunk_first.push_back(j * C);
  }
  PoolLoadSink sink(std::move(o));
  session_.Truncate(n_have);
  Status s = loader_->Start(std::move(chunks), &sink)->Wait();
  if (!s.ok()) {
    CELLAR_LOG_WARN("chat: the stored conversation could not be loaded ({}); prefilling it",
                    s.ToString());
    return 0;
  }
  if (!session_
           .AdoptTokens(
               tokens.subspan(static_cast<size_t>(n_have), static_cast<size_t>(end - n_have)))
           .ok()) {
    return 0;
  }
  return end - n_have;
}

Status ChatSessionStore::Save(const std::vector<ChatMessage>& messages) {
  const int C = options_.chunk_tokens;
  const std::vector<int32_t>& tokens = session_.tokens();
  const std::vector<Hash128> hashes = ChunkHashes(tokens);
  const KvStorage& kv = session_.forward().kv();
  const KvLayout& layout = kv.layout();
  const size_t row = static_cast<size_t>(layout.n_kv_heads) * static_cast<size_t>(layout.head_dim);
  std::vector<float> k(static_cast<size_t>(C) * row), v(static_cast<size_t>(C) * row);
  for (size_t j = 0; j < hashes.size(); ++j) {
    if (tiers_->Locate(hashes[j]).found()) continue;
    // Read back from the session's pool, rotation undone.
    const int first = static_cast<int>(j) * C;
    ChunkAccumulator acc(tiers_->shape(), C, first);
    for (int l = 0; l < layout.n_layers; ++l) {
      ReadPreRopeKv(kv, rope_, l, session_.block_table(), first, first + C, k.data(), v.data());
      acc.Append(l, first, C, k.data(), v.data());
    }
    std::vector<RawChunk> done = acc.TakeComplete();
    if (done.size() != 1) continue;
    RawChunk& c = done[0];
    c.meta.hash = hashes[j];
    c.meta.parent = j == 0 ? Hash128{} : hashes[j - 1];
    c.meta.tokens.assign(tokens.begin() + first, tokens.begin() + first + C);
    worker_->Save(std::move(c), store_session_);
  }
  messages_ = messages;
  nlohmann::ordered_json j;
  j["version"] = 1;
  j["model"] = fingerprint_.ToHex();
  j["messages"] = nlohmann::ordered_json::array();
  for (const ChatMessage& m : messages) {
    j["messages"].push_back({{"role", m.role}, {"content", m.content}});
  }
  return WriteAtomically(Env::Default(), file_, j.dump(1) + "\n");
}

}  // namespace cellar::cli

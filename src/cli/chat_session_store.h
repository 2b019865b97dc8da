// ChatSessionStore: what `cellar chat --session NAME` keeps between runs — the
// conversation's messages (a small JSON file, <store-dir>/sessions/<NAME>.json)
// and its KV, as chunks in the disk tier of the same store `cellar serve` uses
// (named by the pool's chained block hashes under the local tenant, so the two
// share chunks). A restarted chat renders the saved conversation plus the new
// message, loads the stored prefix's KV into its session (RoPE at load) and
// prefills only the rest: the new turn and the tail of the last chunk.
//
// Owned by the chat command; borrows the session and the model. Thread-safety:
// one thread (the chat loop).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/local_session.h"
#include "model/model.h"
#include "store/loader.h"
#include "store/store_worker.h"
#include "store/tiered_store.h"

namespace cellar::cli {

struct ChatMessage {
  std::string role;
  std::string content;
};

class ChatSessionStore {
 public:
  struct Options {
    std::string name;       // [A-Za-z0-9._-], at most 128 characters
    std::string store_dir;  // empty: DefaultStoreDir()
    uint64_t disk_bytes = 8ull << 30;
    int chunk_tokens = 64;
  };

  // Opens the store folder and reads the session's saved messages, if any.
  // INVALID_ARGUMENT for a bad name; DATA_LOSS for an unreadable session file.
  static Result<std::unique_ptr<ChatSessionStore>> Open(const Options& options, const Model& model,
                                                        LocalSession* session);
  ~ChatSessionStore();  // Close()

  // The saved conversation (empty for a new session).
  const std::vector<ChatMessage>& messages() const { return messages_; }

  // Before a turn that will feed `tokens`: when the store holds a longer
  // prefix of them than the session does, loads it into the session (whole
  // chunks, never the last token). Returns the tokens loaded (0 when none, or
  // when the load failed: those positions are then simply prefilled).
  int Restore(std::span<const int32_t> tokens);

  // After a turn: stores the session's full chunks the store lacks (in the
  // background) and writes the conversation file (atomically).
  Status Save(const std::vector<ChatMessage>& messages);

  // Waits for pending saves. Idempotent.
  void Close();

 private:
  ChatSessionStore(const Options& options, const Model& model, LocalSession* session);
  std::vector<Hash128> ChunkHashes(std::span<const int32_t> tokens) const;

  const Options options_;
  LocalSession& session_;
  const RopeParams rope_;
  Hash128 fingerprint_;
  Hash128 salt_;
  std::string file_;  // the session's JSON file
  std::string store_session_;
  StoreMetrics metrics_;
  std::unique_ptr<TieredStore> tiers_;
  std::unique_ptr<Loader> loader_;
  std::unique_ptr<StoreWorker> worker_;
  std::vector<ChatMessage> messages_;
  bool closed_ = false;
};

}  // namespace cellar::cli

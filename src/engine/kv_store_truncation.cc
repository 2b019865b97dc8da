#include "engine/kv_store_truncation.h"

#include <algorithm>
#include <string>

#include "kv/block_hash.h"
#include "store/truncation.h"

namespace cellar {

Hash128 TruncatedSalt(const Hash128& salt, int n_keep, int n_dropped,
                      std::span<const TokenId> prefix) {
  Hasher128 h;
  h.Update(std::string_view("CLTRUNC1"));
  h.UpdatePod(salt.lo);
  h.UpdatePod(salt.hi);
  h.UpdatePod(static_cast<uint32_t>(n_keep));
  h.UpdatePod(static_cast<uint32_t>(n_dropped));
  h.UpdatePod(static_cast<uint32_t>(prefix.size()));
  h.Update({reinterpret_cast<const uint8_t*>(prefix.data()), prefix.size() * sizeof(TokenId)});
  return h.Finish();
}

std::vector<Hash128> ChunkHashes(std::span<const TokenId> tokens, int chunk_tokens, int block_size,
                                 const BlockHashContext& ctx) {
  const std::vector<Hash128> blocks = HashFullBlocks(tokens, block_size, ctx);
  const size_t per_chunk = static_cast<size_t>(chunk_tokens / block_size);
  std::vector<Hash128> out;
  for (size_t end = per_chunk; end <= blocks.size(); end += per_chunk)
    out.push_back(blocks[end - 1]);
  return out;
}

Truncator::Truncator(const Options& options) : o_(options) {
  const int c = std::max(1, o_.chunk_tokens);
  step_ = o_.step > 0 ? o_.step : std::max(c, (o_.n_ctx / 8 + c - 1) / c * c);
}

Status Truncator::Prepare(GenerateRequest* r) {
  const int n_prompt = static_cast<int>(r->prompt.size());
  const int max_tokens = std::max(r->max_tokens, 1);
  if (n_prompt == 0 || n_prompt + max_tokens <= o_.n_ctx) return OkStatus();
  if (!o_.truncate) {
    return OutOfRange("the prompt (" + std::to_string(n_prompt) + " tokens) plus max_tokens (" +
                      std::to_string(max_tokens) + ") exceeds the context length of " +
                      std::to_string(o_.n_ctx) + " tokens (the server runs with --overflow error)");
  }
  int n_keep = o_.n_keep >= 0 ? o_.n_keep : (r->n_keep >= 0 ? r->n_keep : kDefaultKeep);
  n_keep = std::min(n_keep, n_prompt - 1);
  TruncationInput in;
  in.n_prompt = n_prompt;
  in.max_tokens = max_tokens;
  in.n_ctx = o_.n_ctx;
  in.n_keep = n_keep;
  in.drop_align = step_;
  CELLAR_ASSIGN_OR_RETURN(TruncationPlan plan, PlanTruncation(in));
  const int n_drop = plan.n_dropped();
  const std::span<const TokenId> all(r->prompt);

  auto record = std::make_shared<TruncationRecord>();
  record->n_keep = n_keep;
  record->n_dropped = n_drop;
  record->base_salt = r->tenant_salt;
  record->salt =
      TruncatedSalt(r->tenant_salt, n_keep, n_drop, all.first(static_cast<size_t>(plan.drop_end)));
  if (o_.keep_sources) {
    // The same conversation laid out by an earlier, smaller drop (most recent
    // first), then untruncated.
    for (int prev = (n_drop - 1) / step_ * step_; prev >= 0; prev -= step_) {
      TruncationSource src;
      src.salt = prev == 0 ? r->tenant_salt
                           : TruncatedSalt(r->tenant_salt, n_keep, prev,
                                           all.first(static_cast<size_t>(n_keep + prev)));
      src.tokens.assign(all.begin(), all.begin() + n_keep);
      src.tokens.insert(src.tokens.end(), all.begin() + n_keep + prev, all.end());
      src.map.keep = n_keep;
      src.map.shift = n_drop - prev;
      src.chunk_hashes =
          ChunkHashes(src.tokens, o_.chunk_tokens, o_.block_size, {o_.fingerprint, src.salt});
      record->sources.push_back(std::move(src));
      if (prev == 0) break;
    }
  }
  std::vector<TokenId> kept(all.begin(), all.begin() + n_keep);
  kept.insert(kept.end(), all.begin() + plan.drop_end, all.end());
  r->prompt = std::move(kept);
  r->tenant_salt = record->salt;
  r->n_dropped_tokens += n_drop;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (records_.emplace(record->salt, record).second) {
      order_.push_back(record->salt);
      while (order_.size() > o_.max_records) {
        records_.erase(order_.front());
        order_.pop_front();
      }
    } else {
      records_[record->salt] = record;
    }
  }
  return OkStatus();
}

std::shared_ptr<const TruncationRecord> Truncator::Find(const Hash128& salt) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(salt);
  return it == records_.end() ? nullptr : it->second;
}

int SystemPromptTokens(const EngineService& engine, const ChatPrompt& chat,
                       std::span<const TokenId> prompt, int max_tokens) {
  const int n_ctx = engine.model_info().n_ctx;
  if (static_cast<int64_t>(prompt.size()) + std::max(max_tokens, 1) <= n_ctx) return -1;
  if (!chat.messages.is_array() || chat.messages.empty()) return -1;
  const auto& first = chat.messages[0];
  if (!first.is_object() || first.value("role", "") != "system") return -1;
  ChatPrompt system;
  system.messages = nlohmann::ordered_json::array({first});
  system.add_generation_prompt = false;
  auto tokens = engine.TokenizeChat(system);
  if (!tokens.ok()) return -1;
  size_t n = 0;
  while (n < tokens->size() && n < prompt.size() && (*tokens)[n] == prompt[n]) ++n;
  return static_cast<int>(n);
}

}  // namespace cellar

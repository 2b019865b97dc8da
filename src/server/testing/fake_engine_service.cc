#include "server/testing/fake_engine_service.h"

#include <algorithm>
#include <utility>

#include "base/clock.h"

namespace cellar {

FakeEngineService::FakeEngineService(FakeEngineOptions options) : options_(std::move(options)) {
  info_.id = "fake-model";
  info_.created = 1700000000;
  info_.n_ctx = options_.n_ctx;
  info_.n_vocab = kVocab;
  info_.fingerprint = "00112233445566778899aabbccddeeff";
  stats_.n_blocks_total = 64;
  thread_ = std::thread([this] { Run(); });
}

FakeEngineService::~FakeEngineService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  for (auto& [id, live] : live_) {
    RequestSummary s;
    s.finish_reason = FinishReason::kCancelled;
    live.channel->Close(std::move(s));
  }
}

Result<std::vector<TokenId>> FakeEngineService::TokenizeText(std::string_view text) const {
  std::vector<TokenId> out{kBos};
  for (unsigned char c : text) out.push_back(c);
  return out;
}

std::string FakeEngineService::RenderChat(const ChatPrompt& chat) {
  std::string s;
  if (chat.tools.is_array()) s += "<|tools|>" + chat.tools.dump() + "\n";
  for (const auto& m : chat.messages) {
    s += "<|" + m["role"].get<std::string>() + "|>";
    if (m["content"].is_string()) s += m["content"].get<std::string>();
    if (m.contains("tool_calls")) s += m["tool_calls"].dump();
    s += "\n";
  }
  if (chat.add_generation_prompt) s += "<|assistant|>";
  return s;
}

Result<std::vector<TokenId>> FakeEngineService::TokenizeChat(const ChatPrompt& chat) const {
  for (const auto& m : chat.messages) {
    if (m["content"].is_string() && m["content"].get<std::string>() == "REJECT") {
      return InvalidArgument("the chat template rejected the messages");
    }
  }
  return TokenizeText(RenderChat(chat));
}

int FakeEngineService::CachedPrefix(const GenerateRequest& r) const {
  size_t best = 0;
  for (const auto& [salt, prompt] : history_) {
    if (!(salt == r.tenant_salt)) continue;
    size_t n = 0;
    while (n < prompt.size() && n < r.prompt.size() && prompt[n] == r.prompt[n]) ++n;
    best = std::max(best, n);
  }
  best = std::min(best, r.prompt.size() - 1);
  return static_cast<int>(best / 4 * 4);
}

Result<RequestHandle> FakeEngineService::Submit(GenerateRequest request) {
  if (request.prompt.empty()) return InvalidArgument("empty prompt");
  for (TokenId t : request.prompt) {
    if (t < 0 || t >= kVocab) return InvalidArgument("token id out of range");
  }
  const int n_prompt = static_cast<int>(request.prompt.size());
  if (n_prompt + std::max(request.max_tokens, 1) > options_.n_ctx) {
    return OutOfRange("the prompt (" + std::to_string(n_prompt) + " tokens) plus max_tokens (" +
                      std::to_string(request.max_tokens) + ") exceeds the context length (" +
                      std::to_string(options_.n_ctx) + ")");
  }
  std::shared_ptr<RequestChannel> channel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return Unavailable("the engine is shutting down");
    int waiting = 0;
    for (const auto& [id, l] : live_) waiting += l.started ? 0 : 1;
    if (waiting >= options_.max_queue) return ResourceExhausted("the waiting queue is full");
    const RequestId id = next_id_++;
    channel = std::make_shared<RequestChannel>(id);
    submitted_.push_back(request);
    Live live;
    live.n_cached = CachedPrefix(request);
    history_.emplace_back(request.tenant_salt, request.prompt);
    live.request = std::move(request);
    live.channel = channel;
    live.arrival_nanos = Clock::Real()->NowNanos();
    live_.emplace(id, std::move(live));
  }
  cv_.notify_all();
  return RequestHandle(this, std::move(channel));
}

void FakeEngineService::Cancel(RequestId id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(id);
    if (it == live_.end() || it->second.cancel) return;
    it->second.cancel = true;
    cancelled_.push_back(id);
  }
  cv_.notify_all();
}

EngineStats FakeEngineService::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  EngineStats s = stats_;
  for (const auto& [id, l] : live_) (l.started ? s.n_running : s.n_waiting) += 1;
  s.n_blocks_used = s.n_running;
  return s;
}

void FakeEngineService::Hold(bool hold) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = hold;
  }
  cv_.notify_all();
}

void FakeEngineService::SetShuttingDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
}

std::vector<GenerateRequest> FakeEngineService::submitted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return submitted_;
}

std::vector<RequestId> FakeEngineService::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

int FakeEngineService::n_live() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(live_.size());
}

bool FakeEngineService::WaitForLive(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return static_cast<int>(live_.size()) == n; });
}

void FakeEngineService::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] {
      if (stop_) return true;
      for (const auto& [id, l] : live_) {
        if (l.cancel || !hold_) return true;
      }
      return false;
    });
    if (stop_) return;
    const int64_t now = Clock::Real()->NowNanos();
    for (auto it = live_.begin(); it != live_.end();) {
      Live& l = it->second;
      RequestSummary s;
      s.n_prompt_tokens = static_cast<int>(l.request.prompt.size());
      s.n_cached_tokens = l.n_cached;
      s.arrival_nanos = l.arrival_nanos;
      if (l.cancel) {
        s.finish_reason = FinishReason::kCancelled;
      } else if (hold_) {
        ++it;
        continue;
      } else {
        if (!l.started) {
          l.started = true;
          stats_.n_prompt_tokens += static_cast<uint64_t>(s.n_prompt_tokens);
          stats_.hit_tokens_by_tier["pool"] += static_cast<uint64_t>(l.n_cached);
          stats_.n_miss_tokens += static_cast<uint64_t>(s.n_prompt_tokens - l.n_cached);
        }
        const std::string& reply = options_.reply;
        const int limit = l.request.max_tokens > 0 ? l.request.max_tokens : options_.n_ctx;
        if (l.n_emitted < static_cast<int>(reply.size()) && l.n_emitted < limit) {
          TokenOutput t;
          t.token = static_cast<unsigned char>(reply[static_cast<size_t>(l.n_emitted)]);
          t.text = std::string(1, reply[static_cast<size_t>(l.n_emitted)]);
          t.time_nanos = now;
          if (l.request.logprobs.enabled) {
            TokenLogprobs lp;
            lp.chosen = TokenCandidate{t.token, t.text, -0.5f};
            for (int k = 0; k < l.request.logprobs.n_top; ++k) {
              lp.top.push_back(TokenCandidate{k == 0 ? t.token : 'a' + k,
                                              k == 0 ? t.text : std::string(1, char('a' + k)),
                                              -0.5f - static_cast<float>(k)});
            }
            t.logprobs = std::move(lp);
          }
          if (l.first_token_nanos < 0) l.first_token_nanos = now;
          ++l.n_emitted;
          ++stats_.n_generated_tokens;
          l.channel->PushToken(std::move(t));
          ++it;
          continue;
        }
        s.finish_reason = l.n_emitted >= static_cast<int>(reply.size()) ? FinishReason::kStop
                                                                        : FinishReason::kLength;
      }
      s.n_completion_tokens = l.n_emitted;
      s.first_token_nanos = l.first_token_nanos;
      s.finish_nanos = now;
      l.channel->Close(std::move(s));
      it = live_.erase(it);
      cv_.notify_all();
    }
    ++stats_.n_steps;
    if (options_.token_interval.count() > 0) {
      lock.unlock();
      std::this_thread::sleep_for(options_.token_interval);
      lock.lock();
    }
  }
}

}  // namespace cellar

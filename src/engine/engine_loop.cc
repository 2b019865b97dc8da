#include "engine/engine_loop.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "base/log.h"

namespace cellar {

Result<std::unique_ptr<EngineLoop>> EngineLoop::Create(EngineLoopParts parts,
                                                       EngineLoopOptions options) {
  if (parts.tokenizer == nullptr || parts.kv == nullptr || parts.forward == nullptr ||
      parts.scheduler == nullptr) {
    return InvalidArgument(
        "engine loop: tokenizer, KV storage, forward pass and scheduler are required");
  }
  if (options.n_ctx <= 0) return InvalidArgument("engine loop: n_ctx must be > 0");
  if (options.n_ctx > parts.scheduler->kv().token_capacity()) {
    return InvalidArgument("engine loop: n_ctx (" + std::to_string(options.n_ctx) +
                           ") exceeds the KV pool's capacity (" +
                           std::to_string(parts.scheduler->kv().token_capacity()) + " tokens)");
  }
  if (options.max_queue < 0) return InvalidArgument("engine loop: max_queue must be >= 0");
  auto loop = std::unique_ptr<EngineLoop>(new EngineLoop(std::move(parts), options));
  loop->PublishStats();
  loop->thread_ = std::thread([l = loop.get()] { l->Run(); });
  return loop;
}

EngineLoop::EngineLoop(EngineLoopParts parts, EngineLoopOptions options)
    : parts_(std::move(parts)),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : Clock::Real()),
      token_capacity_(parts_.scheduler->kv().token_capacity()),
      n_vocab_(parts_.forward->n_vocab()) {}

EngineLoop::~EngineLoop() { Stop(); }

Result<std::shared_ptr<RequestChannel>> EngineLoop::Submit(GenerateRequest request) {
  const GenerateRequest& r = request;
  if (r.prompt.empty()) return InvalidArgument("the prompt is empty");
  for (TokenId t : r.prompt) {
    if (t < 0 || t >= n_vocab_) {
      return InvalidArgument("token id " + std::to_string(t) + " is outside the vocabulary (0 .. " +
                             std::to_string(n_vocab_ - 1) + ")");
    }
  }
  CELLAR_RETURN_IF_ERROR(ValidateSamplingParams(r.sampling));
  if (r.max_tokens < 0) return InvalidArgument("max_tokens must be >= 0");
  if (r.logprobs.n_top < 0 || r.logprobs.n_top > kMaxTopLogprobs) {
    return InvalidArgument("top_logprobs must be between 0 and " + std::to_string(kMaxTopLogprobs));
  }
  const int64_t n_prompt = static_cast<int64_t>(r.prompt.size());
  const int64_t need = n_prompt + std::max(r.max_tokens, 1);
  if (need > options_.n_ctx) {
    return OutOfRange("the prompt (" + std::to_string(n_prompt) + " tokens) plus " +
                      (r.max_tokens > 0 ? "max_tokens (" + std::to_string(r.max_tokens) + ")"
                                        : std::string("one generated token")) +
                      " exceeds the context length of " + std::to_string(options_.n_ctx) +
                      " tokens");
  }
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (stopping_) return Unavailable("the engine is shutting down");
  if (n_pending_.fetch_add(1) >= options_.max_queue) {
    n_pending_.fetch_sub(1);
    return ResourceExhausted("the waiting queue is full (" + std::to_string(options_.max_queue) +
                             " requests); retry later");
  }
  EngineCommand c;
  c.kind = EngineCommand::Kind::kSubmit;
  c.id = next_id_.fetch_add(1);
  c.channel = std::make_shared<RequestChannel>(c.id);
  c.arrival_nanos = clock_->NowNanos();
  c.request = std::move(request);
  std::shared_ptr<RequestChannel> channel = c.channel;
  queue_.Push(std::move(c));
  return channel;
}

void EngineLoop::Cancel(RequestId id) {
  EngineCommand c;
  c.kind = EngineCommand::Kind::kCancel;
  c.id = id;
  queue_.Push(std::move(c));
}

void EngineLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (!stopping_) {
      stopping_ = true;
      EngineCommand c;
      c.kind = EngineCommand::Kind::kStop;
      queue_.Push(std::move(c));
    }
  }
  if (thread_.joinable()) thread_.join();
}

EngineStats EngineLoop::Stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

void EngineLoop::Run() {
  bool progressed = true;
  while (true) {
    // Sleep on the queue when idle; when requests exist but the last step
    // could schedule nothing (e.g. all wait for a store load), wait briefly.
    std::optional<std::chrono::nanoseconds> wait = std::chrono::nanoseconds(0);
    if (!parts_.scheduler->has_unfinished_requests()) {
      wait = std::nullopt;
    } else if (!progressed) {
      wait = std::chrono::milliseconds(1);
    }
    queue_.TakeAll(wait, &commands_);
    if (!Apply(commands_)) break;
    progressed = false;
    if (parts_.scheduler->has_unfinished_requests()) {
      const uint64_t steps_before = n_computed_tokens_;
      Step();
      progressed = n_computed_tokens_ != steps_before;
      if (options_.TEST_step_delay_nanos > 0) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(options_.TEST_step_delay_nanos));
      }
    }
    PublishStats();
  }
  // Stopping: everything still known ends as cancelled.
  std::vector<RequestId> ids;
  ids.reserve(requests_.size());
  for (const auto& [id, r] : requests_) ids.push_back(id);
  for (RequestId id : ids) {
    parts_.scheduler->Cancel(id);
    End(id, EndReason::kCancelled, /*finish_in_scheduler=*/false);
  }
  (void)parts_.scheduler->Schedule();  // frees the cancelled requests' blocks
  PublishStats();
}

bool EngineLoop::Apply(std::vector<EngineCommand>& commands) {
  bool keep_running = true;
  for (EngineCommand& c : commands) {
    switch (c.kind) {
      case EngineCommand::Kind::kSubmit: {
        std::shared_ptr<RequestChannel> channel = c.channel;
        auto r = LoopRequest::Create(c.id, std::move(c.request), c.channel, *parts_.tokenizer,
                                     n_vocab_, options_.n_ctx, c.arrival_nanos);
        if (!r.ok()) {
          n_pending_.fetch_sub(1);
          RequestSummary s;
          s.finish_reason = EndReason::kError;
          s.error = r.status();
          s.arrival_nanos = c.arrival_nanos;
          s.finish_nanos = clock_->NowNanos();
          channel->Close(std::move(s));
          break;
        }
        LoopRequest& lr = **r;
        NewRequest nr;
        nr.id = c.id;
        nr.prompt = lr.request().prompt;
        nr.tenant_salt = lr.request().tenant_salt;
        nr.session_id = lr.request().session_id;
        requests_.emplace(c.id, std::move(*r));
        Status s = parts_.scheduler->AddRequest(std::move(nr));
        if (!s.ok()) End(c.id, EndReason::kError, /*finish_in_scheduler=*/false, s);
        break;
      }
      case EngineCommand::Kind::kCancel:
        if (requests_.count(c.id) != 0) parts_.scheduler->Cancel(c.id);
        break;
      case EngineCommand::Kind::kStop:
        keep_running = false;
        break;
    }
  }
  commands.clear();
  return keep_running;
}

void EngineLoop::Step() {
  Scheduler& sched = *parts_.scheduler;
  SchedulerOutput out = sched.Schedule();
  for (RequestId id : out.cancelled_ids) End(id, EndReason::kCancelled, false);
  for (const AbortedRequest& a : out.aborted) {
    if (a.reason == AbortReason::kKvCapacity) {
      // The request alone fills the pool: it ends where it got to.
      End(a.id, EndReason::kLength, false);
    } else {
      End(a.id, EndReason::kError, false,
          Status(StatusCode::kDeadlineExceeded,
                 "waited in the queue longer than the queue timeout"));
    }
  }
  for (RequestId id : out.preempted_ids) {
    auto it = requests_.find(id);
    if (it != requests_.end()) it->second->OnPreempted();
  }
  for (const ScheduledRequest& sr : out.scheduled) {
    if (!sr.admitted_this_step) continue;
    auto it = requests_.find(sr.id);
    if (it == requests_.end() || it->second->admitted()) continue;
    const SchedRequest* s = sched.Find(sr.id);
    const int n_cached = s != nullptr ? s->n_cached_tokens : 0;
    it->second->OnFirstAdmission(n_cached);
    n_pending_.fetch_sub(1);
    const int n_prompt = it->second->n_prompt_tokens();
    n_prompt_tokens_ += static_cast<uint64_t>(n_prompt);
    n_pool_hit_tokens_ += static_cast<uint64_t>(n_cached);
    n_miss_tokens_ += static_cast<uint64_t>(n_prompt - n_cached);
  }
  if (out.scheduled.empty()) return;
  if (parts_.hooks != nullptr) parts_.hooks->OnScheduled(sched, out);

  batch_.entries.clear();
  for (const ScheduledRequest& sr : out.scheduled) {
    BatchEntry e;
    e.seq_id = static_cast<int64_t>(sr.id);
    e.tokens = sr.tokens;
    e.start_pos = sr.start_position;
    e.block_table = sr.block_table;
    e.n_logits = sr.logits_needed ? 1 : 0;
    batch_.entries.push_back(e);
  }
  const StepHooks hooks = parts_.hooks != nullptr ? parts_.hooks->ForwardHooks(out) : StepHooks{};
  Status st = parts_.forward->Step(batch_, hooks);
  n_computed_tokens_ += static_cast<uint64_t>(out.n_scheduled_tokens);
  if (!st.ok()) {
    CELLAR_LOG_ERROR("forward pass failed: {}", st.ToString());
    for (const ScheduledRequest& sr : out.scheduled) {
      End(sr.id, EndReason::kError, /*finish_in_scheduler=*/true, st);
    }
    return;
  }
  const int64_t now = clock_->NowNanos();
  sampled_.clear();
  finished_.clear();
  for (size_t i = 0; i < out.scheduled.size(); ++i) {
    const ScheduledRequest& sr = out.scheduled[i];
    if (!sr.logits_needed) continue;
    auto it = requests_.find(sr.id);
    if (it == requests_.end()) continue;
    LoopRequest& r = *it->second;
    const std::span<const float> logits = parts_.forward->Logits(static_cast<int>(i));
    const TokenId token = r.Sample(logits);
    sampled_.push_back(SampledToken{sr.id, token});
    ++n_generated_tokens_;
    if (std::optional<EndReason> reason = r.OnToken(token, logits, now)) {
      finished_.emplace_back(sr.id, *reason);
    }
  }
  sched.UpdateFromOutput(out, sampled_);
  if (parts_.hooks != nullptr) parts_.hooks->OnStepDone(sched, out);
  for (const auto& [id, reason] : finished_) End(id, reason, /*finish_in_scheduler=*/true);
}

void EngineLoop::End(RequestId id, EndReason reason, bool finish_in_scheduler, Status error) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  if (parts_.hooks != nullptr) parts_.hooks->OnRequestEnd(*parts_.scheduler, id, reason);
  if (finish_in_scheduler) parts_.scheduler->FinishRequest(id);
  if (!it->second->admitted()) n_pending_.fetch_sub(1);
  it->second->Finish(reason, clock_->NowNanos(), std::move(error));
  requests_.erase(it);
}

void EngineLoop::PublishStats() {
  const SchedulerStats s = parts_.scheduler->stats();
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.n_waiting = s.n_waiting;
  stats_.n_running = s.n_running;
  stats_.n_blocks_total = s.kv.n_blocks;
  stats_.n_blocks_used = s.kv.n_used_blocks;
  stats_.n_blocks_cached = s.kv.n_cached_blocks;
  stats_.n_steps = s.n_steps;
  stats_.n_preemptions = s.n_preemptions;
  stats_.n_prompt_tokens = n_prompt_tokens_;
  stats_.n_computed_tokens = n_computed_tokens_;
  stats_.n_generated_tokens = n_generated_tokens_;
  stats_.hit_tokens_by_tier["pool"] = n_pool_hit_tokens_;
  stats_.n_miss_tokens = n_miss_tokens_;
  if (parts_.hooks != nullptr) parts_.hooks->OnPublishStats(&stats_);
}

}  // namespace cellar

#include "sched/scheduler.h"

#include <algorithm>
#include <string>

namespace cellar {

Result<std::unique_ptr<Scheduler>> Scheduler::Create(SchedulerOptions options,
                                                     std::unique_ptr<KvCacheManager> kv) {
  if (kv == nullptr) return InvalidArgument("scheduler needs a KV cache manager");
  if (options.max_batch_tokens <= 0) {
    return InvalidArgument("max_batch_tokens must be positive (got " +
                           std::to_string(options.max_batch_tokens) + ")");
  }
  if (options.max_running <= 0 || options.max_running > options.max_batch_tokens) {
    return InvalidArgument("max_running must be in [1, max_batch_tokens] (got " +
                           std::to_string(options.max_running) + ")");
  }
  if (options.queue_timeout_nanos < 0) return InvalidArgument("negative queue timeout");
  return std::unique_ptr<Scheduler>(new Scheduler(std::move(options), std::move(kv)));
}

Scheduler::Scheduler(SchedulerOptions options, std::unique_ptr<KvCacheManager> kv)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      policy_(options_.policy != nullptr ? std::move(options_.policy) : MakeFcfsPolicy()),
      kv_(std::move(kv)) {}

Status Scheduler::AddRequest(NewRequest request) {
  if (request.prompt.empty()) return InvalidArgument("empty prompt");
  if (requests_.count(request.id) != 0) {
    return InvalidArgument("request id " + std::to_string(request.id) + " is already in use");
  }
  // The prompt plus one generated token must fit in the pool on its own.
  if (static_cast<int64_t>(request.prompt.size()) + 1 > kv_->token_capacity()) {
    return OutOfRange("prompt of " + std::to_string(request.prompt.size()) +
                      " tokens does not fit in the KV pool (" +
                      std::to_string(kv_->token_capacity()) + " tokens); raise --kv-mem");
  }
  auto r = std::make_unique<SchedRequest>();
  r->id = request.id;
  r->tenant_salt = request.tenant_salt;
  r->session_id = std::move(request.session_id);
  r->tokens = std::move(request.prompt);
  r->n_prompt_tokens = r->n_tokens();
  r->arrival_nanos = clock_->NowNanos();
  r->arrival_seq = next_arrival_seq_++;
  SchedRequest* raw = r.get();
  requests_.emplace(raw->id, std::move(r));
  policy_->Enqueue(&waiting_, raw, /*preempted=*/false);
  return OkStatus();
}

void Scheduler::Cancel(RequestId id) {
  auto it = requests_.find(id);
  if (it == requests_.end() || it->second->cancel_requested) return;
  it->second->cancel_requested = true;
  cancel_pending_.push_back(id);
}

const SchedRequest* Scheduler::Find(RequestId id) const {
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : it->second.get();
}

void Scheduler::Remove(SchedRequest* r) {
  kv_->Free(r->id);
  if (r->state == RequestState::kRunning) {
    running_.erase(std::find(running_.begin(), running_.end(), r));
  } else {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), r));
  }
  requests_.erase(r->id);
}

SchedulerOutput Scheduler::Schedule() {
  SchedulerOutput out;
  out.step = n_steps_++;
  out.finished_ids.swap(finished_pending_);
  DropCancelled(&out);
  DropTimedOut(&out);
  int budget = options_.max_batch_tokens;
  bool preempted_any = false;
  ScheduleRunning(&out, &budget, &preempted_any);
  // Like vLLM: after a preemption the pool is tight; admitting now would only
  // thrash.
  if (!preempted_any) AdmitWaiting(&out, &budget);
  NotifyQueueObserver();
  n_scheduled_tokens_ += static_cast<uint64_t>(out.n_scheduled_tokens);
  return out;
}

void Scheduler::DropCancelled(SchedulerOutput* out) {
  for (RequestId id : cancel_pending_) {
    auto it = requests_.find(id);
    if (it == requests_.end()) continue;  // finished meanwhile
    Remove(it->second.get());
    out->cancelled_ids.push_back(id);
  }
  cancel_pending_.clear();
}

void Scheduler::DropTimedOut(SchedulerOutput* out) {
  if (options_.queue_timeout_nanos <= 0) return;
  const int64_t now = clock_->NowNanos();
  std::vector<SchedRequest*> expired;
  for (SchedRequest* r : waiting_) {
    if (r->first_scheduled_nanos < 0 && now - r->arrival_nanos > options_.queue_timeout_nanos) {
      expired.push_back(r);
    }
  }
  for (SchedRequest* r : expired) {
    out->aborted.push_back({r->id, AbortReason::kQueueTimeout});
    Remove(r);
  }
}

void Scheduler::ScheduleRunning(SchedulerOutput* out, int* budget, bool* preempted_any) {
  // Decodes (one token to compute) first, then prompt chunks; each group keeps
  // admission order.
  std::vector<SchedRequest*> order;
  order.reserve(running_.size());
  for (SchedRequest* r : running_) {
    if (r->n_remaining_tokens() == 1) order.push_back(r);
  }
  for (SchedRequest* r : running_) {
    if (r->n_remaining_tokens() > 1) order.push_back(r);
  }
  for (SchedRequest* r : order) {
    if (*budget <= 0) break;
    if (r->state != RequestState::kRunning) continue;  // preempted earlier in this loop
    const int n_new = std::min(r->n_remaining_tokens(), *budget);
    if (!AllocateOrPreempt(r, n_new, out, budget)) continue;
    AddScheduled(r, n_new, /*admitted=*/false, 0, 0, out, budget);
  }
  *preempted_any = !out->preempted_ids.empty();
}

bool Scheduler::AllocateOrPreempt(SchedRequest* r, int n_new, SchedulerOutput* out, int* budget) {
  while (true) {
    if (kv_->AllocateSlots(KvView(*r), n_new)) return true;
    SchedRequest* victim = policy_->SelectVictim(running_);
    if (victim == r && running_.size() == 1) {
      // r holds every non-free block and still cannot grow.
      out->aborted.push_back({r->id, AbortReason::kKvCapacity});
      Remove(r);
      return false;
    }
    Preempt(victim, out, budget);
    if (victim == r) return false;
  }
}

void Scheduler::Preempt(SchedRequest* victim, SchedulerOutput* out, int* budget) {
  // Undo its part of this step, if it was already scheduled.
  auto item = std::find_if(out->scheduled.begin(), out->scheduled.end(),
                           [&](const ScheduledRequest& s) { return s.id == victim->id; });
  if (item != out->scheduled.end()) {
    *budget += item->n_new_tokens();
    out->n_scheduled_tokens -= item->n_new_tokens();
    out->scheduled.erase(item);
  }
  kv_->Free(victim->id);
  running_.erase(std::find(running_.begin(), running_.end(), victim));
  victim->n_computed_tokens = 0;
  victim->state = RequestState::kWaiting;
  ++victim->n_preemptions;
  ++n_preemptions_;
  policy_->Enqueue(&waiting_, victim, /*preempted=*/true);
  out->preempted_ids.push_back(victim->id);
}

void Scheduler::AdmitWaiting(SchedulerOutput* out, int* budget) {
  const int block_size = kv_->block_size();
  size_t i = 0;
  while (i < waiting_.size() && *budget > 0 &&
         static_cast<int>(running_.size()) < options_.max_running) {
    SchedRequest* r = waiting_[i];
    if (r->state == RequestState::kWaitingForLoad) {
      ++i;
      continue;
    }
    const KvRequest view = KvView(*r);
    const CachedPrefix prefix = kv_->GetComputedBlocks(view);
    int n_load = 0;
    if (external_source_ != nullptr) {
      const ExternalKvMatch match =
          external_source_->Match(r->id, r->tenant_salt, r->tokens, prefix.n_tokens);
      // Whole blocks only, and never the last token.
      const int max_load = (r->n_tokens() - 1 - prefix.n_tokens) / block_size * block_size;
      n_load = std::clamp(match.n_tokens / block_size * block_size, 0, std::max(max_load, 0));
      if (n_load > 0 && !match.ready) {
        r->state = RequestState::kWaitingForLoad;
        ++i;
        continue;
      }
    }
    const int n_cached = prefix.n_tokens + n_load;
    const int n_new = std::min(r->n_tokens() - n_cached, *budget);
    // FCFS: the head that does not fit blocks the ones behind it.
    if (!kv_->AllocateSlots(view, n_load + n_new, prefix)) break;
    waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(i));
    running_.push_back(r);
    r->state = RequestState::kRunning;
    r->n_computed_tokens = n_cached;
    if (r->first_scheduled_nanos < 0) {
      r->first_scheduled_nanos = clock_->NowNanos();
      r->n_cached_tokens = std::min(n_cached, r->n_prompt_tokens);
    }
    AddScheduled(r, n_new, /*admitted=*/true, prefix.n_tokens, n_load, out, budget);
  }
}

void Scheduler::AddScheduled(SchedRequest* r, int n_new, bool admitted, int load_start, int n_load,
                             SchedulerOutput* out, int* budget) {
  ScheduledRequest s;
  s.id = r->id;
  s.start_position = r->n_computed_tokens;
  s.tokens.assign(r->tokens.begin() + s.start_position,
                  r->tokens.begin() + s.start_position + n_new);
  const std::span<const BlockId> table = kv_->BlockTable(r->id);
  s.block_table.assign(table.begin(), table.end());
  s.logits_needed = s.start_position + n_new == r->n_tokens();
  s.load_start_position = load_start;
  s.n_load_tokens = n_load;
  s.admitted_this_step = admitted;
  r->n_computed_tokens += n_new;
  out->scheduled.push_back(std::move(s));
  out->n_scheduled_tokens += n_new;
  *budget -= n_new;
}

void Scheduler::UpdateFromOutput(const SchedulerOutput& out,
                                 std::span<const SampledToken> sampled) {
  for (const ScheduledRequest& s : out.scheduled) {
    auto it = requests_.find(s.id);
    if (it == requests_.end() || it->second->state != RequestState::kRunning) continue;
    kv_->CacheFullBlocks(KvView(*it->second));
  }
  for (const SampledToken& t : sampled) {
    auto it = requests_.find(t.id);
    if (it == requests_.end()) continue;
    SchedRequest& r = *it->second;
    // Only a running request whose every token has been computed takes a token.
    if (r.state != RequestState::kRunning || r.n_remaining_tokens() != 0) continue;
    r.tokens.push_back(t.token);
  }
}

void Scheduler::FinishRequest(RequestId id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  Remove(it->second.get());
  finished_pending_.push_back(id);
}

bool Scheduler::MarkWaitingForLoad(RequestId id) {
  auto it = requests_.find(id);
  if (it == requests_.end() || it->second->state != RequestState::kWaiting) return false;
  it->second->state = RequestState::kWaitingForLoad;
  return true;
}

bool Scheduler::MarkLoadReady(RequestId id) {
  auto it = requests_.find(id);
  if (it == requests_.end() || it->second->state != RequestState::kWaitingForLoad) return false;
  it->second->state = RequestState::kWaiting;
  return true;
}

void Scheduler::NotifyQueueObserver() {
  if (queue_observer_ == nullptr) return;
  std::vector<QueuedRequestInfo> queue;
  queue.reserve(waiting_.size());
  for (const SchedRequest* r : waiting_) {
    QueuedRequestInfo q;
    q.id = r->id;
    q.tenant_salt = r->tenant_salt;
    if (r->session_id.has_value()) q.session_id = *r->session_id;
    q.n_tokens = r->n_tokens();
    q.waiting_for_load = r->state == RequestState::kWaitingForLoad;
    queue.push_back(q);
  }
  queue_observer_->OnWaitingQueue(queue);
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats s;
  s.n_waiting = n_waiting();
  for (const SchedRequest* r : waiting_) {
    s.n_waiting_for_load += r->state == RequestState::kWaitingForLoad ? 1 : 0;
  }
  s.n_running = n_running();
  s.n_steps = n_steps_;
  s.n_preemptions = n_preemptions_;
  s.n_scheduled_tokens = n_scheduled_tokens_;
  s.kv = kv_->stats();
  return s;
}

}  // namespace cellar

#include "sched/scheduling_policy.h"

namespace cellar {

namespace {

class FcfsPolicy final : public SchedulingPolicy {
 public:
  std::string_view name() const override { return "fcfs"; }
  void Enqueue(std::deque<SchedRequest*>* waiting, SchedRequest* r, bool preempted) const override {
    if (preempted) {
      waiting->push_front(r);
    } else {
      waiting->push_back(r);
    }
  }
  SchedRequest* SelectVictim(std::span<SchedRequest* const> running) const override {
    SchedRequest* victim = running.front();
    for (SchedRequest* r : running) {
      if (r->arrival_seq > victim->arrival_seq) victim = r;
    }
    return victim;
  }
};

}  // namespace

std::unique_ptr<SchedulingPolicy> MakeFcfsPolicy() { return std::make_unique<FcfsPolicy>(); }

}  // namespace cellar

// SchedulingPolicy: the small decisions that make a scheduling discipline: where
// a request enters the waiting queue, and which running request gives up its
// blocks when the pool runs out. Chosen once when the scheduler is made.
//
//   FCFS (default): arrivals join the back of the queue; a preempted request
//   goes back to the FRONT (it arrived earlier than everyone still waiting); the
//   victim of preemption is the latest-arrived running request.
//
// Thread-safety: stateless const methods; called on the engine thread.
#pragma once

#include <deque>
#include <memory>
#include <span>
#include <string_view>

#include "sched/sched_request.h"

namespace cellar {

class SchedulingPolicy {
 public:
  virtual ~SchedulingPolicy() = default;
  virtual std::string_view name() const = 0;
  // Puts `r` into `waiting` (front = admitted first). `preempted`: r was running.
  virtual void Enqueue(std::deque<SchedRequest*>* waiting, SchedRequest* r,
                       bool preempted) const = 0;
  // The running request to preempt. REQUIRES: !running.empty().
  virtual SchedRequest* SelectVictim(std::span<SchedRequest* const> running) const = 0;
};

std::unique_ptr<SchedulingPolicy> MakeFcfsPolicy();

}  // namespace cellar

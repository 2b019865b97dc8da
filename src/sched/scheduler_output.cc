#include "sched/scheduler_output.h"

namespace cellar {

std::string_view AbortReasonName(AbortReason r) {
  switch (r) {
    case AbortReason::kKvCapacity:
      return "kv_capacity";
    case AbortReason::kQueueTimeout:
      return "queue_timeout";
  }
  return "?";
}

}  // namespace cellar

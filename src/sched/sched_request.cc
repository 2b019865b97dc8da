#include "sched/sched_request.h"

namespace cellar {

std::string_view RequestStateName(RequestState s) {
  switch (s) {
    case RequestState::kWaiting:
      return "waiting";
    case RequestState::kWaitingForLoad:
      return "waiting_for_load";
    case RequestState::kRunning:
      return "running";
  }
  return "?";
}

}  // namespace cellar

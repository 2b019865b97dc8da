#include "engine/request_output.h"

namespace cellar {

std::string_view EndReasonName(EndReason reason) {
  switch (reason) {
    case EndReason::kStop:
      return "stop";
    case EndReason::kLength:
      return "length";
    case EndReason::kCancelled:
      return "cancelled";
    case EndReason::kError:
      return "error";
  }
  return "error";
}

}  // namespace cellar

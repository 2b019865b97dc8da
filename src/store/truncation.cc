#include "store/truncation.h"

#include <algorithm>
#include <string>

namespace cellar {
namespace {

void Add(std::vector<KeptRange>* v, int src_begin, int src_end, int dst_begin) {
  if (src_end > src_begin) v->push_back({src_begin, src_end, dst_begin});
}

}  // namespace

Result<TruncationPlan> PlanTruncation(const TruncationInput& in) {
  if (in.n_prompt <= 0 || in.n_cached < 0 || in.n_cached > in.n_prompt || in.max_tokens < 0 ||
      in.n_ctx <= 0 || in.n_keep < 0 || in.drop_align <= 0) {
    return InvalidArgument("PlanTruncation: inconsistent input");
  }
  TruncationPlan p;
  if (in.n_prompt + in.max_tokens <= in.n_ctx) {
    Add(&p.load, 0, in.n_cached, 0);
    p.n_loaded = in.n_cached;
    Add(&p.compute, in.n_cached, in.n_prompt, in.n_cached);
    p.n_positions = in.n_prompt;
    return p;
  }
  const int keep = std::min(in.n_keep, in.n_prompt - 1);
  const int need = in.n_prompt + in.max_tokens - in.n_ctx;
  const int cap = in.n_prompt - keep - 1;  // the last prompt token always stays
  if (need > cap) {
    return OutOfRange("prompt of " + std::to_string(in.n_prompt) + " tokens + max_tokens " +
                      std::to_string(in.max_tokens) + " does not fit a context of " +
                      std::to_string(in.n_ctx) + " even after truncation");
  }
  const int aligned = (need + in.drop_align - 1) / in.drop_align * in.drop_align;
  const int n_drop = std::min(aligned, cap);
  p.truncated = true;
  p.drop_begin = keep;
  p.drop_end = keep + n_drop;
  // Kept: [0, keep) at 0 and [drop_end, n_prompt) at keep. What is loaded must be
  // a prefix of the new layout, so the recent part is loaded only when the whole
  // kept head is cached.
  const int head_cached = std::min(keep, in.n_cached);
  Add(&p.load, 0, head_cached, 0);
  p.n_loaded = head_cached;
  if (head_cached == keep && in.n_cached > p.drop_end) {
    Add(&p.load, p.drop_end, in.n_cached, keep);
    p.n_loaded += in.n_cached - p.drop_end;
  }
  if (p.n_loaded < keep) {
    Add(&p.compute, p.n_loaded, keep, p.n_loaded);
    Add(&p.compute, p.drop_end, in.n_prompt, keep);
  } else {
    const int src = p.drop_end + (p.n_loaded - keep);
    Add(&p.compute, src, in.n_prompt, p.n_loaded);
  }
  p.n_positions = in.n_prompt - n_drop;
  return p;
}

}  // namespace cellar

// ProgressBar: a one-line progress display of a replay on stderr, redrawn in place
// ("\r"). Used when stderr is a terminal, or when forced (--progress always).
//
// Thread-safety: called from the replay's Run thread only (its progress callback).
#pragma once

#include <cstdio>
#include <string>

#include "replay/replayer.h"

namespace cellar::replay {

// The text of one progress line, `bar_width` cells of bar, e.g.
// "recompute [#####.....] 50/100 turns 50% | 3 in flight | 1 errors | 12.0 s | ETA 12 s"
std::string FormatProgressLine(const std::string& label, const ReplayProgress& p, int bar_width);

class ProgressBar {
 public:
  ProgressBar(bool enabled, std::string label, std::FILE* out = stderr)
      : enabled_(enabled), label_(std::move(label)), out_(out) {}
  ~ProgressBar() { Finish(); }

  void Update(const ReplayProgress& p);
  // Ends the line (once).
  void Finish();

 private:
  bool enabled_;
  std::string label_;
  std::FILE* out_;
  bool drawn_ = false;
  size_t last_len_ = 0;
};

// True when `fd` is a terminal.
bool IsTerminal(int fd);

}  // namespace cellar::replay

#include "replay/progress_bar.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

namespace cellar::replay {

std::string FormatProgressLine(const std::string& label, const ReplayProgress& p, int bar_width) {
  const double frac =
      p.total_turns > 0 ? std::clamp(static_cast<double>(p.finished) / p.total_turns, 0.0, 1.0) : 0;
  const int filled = static_cast<int>(frac * bar_width);
  std::string line = label.empty() ? "" : label + " ";
  line += "[" + std::string(filled, '#') + std::string(bar_width - filled, '.') + "] ";
  line += fmt::format("{}/{} turns {:.0f}% | {} in flight | {} errors | {:.1f} s", p.finished,
                      p.total_turns, frac * 100, p.in_flight, p.errors, p.elapsed_s);
  if (p.stopping) {
    line += " | stopping";
  } else if (p.finished > 0 && p.finished < p.total_turns) {
    const double eta = p.elapsed_s / p.finished * (p.total_turns - p.finished);
    line += fmt::format(" | ETA {:.0f} s", eta);
  }
  return line;
}

void ProgressBar::Update(const ReplayProgress& p) {
  if (!enabled_) return;
  std::string line = FormatProgressLine(label_, p, 30);
  const size_t len = line.size();
  if (len < last_len_) line += std::string(last_len_ - len, ' ');  // erase leftovers
  last_len_ = len;
  std::fprintf(out_, "\r%s", line.c_str());
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (drawn_) {
    std::fprintf(out_, "\n");
    std::fflush(out_);
    drawn_ = false;
  }
}

bool IsTerminal(int fd) { return ::isatty(fd) == 1; }

}  // namespace cellar::replay

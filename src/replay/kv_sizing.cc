#include "replay/kv_sizing.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace cellar::replay {
namespace {

constexpr int64_t kMiB = 1 << 20;

int64_t RoundUpMiB(double bytes) {
  const auto mib = static_cast<int64_t>(std::ceil(bytes / static_cast<double>(kMiB)));
  return std::max<int64_t>(mib, 1) * kMiB;
}

}  // namespace

Result<KvShape> ParseKvShape(std::string_view s) {
  const auto bad = [&] {
    return InvalidArgument("KV shape must be L,H,D[,B] with positive integers: " + std::string(s));
  };
  int v[4] = {0, 0, 0, 2};
  int n = 0;
  for (size_t i = 0;; ++n) {
    const size_t end = std::min(s.find(',', i), s.size());
    if (n == 4) return bad();
    const std::string_view tok = s.substr(i, end - i);
    auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v[n]);
    if (tok.empty() || ec != std::errc() || p != tok.data() + tok.size() || v[n] <= 0) return bad();
    if (end == s.size()) break;
    i = end + 1;
  }
  if (n < 2) return bad();  // n is the index of the last field read
  return KvShape{v[0], v[1], v[2], v[3]};
}

WorkloadKv EstimateWorkloadKv(const Workload& w, int64_t bytes_per_token, double chars_per_token,
                              int64_t max_tokens) {
  WorkloadKv kv;
  kv.bytes_per_token = bytes_per_token;
  kv.n_conversations = static_cast<int64_t>(w.conversations.size());
  for (const Conversation& c : w.conversations) {
    if (c.turns.empty()) continue;
    const double tokens =
        static_cast<double>(PromptChars(c, c.turns.size() - 1)) / chars_per_token +
        static_cast<double>(c.turns.size()) * static_cast<double>(std::max<int64_t>(max_tokens, 0));
    kv.total_tokens += tokens;
    kv.max_conversation_tokens = std::max(kv.max_conversation_tokens, tokens);
  }
  if (kv.n_conversations > 0) kv.mean_conversation_tokens = kv.total_tokens / kv.n_conversations;
  kv.total_bytes = static_cast<int64_t>(std::ceil(kv.total_tokens * bytes_per_token));
  kv.max_conversation_bytes =
      static_cast<int64_t>(std::ceil(kv.max_conversation_tokens * bytes_per_token));
  return kv;
}

TierSizes SuggestTierSizes(const WorkloadKv& kv, int pool_requests, double dram_fraction) {
  TierSizes t;
  t.pool_requests = std::max(pool_requests, 1);
  t.kv_mem = RoundUpMiB(1.25 * t.pool_requests * static_cast<double>(kv.max_conversation_bytes));
  t.store_dram = RoundUpMiB(dram_fraction * static_cast<double>(kv.total_bytes));
  t.store_disk = RoundUpMiB(2.0 * static_cast<double>(kv.total_bytes));
  t.dram_fraction = dram_fraction;
  return t;
}

std::string FormatSize(int64_t bytes) {
  if (bytes <= 0) return "0";
  static constexpr const char* kSuffix[] = {"", "K", "M", "G", "T"};
  int unit = 0;
  double v = static_cast<double>(bytes);
  while (unit < 4 && v >= 1024.0) {
    v /= 1024.0;
    ++unit;
  }
  return fmt::format("{}{}", static_cast<int64_t>(std::ceil(v - 1e-9)), kSuffix[unit]);
}

Result<int64_t> ParseSize(std::string_view s) {
  const std::string orig(s);
  if (s.size() >= 2 && (s.substr(s.size() - 2) == "iB" || s.substr(s.size() - 2) == "ib")) {
    s.remove_suffix(2);
  } else if (s.size() >= 2 && (s.back() == 'B' || s.back() == 'b') &&
             std::isalpha(static_cast<unsigned char>(s[s.size() - 2]))) {
    s.remove_suffix(1);
  }
  int shift = 0;
  if (!s.empty() && std::isalpha(static_cast<unsigned char>(s.back()))) {
    switch (std::toupper(static_cast<unsigned char>(s.back()))) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      default:
        return InvalidArgument("bad size suffix: " + orig);
    }
    s.remove_suffix(1);
  }
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || n < 0) {
    return InvalidArgument("bad size: " + orig);
  }
  if (n > (INT64_MAX >> shift)) return OutOfRange("size too large: " + orig);
  return n << shift;
}

std::string DescribeSizing(const WorkloadKv& kv, const TierSizes& t) {
  std::string s;
  s += fmt::format(
      "workload KV estimate: {} conversations, {:.0f} tokens in all (mean {:.0f}, "
      "largest {:.0f}), {} bytes per token\n",
      kv.n_conversations, kv.total_tokens, kv.mean_conversation_tokens, kv.max_conversation_tokens,
      kv.bytes_per_token);
  s +=
      fmt::format("  total KV {} ({} bytes), largest conversation {}\n", FormatSize(kv.total_bytes),
                  kv.total_bytes, FormatSize(kv.max_conversation_bytes));
  s += fmt::format(
      "suggested tiers (pool = 1.25 x {} running x largest; DRAM = {:.0f}% of total; "
      "disk = 2 x total):\n  --kv-mem {} --store-dram {} --store-disk {}\n",
      t.pool_requests, t.dram_fraction * 100, FormatSize(t.kv_mem), FormatSize(t.store_dram),
      FormatSize(t.store_disk));
  if (t.kv_mem >= t.store_dram) {
    s += "  warning: the pool is as large as DRAM: hits will come from the pool, not the store;\n"
         "  use more conversations or a lower --pool-requests\n";
  }
  return s;
}

}  // namespace cellar::replay

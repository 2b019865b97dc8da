#include "replay/prometheus.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace cellar::replay {
namespace {

bool IsNameStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

void SkipSpaces(std::string_view s, size_t* i) {
  while (*i < s.size() && (s[*i] == ' ' || s[*i] == '\t')) ++*i;
}

std::optional<double> ParseValue(std::string_view tok) {
  if (tok == "+Inf" || tok == "Inf") return std::numeric_limits<double>::infinity();
  if (tok == "-Inf") return -std::numeric_limits<double>::infinity();
  if (tok == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (!tok.empty() && tok[0] == '+') tok.remove_prefix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  if (ec != std::errc() || p != tok.data() + tok.size()) return std::nullopt;
  return v;
}

// Parses `{a="x",b="y"}` starting at s[*i] == '{'.
bool ParseLabels(std::string_view s, size_t* i, std::map<std::string, std::string>* labels) {
  ++*i;  // '{'
  while (true) {
    SkipSpaces(s, i);
    if (*i < s.size() && s[*i] == '}') {
      ++*i;
      return true;
    }
    const size_t name_begin = *i;
    while (*i < s.size() && IsNameChar(s[*i])) ++*i;
    if (*i == name_begin) return false;
    std::string name(s.substr(name_begin, *i - name_begin));
    SkipSpaces(s, i);
    if (*i >= s.size() || s[*i] != '=') return false;
    ++*i;
    SkipSpaces(s, i);
    if (*i >= s.size() || s[*i] != '"') return false;
    ++*i;
    std::string value;
    while (true) {
      if (*i >= s.size()) return false;
      const char c = s[(*i)++];
      if (c == '"') break;
      if (c == '\\') {
        if (*i >= s.size()) return false;
        const char e = s[(*i)++];
        value.push_back(e == 'n' ? '\n' : e);  // \\ -> \, \" -> ", \n -> LF
      } else {
        value.push_back(c);
      }
    }
    (*labels)[std::move(name)] = std::move(value);
    SkipSpaces(s, i);
    if (*i < s.size() && s[*i] == ',') ++*i;
  }
}

}  // namespace

Result<std::vector<MetricSample>> ParsePrometheusText(std::string_view text) {
  std::vector<MetricSample> out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t i = 0;
    SkipSpaces(line, &i);
    if (i == line.size() || line[i] == '#') continue;
    const auto bad = [&](const char* what) {
      return InvalidArgument("metrics line " + std::to_string(line_no) + ": " + what + ": " +
                             std::string(line.substr(0, 200)));
    };
    MetricSample m;
    const size_t name_begin = i;
    if (!IsNameStart(line[i])) return bad("bad metric name");
    while (i < line.size() && IsNameChar(line[i])) ++i;
    m.name = std::string(line.substr(name_begin, i - name_begin));
    SkipSpaces(line, &i);
    if (i < line.size() && line[i] == '{' && !ParseLabels(line, &i, &m.labels)) {
      return bad("bad labels");
    }
    SkipSpaces(line, &i);
    const size_t value_begin = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    std::optional<double> v = ParseValue(line.substr(value_begin, i - value_begin));
    if (!v) return bad("bad value");
    m.value = *v;
    out.push_back(std::move(m));  // an optional timestamp after the value is ignored
  }
  return out;
}

double TierCounts::TotalTokens() const {
  double t = miss_tokens;
  for (const auto& [tier, n] : hit_tokens) t += n;
  return t;
}

double TierCounts::HitRate(const std::string& tier) const {
  const double total = TotalTokens();
  if (!(total > 0)) return std::numeric_limits<double>::quiet_NaN();
  auto it = hit_tokens.find(tier);
  return it == hit_tokens.end() ? 0.0 : it->second / total;
}

double TierCounts::TotalHitRate() const {
  const double total = TotalTokens();
  if (!(total > 0)) return std::numeric_limits<double>::quiet_NaN();
  return (total - miss_tokens) / total;
}

std::optional<TierCounts> ExtractTierCounts(const std::vector<MetricSample>& samples) {
  TierCounts c;
  bool found = false;
  for (const MetricSample& m : samples) {
    if (m.name == kHitTokensMetric) {
      auto tier = m.labels.find("tier");
      c.hit_tokens[tier == m.labels.end() ? std::string("unknown") : tier->second] += m.value;
      found = true;
    } else if (m.name == kMissTokensMetric) {
      c.miss_tokens += m.value;
      found = true;
    }
  }
  if (!found) return std::nullopt;
  return c;
}

TierCounts DiffTierCounts(const TierCounts& after, const TierCounts& before) {
  TierCounts d;
  d.miss_tokens = after.miss_tokens - before.miss_tokens;
  for (const auto& [tier, n] : after.hit_tokens) {
    auto it = before.hit_tokens.find(tier);
    d.hit_tokens[tier] = n - (it == before.hit_tokens.end() ? 0.0 : it->second);
  }
  return d;
}

}  // namespace cellar::replay

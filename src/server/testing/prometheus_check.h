// Test helper: checks one line of the Prometheus text exposition format as
// /metrics writes it (without std::regex, whose GCC 12 instantiation trips
// -Wmaybe-uninitialized under the sanitizer build).
#pragma once

#include <cctype>
#include <cstdlib>
#include <string>

namespace cellar::testing {

// A "# HELP cellar_x text" / "# TYPE cellar_x type" line, or a sample
// "cellar_x{label="value",...} number".
inline bool IsCellarMetricLine(const std::string& line) {
  auto name_end = [&](size_t i) {
    while (i < line.size() &&
           (std::islower(static_cast<unsigned char>(line[i])) || line[i] == '_')) {
      ++i;
    }
    return i;
  };
  if (line.rfind("# HELP cellar_", 0) == 0 || line.rfind("# TYPE cellar_", 0) == 0) {
    const size_t e = name_end(7);
    return e < line.size() && line[e] == ' ' && e + 1 < line.size();
  }
  if (line.rfind("cellar_", 0) != 0) return false;
  size_t i = name_end(0);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      const size_t k = name_end(i);
      if (k == i || k + 1 >= line.size() || line[k] != '=' || line[k + 1] != '"') return false;
      const size_t close = line.find('"', k + 2);
      if (close == std::string::npos) return false;
      i = close + 1;
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      return false;
    }
  }
  if (i >= line.size() || line[i] != ' ') return false;
  const std::string value = line.substr(i + 1);
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  return !value.empty() && end != nullptr && *end == '\0';
}

}  // namespace cellar::testing

#include "store/store_options.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace cellar {

std::string DefaultStoreDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/cellar";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.cache/cellar";
  }
  return ".cellar-cache";
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  const std::string s(text);
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return InvalidArgument("bad byte size '" + s + "'");
  const std::string number = s.substr(0, i);
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end == nullptr || *end != '\0' || !std::isfinite(value) || value < 0) {
    return InvalidArgument("bad byte size '" + s + "'");
  }
  std::string unit = s.substr(i);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() >= 3 && unit.compare(unit.size() - 2, 2, "IB") == 0) {
    unit.resize(unit.size() - 2);
  } else if (unit.size() >= 2 && unit.back() == 'B') {
    unit.pop_back();
  } else if (unit == "B") {
    unit.clear();
  }
  double mult = 1;
  if (unit.empty()) {
    mult = 1;
  } else if (unit == "K") {
    mult = 1024.0;
  } else if (unit == "M") {
    mult = 1024.0 * 1024;
  } else if (unit == "G") {
    mult = 1024.0 * 1024 * 1024;
  } else if (unit == "T") {
    mult = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return InvalidArgument("bad byte size unit in '" + s + "' (K, M, G, T)");
  }
  const double bytes = value * mult;
  if (bytes > 9e18) return InvalidArgument("byte size too large: '" + s + "'");
  return static_cast<uint64_t>(std::llround(bytes));
}

}  // namespace cellar

#include "base/testing/shared_data.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cellar::testing {

std::filesystem::path SharedDir() {
  if (const char* env = std::getenv("CELLAR_SHARED_DIR"); env != nullptr && *env != '\0') {
    return std::filesystem::path(env);
  }
#ifdef CELLAR_SHARED_DIR_DEFAULT
  return std::filesystem::path(CELLAR_SHARED_DIR_DEFAULT);
#else
  return std::filesystem::path("../shared");
#endif
}

std::filesystem::path SharedPath(const std::string& rel) { return SharedDir() / rel; }

std::string ReadFileToString(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cellar-test-XXXXXX").string();
  char* p = ::mkdtemp(tmpl.data());
  path_ = p != nullptr ? std::filesystem::path(p) : std::filesystem::path();
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace cellar::testing

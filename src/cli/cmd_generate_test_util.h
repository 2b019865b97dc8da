// Test helper for the CLI tests of generate/chat/perplexity/bench: runs the built
// `cellar` binary (CELLAR_BINARY) through a shell, capturing stdout and stderr.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "base/testing/shared_data.h"

namespace cellar::testing {

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

// Runs `cellar <args>` with `stdin_text` on stdin (empty: /dev/null).
inline CliRun RunCli(const std::string& args, const std::string& stdin_text = "") {
  TempDir dir;
  const auto in = dir.path() / "stdin", err = dir.path() / "stderr";
  {
    FILE* f = std::fopen(in.c_str(), "wb");
    if (f != nullptr) {
      std::fwrite(stdin_text.data(), 1, stdin_text.size(), f);
      std::fclose(f);
    }
  }
  const std::string cmd = std::string(CELLAR_BINARY) + " " + args + " < " +
                          ShellQuote(in.string()) + " 2> " + ShellQuote(err.string());
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = ReadFileToString(err);
  return r;
}

}  // namespace cellar::testing

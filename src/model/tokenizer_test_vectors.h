// Test helper (header only, for tests of model/ and cli/): reads llama.cpp's
// tokenizer test vectors, ggml-vocab-NAME.gguf.inp / .out (see
// ../shared/vocab/README.md). Inputs are separated by "\n__ggml_vocab_test__\n"
// (the text between two separators is one input, exactly; the file ends with a
// separator); .out line k holds the ids of input k, space separated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace cellar::testing {

struct TokenizerVectors {
  std::vector<std::string> inputs;
  std::vector<std::vector<int32_t>> expected;
};

inline std::optional<TokenizerVectors> ReadTokenizerVectors(const std::filesystem::path& inp,
                                                            const std::filesystem::path& out) {
  std::ifstream fin(inp, std::ios::binary);
  std::ifstream fout(out, std::ios::binary);
  if (!fin || !fout) return std::nullopt;
  const std::string raw((std::istreambuf_iterator<char>(fin)), std::istreambuf_iterator<char>());
  const std::string sep = "\n__ggml_vocab_test__\n";
  TokenizerVectors v;
  size_t pos = 0;
  while (pos < raw.size()) {
    const size_t hit = raw.find(sep, pos);
    if (hit == std::string::npos) {
      v.inputs.push_back(raw.substr(pos));  // no trailing separator: the rest is one input
      break;
    }
    v.inputs.push_back(raw.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
  for (std::string line; std::getline(fout, line);) {
    std::istringstream ss(line);
    std::vector<int32_t> ids;
    for (int64_t id; ss >> id;) ids.push_back(static_cast<int32_t>(id));
    v.expected.push_back(std::move(ids));
  }
  return v;
}

}  // namespace cellar::testing

// libFuzzer target for the tokenizers: Encode / Decode / StreamingDetokenizer on
// arbitrary bytes, for SPM, byte-level BPE and WordPiece vocabularies.
//
// Vocabularies: $CELLAR_FUZZ_VOCABS, a ':'-separated list of GGUF files; default
// the four below under $CELLAR_SHARED_DIR (default ../shared, i.e. run from the
// repository root). See docs/FUZZING.md for the command and the seed corpus.
//
// Input: byte 0 picks the vocabulary and the flags, the rest is the text. Checks
// (each a crash when violated): ids in range; Decode is valid UTF-8; byte-level
// BPE with a complete byte alphabet round-trips (Decode(Encode(x)) ==
// SanitizeUtf8(x)); streaming output is valid UTF-8 and equals Decode, for the
// encoded ids and for the input bytes read as ids.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/streaming_detokenizer.h"
#include "model/tokenizer.h"
#include "model/unicode_byte_map.h"
#include "model/unicode_utf8.h"

namespace {

struct Loaded {
  std::unique_ptr<cellar::Tokenizer> tok;
  bool complete_byte_alphabet = false;
};

std::vector<Loaded>& Tokenizers() {
  static std::vector<Loaded> tokenizers;
  return tokenizers;
}

std::vector<std::string> VocabPaths() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("CELLAR_FUZZ_VOCABS"); env != nullptr && *env != '\0') {
    std::string s(env);
    size_t pos = 0;
    while (pos <= s.size()) {
      const size_t colon = s.find(':', pos);
      const size_t end = colon == std::string::npos ? s.size() : colon;
      if (end > pos) paths.push_back(s.substr(pos, end - pos));
      pos = end + 1;
    }
    return paths;
  }
  const char* shared_env = std::getenv("CELLAR_SHARED_DIR");
  const std::string shared =
      shared_env != nullptr && *shared_env != '\0' ? shared_env : "../shared";
  for (const char* name : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf",
                           "ggml-vocab-phi-3.gguf", "ggml-vocab-bert-bge.gguf"}) {
    paths.push_back(shared + "/vocab/" + name);
  }
  return paths;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tokenizer_fuzzer: property violated: %s\n", what);
    std::abort();
  }
}

void CheckStreaming(const cellar::Tokenizer& tok, const std::vector<int32_t>& ids,
                    bool render_special) {
  cellar::StreamingDetokenizer::Options opts;
  opts.render_special = render_special;
  cellar::StreamingDetokenizer stream(tok, opts);
  std::string streamed;
  for (int32_t id : ids) {
    const std::string part = stream.Push(id);
    Check(cellar::unicode::IsValidUtf8(part), "streamed piece is valid UTF-8");
    streamed += part;
  }
  const std::string tail = stream.Flush();
  Check(cellar::unicode::IsValidUtf8(tail), "flushed tail is valid UTF-8");
  streamed += tail;
  Check(streamed == tok.Decode(ids, render_special), "streaming == Decode");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  for (const std::string& path : VocabPaths()) {
    auto file = cellar::GgufFile::Open(path);
    if (!file.ok()) {
      std::fprintf(stderr, "tokenizer_fuzzer: %s\n", file.status().ToString().c_str());
      continue;
    }
    auto tok = cellar::Tokenizer::FromGguf(**file);
    if (!tok.ok()) {
      std::fprintf(stderr, "tokenizer_fuzzer: %s: %s\n", path.c_str(),
                   tok.status().ToString().c_str());
      continue;
    }
    Loaded l;
    l.complete_byte_alphabet = (*tok)->vocab().type() == cellar::VocabType::kBpe;
    for (int b = 0; b < 256 && l.complete_byte_alphabet; ++b) {
      l.complete_byte_alphabet =
          (*tok)
              ->vocab()
              .FindToken(cellar::unicode::ByteToUtf8(static_cast<uint8_t>(b)))
              .has_value();
    }
    l.tok = std::move(*tok);
    std::fprintf(stderr, "tokenizer_fuzzer: loaded %s\n", path.c_str());
    Tokenizers().push_back(std::move(l));
  }
  if (Tokenizers().empty()) {
    std::fprintf(stderr,
                 "tokenizer_fuzzer: no vocabulary could be loaded (set CELLAR_FUZZ_VOCABS)\n");
    std::exit(1);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const Loaded& l = Tokenizers()[(control & 0x0F) % Tokenizers().size()];
  const cellar::Tokenizer& tok = *l.tok;
  const bool add_special = control & 0x10;
  const bool parse_special = control & 0x20;
  const bool render_special = control & 0x40;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);

  const std::vector<int32_t> ids = tok.Encode(text, add_special, parse_special);
  for (int32_t id : ids) Check(tok.vocab().IsValid(id), "id in range");
  const std::string decoded = tok.Decode(ids, render_special);
  Check(cellar::unicode::IsValidUtf8(decoded), "Decode is valid UTF-8");
  if (l.complete_byte_alphabet && !parse_special && !render_special) {
    Check(decoded == cellar::unicode::SanitizeUtf8(text), "byte-level BPE round trip");
  }
  CheckStreaming(tok, ids, render_special);

  // The input read as 16-bit ids (most out of range: those must be ignored).
  std::vector<int32_t> raw_ids;
  for (size_t i = 1; i + 1 < size; i += 2) raw_ids.push_back(data[i] | (data[i + 1] << 8));
  CheckStreaming(tok, raw_ids, render_special);
  return 0;
}

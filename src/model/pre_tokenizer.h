// PreTokenizer: splits text into the pieces that byte-level BPE merges within,
// by running a pre-tokenizer's regex sequence (pre_tokenizer_table.h) on PCRE2
// with JIT, in UTF + UCP mode.
//
// Semantics (those of HF tokenizers' Split(behavior=Isolated) sequence and of
// llama.cpp's unicode_regex_split): regex k runs separately on every piece left by
// regexes 0..k-1, each piece being the whole subject (lookarounds and `$` see the
// piece's ends, not the text's); matches and the text between them all become
// pieces, in order. Translation to PCRE2: `\s`/`\S` become \p{White_Space} /
// \P{White_Space} (HF's \s is the White_Space property, which includes U+0085);
// `$` matches only at the very end (PCRE2_DOLLAR_ENDONLY).
//
// Thread-safety: immutable after Create; Split may run on many threads at once
// (each thread keeps its own PCRE2 match data and JIT stack).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cellar {

class PreTokenizer {
 public:
  // Compiles `regexes` (HF syntax). INVALID_ARGUMENT naming the regex on a compile error.
  static Result<std::unique_ptr<PreTokenizer>> Create(std::span<const std::string_view> regexes);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // The pieces of `text`, views into it, covering it exactly and in order; none is
  // empty. REQUIRES: text is valid UTF-8 (see unicode_utf8.h: SanitizeUtf8).
  // If PCRE2 fails on a piece (JIT stack exhausted on pathological input), the code
  // point at the failing position becomes a piece of its own and matching resumes
  // after it: text is never lost.
  std::vector<std::string_view> Split(std::string_view text) const;

  // The HF regex translated to PCRE2 syntax (exposed for tests and docs).
  static std::string TranslateRegex(std::string_view hf_regex);

 private:
  struct Compiled;
  explicit PreTokenizer(std::vector<Compiled> regexes);
  std::vector<Compiled> regexes_;
};

}  // namespace cellar

#include "model/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <utility>

#include "model/unicode_utf8.h"

namespace cellar {

struct PreTokenizer::Compiled {
  pcre2_code* code = nullptr;
  std::string pattern;
};

namespace {

// Per-thread PCRE2 match state: match data with room for any of our patterns'
// captures, and a JIT stack that grows on demand up to kJitStackMax.
constexpr size_t kJitStackStart = 32 * 1024;
constexpr size_t kJitStackMax = 8 * 1024 * 1024;
constexpr uint32_t kOvectorPairs = 32;

struct ThreadMatchState {
  pcre2_match_data* match_data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;

  ThreadMatchState() {
    match_data = pcre2_match_data_create(kOvectorPairs, nullptr);
    context = pcre2_match_context_create(nullptr);
    jit_stack = pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr);
    if (context != nullptr && jit_stack != nullptr) {
      pcre2_jit_stack_assign(context, nullptr, jit_stack);
    }
  }
  ~ThreadMatchState() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(match_data);
  }
  ThreadMatchState(const ThreadMatchState&) = delete;
  ThreadMatchState& operator=(const ThreadMatchState&) = delete;
};

ThreadMatchState& MatchState() {
  thread_local ThreadMatchState state;
  return state;
}

size_t CodepointLengthAt(std::string_view text, size_t pos) {
  const unicode::Utf8Prefix p = unicode::ClassifyUtf8(text.substr(pos));
  return p.length == 0 ? 1 : p.length;
}

// Splits one piece with one regex, appending the resulting pieces to `out`.
void SplitPiece(const pcre2_code* code, std::string_view piece, ThreadMatchState& state,
                std::vector<std::string_view>* out) {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
  const size_t len = piece.size();
  size_t pos = 0;
  size_t last_end = 0;
  while (pos < len) {
    const int rc =
        pcre2_match(code, subject, len, pos, PCRE2_NO_UTF_CHECK, state.match_data, state.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    size_t match_start;
    size_t match_end;
    if (rc < 0) {
      // Matching failed (resource limit): the code point at `pos` stands alone.
      match_start = pos;
      match_end = pos + CodepointLengthAt(piece, pos);
    } else {
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(state.match_data);
      match_start = ov[0];
      match_end = ov[1];
      if (match_end <= match_start) {
        // An empty match yields no piece; try again one code point further.
        pos = match_start + CodepointLengthAt(piece, match_start);
        continue;
      }
    }
    if (match_start > last_end) out->push_back(piece.substr(last_end, match_start - last_end));
    out->push_back(piece.substr(match_start, match_end - match_start));
    last_end = match_end;
    pos = match_end;
  }
  if (last_end < len) out->push_back(piece.substr(last_end));
}

}  // namespace

std::string PreTokenizer::TranslateRegex(std::string_view hf_regex) {
  std::string out;
  out.reserve(hf_regex.size() + 32);
  for (size_t i = 0; i < hf_regex.size(); ++i) {
    const char c = hf_regex[i];
    if (c == '\\' && i + 1 < hf_regex.size()) {
      const char next = hf_regex[++i];
      if (next == 's') {
        out += "\\p{White_Space}";
      } else if (next == 'S') {
        out += "\\P{White_Space}";
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    out += c;
  }
  return out;
}

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::Create(
    std::span<const std::string_view> regexes) {
  std::vector<Compiled> compiled;
  auto free_all = [&compiled] {
    for (Compiled& c : compiled) pcre2_code_free(c.code);
  };
  for (std::string_view hf : regexes) {
    Compiled c;
    c.pattern = TranslateRegex(hf);
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    c.code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(c.pattern.data()), c.pattern.size(),
                      PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error, &error_offset, nullptr);
    if (c.code == nullptr) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof(message));
      free_all();
      return InvalidArgument("pre-tokenizer regex '" + std::string(hf) + "' does not compile at " +
                             std::to_string(error_offset) + ": " +
                             reinterpret_cast<const char*>(message));
    }
    // JIT is an optimization: without it (unsupported CPU) the interpreter runs.
    (void)pcre2_jit_compile(c.code, PCRE2_JIT_COMPLETE);
    compiled.push_back(std::move(c));
  }
  return std::unique_ptr<PreTokenizer>(new PreTokenizer(std::move(compiled)));
}

PreTokenizer::PreTokenizer(std::vector<Compiled> regexes) : regexes_(std::move(regexes)) {}

PreTokenizer::~PreTokenizer() {
  for (Compiled& c : regexes_) pcre2_code_free(c.code);
}

std::vector<std::string_view> PreTokenizer::Split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  if (text.empty()) return pieces;
  pieces.push_back(text);
  ThreadMatchState& state = MatchState();
  std::vector<std::string_view> next;
  for (const Compiled& re : regexes_) {
    next.clear();
    next.reserve(pieces.size() * 2);
    for (std::string_view piece : pieces) SplitPiece(re.code, piece, state, &next);
    pieces.swap(next);
  }
  return pieces;
}

}  // namespace cellar

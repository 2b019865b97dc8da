#include "model/bpe_encoder.h"

#include <queue>

#include "model/unicode_byte_map.h"

namespace cellar {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  int32_t id;      // symbol id of the symbol's text (see BpeEncoder), or -1 (never merges)
  uint32_t start;  // byte offset in the original piece
  uint32_t len;    // original bytes covered; 0 once merged into its left neighbour
};

struct Candidate {
  int32_t rank;
  int32_t left;
  int32_t right;
  uint32_t left_len;
  uint32_t right_len;
  int32_t result;
};

// Lowest rank first; among equal ranks the leftmost pair.
struct CandidateOrder {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

int32_t BpeEncoder::FindSymbol(std::string_view s) const {
  if (const std::optional<int32_t> id = vocab_.FindToken(s)) return *id;
  const auto it = extra_symbols_.find(std::string(s));
  return it == extra_symbols_.end() ? -1 : it->second;
}

int32_t BpeEncoder::Intern(std::string_view s) {
  if (const std::optional<int32_t> id = vocab_.FindToken(s)) return *id;
  const int32_t next = vocab_.n_tokens() + static_cast<int32_t>(extra_symbols_.size());
  return extra_symbols_.emplace(std::string(s), next).first->second;
}

Result<std::unique_ptr<BpeEncoder>> BpeEncoder::Create(const Vocab& vocab) {
  std::unique_ptr<BpeEncoder> enc(new BpeEncoder(vocab));
  CELLAR_ASSIGN_OR_RETURN(enc->pre_, PreTokenizer::Create(vocab.pre_tokenizer().regexes));
  const auto& merges = vocab.merges();
  enc->merges_.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    if (left.empty() || right.empty()) continue;
    const int32_t l = enc->Intern(left);
    const int32_t r = enc->Intern(right);
    joined.assign(left).append(right);
    const int32_t m = enc->Intern(joined);
    // The first (lowest) rank of a pair wins, as llama.cpp's map insertion does.
    enc->merges_.emplace(PairKey(l, r), Merge{static_cast<int32_t>(rank), m});
  }
  for (int b = 0; b < 256; ++b) {
    const std::string_view ch = unicode::ByteToUtf8(static_cast<uint8_t>(b));
    enc->byte_symbol_[b] = enc->FindSymbol(ch);
    enc->byte_token_[b] = vocab.FindToken(ch).value_or(-1);
  }
  return enc;
}

void BpeEncoder::Encode(std::string_view text, std::vector<int32_t>* out) const {
  for (std::string_view word : pre_->Split(text)) EncodeWord(word, out);
}

void BpeEncoder::EncodeWord(std::string_view word, std::vector<int32_t>* out) const {
  // The piece as the vocabulary writes it: each byte as its byte-level character.
  auto encode_bytes = [](std::string_view bytes) {
    std::string s;
    s.reserve(bytes.size() * 2);
    for (char c : bytes) s += unicode::ByteToUtf8(static_cast<uint8_t>(c));
    return s;
  };
  if (vocab_.ignore_merges()) {
    if (const std::optional<int32_t> id = vocab_.FindToken(encode_bytes(word))) {
      out->push_back(*id);
      return;
    }
  }

  std::vector<Symbol> symbols(word.size());
  for (size_t i = 0; i < word.size(); ++i) {
    const auto b = static_cast<uint8_t>(word[i]);
    symbols[i] = {static_cast<int32_t>(i) - 1,
                  i + 1 == word.size() ? -1 : static_cast<int32_t>(i) + 1, byte_symbol_[b],
                  static_cast<uint32_t>(i), 1};
  }

  std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[left];
    const Symbol& r = symbols[right];
    if (l.id < 0 || r.id < 0) return;
    const auto it = merges_.find(PairKey(l.id, r.id));
    if (it == merges_.end()) return;
    queue.push({it->second.rank, left, right, l.len, r.len, it->second.result});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.left];
    Symbol& right = symbols[c.right];
    // Stale when either side has changed since the candidate was queued.
    if (left.len != c.left_len || right.len != c.right_len || left.len == 0 || right.len == 0 ||
        left.next != c.right) {
      continue;
    }
    left.id = c.result;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    try_add(left.prev, c.left);
    try_add(c.left, left.next);
  }

  if (symbols.empty()) return;
  for (int32_t i = 0; i != -1; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    int32_t token = -1;
    if (s.len == 1) {
      token = byte_token_[static_cast<uint8_t>(word[s.start])];
    } else if (s.id >= 0 && s.id < vocab_.n_tokens()) {
      token = s.id;  // symbol ids below n_tokens are token ids
    }
    if (token >= 0) {
      out->push_back(token);
      continue;
    }
    // No such token (a merge whose result is not in the vocabulary, or a byte
    // without a token): llama.cpp emits the tokens of the single bytes of the
    // symbol's vocabulary spelling that exist, and drops the rest.
    for (char c : encode_bytes(word.substr(s.start, s.len))) {
      if (const std::optional<int32_t> id = vocab_.FindToken(std::string_view(&c, 1))) {
        out->push_back(*id);
      }
    }
  }
}

}  // namespace cellar

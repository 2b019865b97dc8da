#include "model/tokenizer.h"

#include <cstdio>
#include <utility>

#include "gguf/gguf_file.h"
#include "model/bpe_encoder.h"
#include "model/spm_encoder.h"
#include "model/tokenizer_special_split.h"
#include "model/unicode_byte_map.h"
#include "model/unicode_utf8.h"
#include "model/wpm_encoder.h"

namespace cellar {
namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581

std::string ReplaceAll(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

// A byte-level BPE token's bytes: each character mapped back through the byte
// table; a character outside it is written as llama.cpp does ("[UNK_BYTE_0x..]").
std::string DecodeByteLevel(std::string_view token_text) {
  const std::string valid = unicode::SanitizeUtf8(token_text);
  std::string out;
  size_t pos = 0;
  while (pos < valid.size()) {
    const size_t start = pos;
    const char32_t cp = unicode::DecodeUtf8At(valid, &pos);
    if (const std::optional<uint8_t> b = unicode::CodepointToByte(cp)) {
      out.push_back(static_cast<char>(*b));
      continue;
    }
    out += "[UNK_BYTE_0x";
    for (size_t i = start; i < pos; ++i) {
      char hex[3];
      std::snprintf(hex, sizeof(hex), "%02x", static_cast<uint8_t>(valid[i]));
      out += hex;
    }
    out += valid;
    out += "]";
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const GgufFile& file) {
  CELLAR_ASSIGN_OR_RETURN(std::unique_ptr<Vocab> vocab, Vocab::FromGguf(file));
  return FromVocab(std::move(vocab));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromVocab(std::unique_ptr<Vocab> vocab) {
  switch (vocab->type()) {
    case VocabType::kSpm:
    case VocabType::kBpe:
    case VocabType::kWpm:
      break;
    case VocabType::kUgm:
    case VocabType::kRwkv:
      return Unimplemented("unsupported tokenizer type '" + vocab->model_name() +
                           "' (tokenizer.ggml.model); supported: llama (SPM), gpt2 (byte-level "
                           "BPE), bert (WordPiece)");
  }
  std::unique_ptr<Tokenizer> tok(new Tokenizer(std::move(vocab)));
  if (tok->vocab_->type() == VocabType::kBpe) {
    CELLAR_ASSIGN_OR_RETURN(tok->bpe_, BpeEncoder::Create(*tok->vocab_));
  }
  tok->BuildPieces();
  return tok;
}

Tokenizer::Tokenizer(std::unique_ptr<Vocab> vocab) : vocab_(std::move(vocab)) {}
Tokenizer::~Tokenizer() = default;

void Tokenizer::BuildPieces() {
  const Vocab& v = *vocab_;
  pieces_.resize(v.n_tokens());
  hidden_.resize(v.n_tokens());
  for (int32_t id = 0; id < v.n_tokens(); ++id) {
    const uint32_t attr = v.Attr(id);
    const std::string_view text = v.TokenText(id);
    hidden_[id] = (attr & (kTokenAttrUnknown | kTokenAttrControl)) != 0;
    std::string& piece = pieces_[id];
    if (attr & (kTokenAttrUnknown | kTokenAttrControl | kTokenAttrUserDefined)) {
      piece = text;
    } else if (v.type() == VocabType::kBpe) {
      if (attr & kTokenAttrNormal) piece = DecodeByteLevel(text);
    } else if (attr & kTokenAttrNormal) {
      piece = ReplaceAll(text, kSpaceMarker, " ");
    } else if (attr & kTokenAttrByte) {
      if (const std::optional<uint8_t> b = v.TokenToByte(id))
        piece.assign(1, static_cast<char>(*b));
    }
  }
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::string sanitized;
  if (!unicode::IsValidUtf8(text)) {
    sanitized = unicode::SanitizeUtf8(text);
    text = sanitized;
  }
  const Vocab& v = *vocab_;
  std::vector<int32_t> out;
  const bool wpm = v.type() == VocabType::kWpm;
  if (add_special && (v.add_bos() || wpm) && v.bos() >= 0) out.push_back(v.bos());
  bool after_special = true;  // the text start counts as following a special token
  for (const TextFragment& f : SplitSpecialTokens(v, text, parse_special)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
    } else {
      EncodeFragment(f.text, after_special, &out);
      after_special = false;
    }
  }
  if (add_special) {
    if (wpm) {
      if (v.sep() >= 0) out.push_back(v.sep());
    } else if (v.add_eos() && v.eos() >= 0) {
      out.push_back(v.eos());
    }
  }
  return out;
}

void Tokenizer::EncodeFragment(std::string_view text, bool after_special,
                               std::vector<int32_t>* out) const {
  switch (vocab_->type()) {
    case VocabType::kSpm: {
      std::string s;
      if (vocab_->add_space_prefix() && after_special) s = " ";
      s.append(text);
      SpmEncode(*vocab_, ReplaceAll(s, " ", kSpaceMarker), out);
      break;
    }
    case VocabType::kBpe:
      bpe_->Encode(text, out);
      break;
    case VocabType::kWpm:
      WpmEncode(*vocab_, text, out);
      break;
    case VocabType::kUgm:
    case VocabType::kRwkv:
      break;  // rejected by FromVocab
  }
}

std::string_view Tokenizer::PieceView(int32_t id, bool render_special) const {
  if (!vocab_->IsValid(id)) return {};
  if (hidden_[id] && !render_special) return {};
  return pieces_[id];
}

std::string Tokenizer::TokenToPiece(int32_t id, bool render_special) const {
  return std::string(PieceView(id, render_special));
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  bool strip_space = vocab_->add_space_prefix();
  for (int32_t id : ids) {
    std::string_view piece = PieceView(id, render_special);
    if (strip_space && !piece.empty()) {
      if (piece.front() == ' ') piece.remove_prefix(1);
      strip_space = false;
    }
    out.append(piece);
  }
  if (!unicode::IsValidUtf8(out)) return unicode::SanitizeUtf8(out);
  return out;
}

}  // namespace cellar

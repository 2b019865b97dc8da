// Round trips, streaming and concurrency on every vocab file in ../shared/vocab
// (and stories260K), with random and adversarial UTF-8.
//
// Properties (exact):
//  - byte-level BPE: Decode(Encode(x, false, false)) == SanitizeUtf8(x) for every x
//    whose bytes all have a byte-level token (falcon, starcoder and refact lack
//    a few, e.g. 0xF2's; such bytes are dropped, as llama.cpp does).
//  - SPM with byte fallback: the same for every x without U+2581 (which decodes as
//    a space) and without user-defined token texts (split out before the SPM
//    rules, so the text after one gets a leading space); with add_special as
//    well (a leading BOS renders empty).
//  - WordPiece (lossy by design: lowercases, drops accents and spacing): every id
//    is valid and Decode returns valid UTF-8.
//  - everywhere: StreamingDetokenizer's outputs are each valid UTF-8 and their
//    concatenation equals Decode, for encoded text and for random id sequences.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <thread>

#include "base/testing/shared_data.h"
#include "gguf/gguf_file.h"
#include "model/streaming_detokenizer.h"
#include "model/tokenizer.h"
#include "model/unicode_byte_map.h"
#include "model/unicode_utf8.h"

namespace cellar {
namespace {

const Tokenizer* LoadShared(const std::string& rel) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(rel);
  if (it != cache.end()) return it->second.get();
  const auto path = testing::SharedPath(rel);
  if (!std::filesystem::exists(path)) return nullptr;
  auto file = GgufFile::Open(path.string());
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return nullptr;
  auto tok = Tokenizer::FromGguf(**file);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  if (!tok.ok()) return nullptr;
  return (cache[rel] = std::move(*tok)).get();
}

std::string RandomText(std::mt19937& rng, size_t n_cps, bool allow_u2581) {
  static const char32_t kInteresting[] = {
      ' ',    ' ',     ' ',     '\n',     '\t',   '\r',   0,      '\'',   '3',
      'a',    'Z',     0x85,    0xA0,     0x301,  0x200D, 0xFE0F, 0x3000, 0x2028,
      0xFFFD, 0x1F600, 0x1F999, 0x10FFFF, 0xE000, 0x4E2D, 0xAC00};
  std::string s;
  for (size_t i = 0; i < n_cps; ++i) {
    char32_t cp;
    switch (rng() % 5) {
      case 0:
        cp = 0x20 + rng() % 0x5F;  // printable ASCII
        break;
      case 1:
        cp = kInteresting[rng() % std::size(kInteresting)];
        break;
      case 2:
        cp = 0x80 + rng() % (0x800 - 0x80);
        break;
      case 3:
        cp = 0x800 + rng() % (0x10000 - 0x800);
        break;
      default:
        cp = 0x10000 + rng() % (0x110000 - 0x10000);  // astral planes
        break;
    }
    if ((cp >= 0xD800 && cp <= 0xDFFF) || (!allow_u2581 && cp == 0x2581)) cp = 'x';
    unicode::AppendUtf8(cp, &s);
  }
  return s;
}

std::vector<std::string> AdversarialTexts() {
  return {
      "",
      " ",
      std::string(5000, ' '),
      std::string(3000, '7'),
      std::string(2000, 'a'),
      std::string(1000, '\n') + "x" + std::string(999, '\t'),
      std::string("a\0b\0\0c", 6),
      "e\xCC\x81\xCC\x81\xCC\x81 combining \xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7",
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7 family ZWJ",
      "\xF0\x9F\x8F\xB3\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x8C\x88 flag",
      "I'm He'S we'RE they'Ll it'D  you'VE  'M",
      "\xC2\x85nel\xE2\x80\xA8ls\xE2\x80\xA9ps\xE3\x80\x80ideo",
      "<s></s><|endoftext|><|im_start|>user",  // control texts, not parsed
      // Ill-formed UTF-8: lone continuation, overlong, surrogates, truncated, > U+10FFFF.
      "\x80\x80 \xBF",
      "\xC0\xAF \xE0\x80\xAF \xF0\x80\x80\xAF",
      "\xED\xA0\x80\xED\xBF\xBF",
      "abc\xE2\x82",
      "\xF4\x90\x80\x80 \xFE\xFF",
      "\xF0\x9F\xA6 llama",
  };
}

struct VocabCase {
  std::string file;
  bool lossless;  // BPE or SPM with byte fallback
  bool spm;       // excludes U+2581 from random text
};

void PrintTo(const VocabCase& c, std::ostream* os) { *os << c.file; }

class TokenizerRoundTripTest : public ::testing::TestWithParam<VocabCase> {};

void CheckStreaming(const Tokenizer& tok, const std::vector<int32_t>& ids, bool render_special) {
  StreamingDetokenizer::Options opts;
  opts.render_special = render_special;
  StreamingDetokenizer stream(tok, opts);
  std::string streamed;
  for (int32_t id : ids) {
    const std::string part = stream.Push(id);
    ASSERT_TRUE(unicode::IsValidUtf8(part));
    streamed += part;
  }
  const std::string tail = stream.Flush();
  ASSERT_TRUE(unicode::IsValidUtf8(tail));
  streamed += tail;
  ASSERT_EQ(streamed, tok.Decode(ids, render_special));
}

// Whether the lossless property is claimed for `x` (see the file comment).
bool LosslessFor(const Tokenizer& tok, const std::string& x) {
  const Vocab& v = tok.vocab();
  const std::string s = unicode::SanitizeUtf8(x);
  if (v.type() == VocabType::kBpe) {
    for (char ch : s) {
      if (!v.FindToken(unicode::ByteToUtf8(static_cast<uint8_t>(ch)))) return false;
    }
    return true;
  }
  for (int32_t id : v.special_tokens()) {
    if (v.IsUserDefined(id) && s.find(v.TokenText(id)) != std::string::npos) return false;
  }
  return true;
}

TEST_P(TokenizerRoundTripTest, RandomAndAdversarialText) {
  const VocabCase& c = GetParam();
  CELLAR_REQUIRE_SHARED(path, c.file);
  const Tokenizer* tok = LoadShared(c.file);
  ASSERT_NE(tok, nullptr);
  std::mt19937 rng(1234);
  std::vector<std::string> texts = AdversarialTexts();
  for (int i = 0; i < 150; ++i) texts.push_back(RandomText(rng, 1 + rng() % 60, !c.spm));
  for (const std::string& x : texts) {
    for (bool add_special : {false, true}) {
      const std::vector<int32_t> ids = tok->Encode(x, add_special, false);
      for (int32_t id : ids) ASSERT_TRUE(tok->vocab().IsValid(id));
      const std::string decoded = tok->Decode(ids);
      ASSERT_TRUE(unicode::IsValidUtf8(decoded));
      if (c.lossless && LosslessFor(*tok, x)) {
        ASSERT_EQ(decoded, unicode::SanitizeUtf8(x)) << "add_special " << add_special;
      }
      CheckStreaming(*tok, ids, false);
      CheckStreaming(*tok, ids, true);
    }
  }
}

TEST_P(TokenizerRoundTripTest, StreamingRandomIds) {
  const VocabCase& c = GetParam();
  CELLAR_REQUIRE_SHARED(path, c.file);
  const Tokenizer* tok = LoadShared(c.file);
  ASSERT_NE(tok, nullptr);
  std::mt19937 rng(99);
  const int32_t n = tok->vocab().n_tokens();
  // Byte tokens (SPM) and single-byte pieces make ill-formed sequences likely.
  std::vector<int32_t> byte_like;
  for (int32_t id = 0; id < n; ++id) {
    if (tok->PieceView(id).size() == 1 && static_cast<uint8_t>(tok->PieceView(id)[0]) >= 0x80) {
      byte_like.push_back(id);
    }
  }
  for (int round = 0; round < 200; ++round) {
    std::vector<int32_t> ids;
    const int len = 1 + rng() % 24;
    for (int i = 0; i < len; ++i) {
      if (!byte_like.empty() && rng() % 2 == 0) {
        ids.push_back(byte_like[rng() % byte_like.size()]);
      } else {
        ids.push_back(static_cast<int32_t>(rng() % n));
      }
    }
    CheckStreaming(*tok, ids, round % 2 == 0);
  }
}

TEST_P(TokenizerRoundTripTest, ConcurrentEncodeMatchesSerial) {
  const VocabCase& c = GetParam();
  CELLAR_REQUIRE_SHARED(path, c.file);
  const Tokenizer* tok = LoadShared(c.file);
  ASSERT_NE(tok, nullptr);
  std::mt19937 rng(7);
  std::vector<std::string> texts;
  for (int i = 0; i < 40; ++i) texts.push_back(RandomText(rng, 200, true));
  std::vector<std::vector<int32_t>> serial;
  for (const auto& t : texts) serial.push_back(tok->Encode(t, true, true));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) {
        for (size_t i = 0; i < texts.size(); ++i) {
          mismatches[t] += tok->Encode(texts[i], true, true) != serial[i];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

INSTANTIATE_TEST_SUITE_P(
    AllVocabs, TokenizerRoundTripTest,
    ::testing::Values(VocabCase{"vocab/ggml-vocab-llama-spm.gguf", true, true},
                      VocabCase{"vocab/ggml-vocab-phi-3.gguf", true, true},
                      VocabCase{"vocab/ggml-vocab-baichuan.gguf", true, true},
                      VocabCase{"models/stories260K.gguf", true, true},
                      VocabCase{"vocab/ggml-vocab-llama-bpe.gguf", true, false},
                      VocabCase{"vocab/ggml-vocab-qwen2.gguf", true, false},
                      VocabCase{"vocab/ggml-vocab-gpt-2.gguf", true, false},
                      VocabCase{"vocab/ggml-vocab-gpt-neox.gguf", true, false},
                      VocabCase{"vocab/ggml-vocab-mpt.gguf", true, false},
                      VocabCase{"vocab/ggml-vocab-falcon.gguf", true, false},
                      VocabCase{"vocab/ggml-vocab-starcoder.gguf", true, false},
                      VocabCase{"vocab/ggml-vocab-refact.gguf", true, false},
                      VocabCase{"vocab/ggml-vocab-deepseek-llm.gguf", true, false},
                      VocabCase{"vocab/ggml-vocab-deepseek-coder.gguf", true, false},
                      VocabCase{"vocab/ggml-vocab-bert-bge.gguf", false, false}),
    [](const auto& param_info) {
      std::string n = std::filesystem::path(param_info.param.file).stem().string();
      std::string out;
      for (char ch : n) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      return out;
    });

}  // namespace
}  // namespace cellar

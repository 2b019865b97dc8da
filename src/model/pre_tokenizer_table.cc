#include "model/pre_tokenizer_table.h"

namespace cellar {
namespace {

// Regex lists per pre-tokenizer kind, exactly as llama.cpp (src/llama-vocab.cpp at
// c392e5094deaf2d1a7c18683214f007fad3fe42b) applies them; each comes from the model's
// HF tokenizer.json (a Split pre-tokenizer sequence, then ByteLevel's GPT-2 regex
// where the model uses it). llama.cpp's adaptations are kept: the case-insensitive
// contractions (?i:'s|'t|...) are written as '[sS]|'[tT]|... (the same strings
// without inline flags), exactly as llama.cpp matches them.

constexpr std::string_view kDefaultRegexes[] = {
    R"re([\p{P}\$\+<=>\^~\|]+)re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
    R"re(\p{N}+)re",
    R"re([0-9][0-9][0-9])re",
};
constexpr std::string_view kLlama3Regexes[] = {
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re",
};
constexpr std::string_view kDeepseekLlmRegexes[] = {
    R"re([\r\n])re",
    R"re(\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+)re",
    R"re(\s?[!-/:-~！-／：-～‘-‟　-。]+)re",
    R"re(\s+$)re",
    R"re([一-龥ࠀ-一가-퟿]+)re",
    R"re(\p{N}+)re",
};
constexpr std::string_view kDeepseekCoderRegexes[] = {
    R"re([\r\n])re", R"re(\s?\p{L}+)re", R"re(\s?\p{P}+)re", R"re([一-龥ࠀ-一가-퟿]+)re",
    R"re(\p{N})re",
};
constexpr std::string_view kDeepseek3LlmRegexes[] = {
    R"re(\p{N}{1,3})re",
    R"re([一-龥぀-ゟ゠-ヿ]+)re",
    R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re",
};
constexpr std::string_view kFalconRegexes[] = {
    R"re([\p{P}\$\+<=>\^~\|`]+)re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
    R"re([0-9][0-9][0-9])re",
};
constexpr std::string_view kMptRegexes[] = {
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};
constexpr std::string_view kStarcoderRegexes[] = {
    R"re(\p{N})re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};
constexpr std::string_view kGpt2Regexes[] = {
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};
constexpr std::string_view kRefactRegexes[] = {
    R"re(\p{N})re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};
constexpr std::string_view kCommandRRegexes[] = {
    R"re(\p{N})re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};
constexpr std::string_view kQwen2Regexes[] = {
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re",
};
constexpr std::string_view kStablelm2Regexes[] = {
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re",
};
constexpr std::string_view kOlmoRegexes[] = {
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};
constexpr std::string_view kDbrxRegexes[] = {
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re",
};
constexpr std::string_view kSmaugRegexes[] = {
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re",
};
constexpr std::string_view kPoroRegexes[] = {
    R"re( ?[^(\s|.,!?…。，、।۔،)]+)re",
};
constexpr std::string_view kChatglm4Regexes[] = {
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re",
};
constexpr std::string_view kVikingRegexes[] = {
    R"re( ?[^(\s|.,!?…。，、।۔،)]+)re",
    R"re(\p{N})re",
};
constexpr std::string_view kJaisRegexes[] = {
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};
constexpr std::string_view kTekkenRegexes[] = {
    R"re([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re",
};
constexpr std::string_view kSmollmRegexes[] = {
    R"re(\p{N})re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};
constexpr std::string_view kCodeshellRegexes[] = {
    R"re(\p{N})re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};
constexpr std::string_view kBloomRegexes[] = {
    R"re( ?[^(\s|.,!?…。，、।۔،)]+)re",
};
constexpr std::string_view kGpt3FinnishRegexes[] = {
    R"re( ?[^(\s|.,!?…。，、।۔،)]+)re",
};
constexpr std::string_view kExaoneRegexes[] = {
    R"re(\p{N})re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};
constexpr std::string_view kChameleonRegexes[] = {
    R"re(<sentinel:[0-9]+>)re",
    R"re((IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z)re",
    R"re(([\t\n]|    |  ))re",
    R"re(\p{N})re",
    R"re([\p{P}!-/:-@\[-`{-~])re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};
constexpr std::string_view kMinervaRegexes[] = {
    R"re(\p{N})re",
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
};

struct NameEntry {
  std::string_view name;
  std::string_view kind;
  std::span<const std::string_view> regexes;
  bool ignore_merges;
  bool add_bos;
  bool clean_spaces;
  bool no_bos;
};

// Every tokenizer.ggml.pre value llama.cpp accepts, with the flags it sets.
constexpr NameEntry kNames[] = {
    {"default", "default", kDefaultRegexes, false, false, true, false},
    {"llama3", "llama3", kLlama3Regexes, true, true, true, false},
    {"llama-v3", "llama3", kLlama3Regexes, true, true, true, false},
    {"llama-bpe", "llama3", kLlama3Regexes, true, true, true, false},
    {"falcon3", "llama3", kLlama3Regexes, true, true, true, false},
    {"deepseek-llm", "deepseek-llm", kDeepseekLlmRegexes, false, false, false, false},
    {"deepseek-coder", "deepseek-coder", kDeepseekCoderRegexes, false, false, false, false},
    {"deepseek-v3", "deepseek3-llm", kDeepseek3LlmRegexes, false, false, false, false},
    {"falcon", "falcon", kFalconRegexes, false, false, true, false},
    {"mpt", "mpt", kMptRegexes, false, false, true, false},
    {"starcoder", "starcoder", kStarcoderRegexes, false, false, true, false},
    {"gpt-2", "gpt2", kGpt2Regexes, false, false, true, false},
    {"phi-2", "gpt2", kGpt2Regexes, false, false, true, false},
    {"jina-es", "gpt2", kGpt2Regexes, false, false, true, false},
    {"jina-de", "gpt2", kGpt2Regexes, false, false, true, false},
    {"gigachat", "gpt2", kGpt2Regexes, false, false, true, false},
    {"jina-v1-en", "gpt2", kGpt2Regexes, false, false, true, false},
    {"jina-v2-es", "gpt2", kGpt2Regexes, false, false, true, false},
    {"jina-v2-de", "gpt2", kGpt2Regexes, false, false, true, false},
    {"jina-v2-code", "gpt2", kGpt2Regexes, false, false, true, false},
    {"roberta-bpe", "gpt2", kGpt2Regexes, false, false, true, false},
    {"refact", "refact", kRefactRegexes, false, false, true, false},
    {"command-r", "command-r", kCommandRRegexes, false, false, false, false},
    {"qwen2", "qwen2", kQwen2Regexes, false, false, false, false},
    {"deepseek-r1-qwen", "qwen2", kQwen2Regexes, false, false, false, false},
    {"stablelm2", "stablelm2", kStablelm2Regexes, false, false, true, false},
    {"olmo", "olmo", kOlmoRegexes, false, false, true, false},
    {"dbrx", "dbrx", kDbrxRegexes, false, false, true, false},
    {"smaug-bpe", "smaug", kSmaugRegexes, false, false, true, false},
    {"poro-chat", "poro", kPoroRegexes, false, false, false, false},
    {"chatglm-bpe", "chatglm4", kChatglm4Regexes, false, false, true, true},
    {"viking", "viking", kVikingRegexes, false, false, false, false},
    {"jais", "jais", kJaisRegexes, false, false, true, false},
    {"tekken", "tekken", kTekkenRegexes, true, true, false, false},
    {"smollm", "smollm", kSmollmRegexes, false, false, false, false},
    {"codeshell", "codeshell", kCodeshellRegexes, false, false, true, false},
    {"bloom", "bloom", kBloomRegexes, false, false, true, false},
    {"gpt3-finnish", "gpt3-finnish", kGpt3FinnishRegexes, false, false, true, false},
    {"exaone", "exaone", kExaoneRegexes, false, false, true, false},
    {"chameleon", "chameleon", kChameleonRegexes, false, true, false, false},
    {"minerva-7b", "minerva", kMinervaRegexes, false, false, true, false},
    {"megrez", "qwen2", kQwen2Regexes, false, false, true, false},
};

}  // namespace

std::optional<PreTokenizerSpec> FindPreTokenizer(std::string_view pre_name) {
  for (const NameEntry& e : kNames) {
    if (e.name == pre_name) {
      return PreTokenizerSpec{e.kind,    e.regexes,      e.ignore_merges,
                              e.add_bos, e.clean_spaces, e.no_bos};
    }
  }
  return std::nullopt;
}

PreTokenizerSpec DefaultPreTokenizer() { return *FindPreTokenizer("default"); }

std::vector<std::string_view> KnownPreTokenizerNames() {
  std::vector<std::string_view> names;
  for (const NameEntry& e : kNames) names.push_back(e.name);
  return names;
}

}  // namespace cellar

// GgufSummary: what `cellar info` (and model-loading logs) report about a GGUF
// file — architecture, hyperparameters, tensor statistics by type, parameter
// count, file type, vocabulary and special tokens, chat template presence.
// Built from a parsed GgufFile by SummarizeGguf(); a value (copyable, no views).
// Keys with an unexpected type are reported in `warnings` instead of failing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gguf/gguf_file.h"

namespace cellar {

// llama.cpp's name for a general.file_type (llama_ftype) id, e.g. 15 -> "MOSTLY_Q4_K_M";
// "" for an unknown id.
std::string_view GgufFileTypeName(uint64_t file_type);

struct GgufTypeStats {
  GgmlType type = GgmlType::kF32;
  int64_t n_tensors = 0;
  int64_t n_elements = 0;
  int64_t n_bytes = 0;
};

struct GgufSpecialToken {
  std::string role;                 // "bos", "eos", "eot", "unk", "sep", "pad", "mask", "cls"
  std::string key;                  // e.g. "tokenizer.ggml.bos_token_id"
  int64_t id = -1;                  // as stored (uint32 0xFFFFFFFF means "none" in llama.cpp)
  std::optional<std::string> text;  // the token's text when 0 <= id < vocab size
};

struct GgufSummary {
  uint32_t version = 0;
  uint64_t alignment = 0;
  size_t file_size = 0;
  size_t data_offset = 0;
  size_t n_metadata = 0;

  std::string architecture;  // "" when general.architecture is absent
  std::string name;          // general.name
  std::optional<uint64_t> file_type;
  std::optional<uint64_t> context_length;  // <arch>.context_length
  // Every "<arch>.*" key, in file order.
  std::vector<std::pair<std::string, GgufValue>> hyperparameters;

  size_t n_tensors = 0;
  int64_t n_params = 0;  // total elements over all tensors
  int64_t n_tensor_bytes = 0;
  std::vector<GgufTypeStats> by_type;  // ordered by type id

  std::string vocab_model;                       // tokenizer.ggml.model
  std::string vocab_pre;                         // tokenizer.ggml.pre
  size_t vocab_size = 0;                         // tokenizer.ggml.tokens
  size_t n_merges = 0;                           // tokenizer.ggml.merges
  std::vector<GgufSpecialToken> special_tokens;  // only those present
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
  std::optional<size_t> chat_template_length;  // tokenizer.chat_template

  std::vector<std::string> warnings;
};

// The summary of `file`, which must outlive nothing: the result owns its data.
GgufSummary SummarizeGguf(const GgufFile& file);

}  // namespace cellar

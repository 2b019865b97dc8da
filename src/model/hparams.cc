#include "model/hparams.h"

#include <limits>
#include <string>
#include <vector>

namespace cellar {
namespace {

// A positive int32 from `key`; `dflt` (if >= 0) when the key is missing. A key
// holding a per-layer array must have one value for every layer.
Result<int32_t> ReadCount(const GgufFile& f, const std::string& key, int64_t dflt = -1) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) {
    if (dflt >= 0) return static_cast<int32_t>(dflt);
    return NotFound("model metadata lacks required key '" + key + "'");
  }
  int64_t value = 0;
  if (v->is_array()) {
    auto values = v->ToIntVector();
    if (!values.ok()) return values.status().WithContext(key);
    if (values->empty()) return InvalidArgument("'" + key + "' is an empty array");
    for (int64_t x : *values) {
      if (x != (*values)[0]) {
        return Unimplemented("'" + key + "' differs between layers (not supported)");
      }
    }
    value = (*values)[0];
  } else {
    auto u = v->AsInt();
    if (!u.ok()) return u.status().WithContext(key);
    value = *u;
  }
  if (value < 0 || value > std::numeric_limits<int32_t>::max()) {
    return InvalidArgument("'" + key + "' = " + std::to_string(value) + " is out of range");
  }
  return static_cast<int32_t>(value);
}

Result<float> ReadFloat(const GgufFile& f, const std::string& key, float dflt) {
  auto v = f.GetFloatOr(key, dflt);
  if (!v.ok()) return v.status();
  return static_cast<float>(*v);
}

}  // namespace

Result<ModelHParams> ReadDecoderHParams(const GgufFile& f, RopeStyle style) {
  ModelHParams hp;
  hp.arch = f.architecture();
  if (hp.arch.empty()) return InvalidArgument("model metadata lacks 'general.architecture'");
  auto name = f.GetStringOr("general.name", "");
  hp.name = name.ok() ? *name : "";
  auto ftype = f.GetUintOr("general.file_type", 0);
  hp.file_type = ftype.ok() ? static_cast<uint32_t>(*ftype) : 0;
  const auto key = [&](const char* suffix) { return f.ArchKey(suffix); };

  CELLAR_ASSIGN_OR_RETURN(hp.n_embd, ReadCount(f, key("embedding_length")));
  CELLAR_ASSIGN_OR_RETURN(hp.n_layer, ReadCount(f, key("block_count")));
  CELLAR_ASSIGN_OR_RETURN(hp.n_ff, ReadCount(f, key("feed_forward_length")));
  CELLAR_ASSIGN_OR_RETURN(hp.n_ctx_train, ReadCount(f, key("context_length")));
  CELLAR_ASSIGN_OR_RETURN(hp.n_head, ReadCount(f, key("attention.head_count")));
  CELLAR_ASSIGN_OR_RETURN(hp.n_head_kv, ReadCount(f, key("attention.head_count_kv"), hp.n_head));
  if (hp.n_head <= 0) return InvalidArgument(key("attention.head_count") + " must be > 0");
  CELLAR_ASSIGN_OR_RETURN(hp.head_dim,
                          ReadCount(f, key("attention.key_length"), hp.n_embd / hp.n_head));
  CELLAR_ASSIGN_OR_RETURN(const int32_t head_dim_v,
                          ReadCount(f, key("attention.value_length"), hp.head_dim));
  if (head_dim_v != hp.head_dim) {
    return Unimplemented("attention.value_length (" + std::to_string(head_dim_v) +
                         ") != key_length (" + std::to_string(hp.head_dim) + ") is not supported");
  }
  CELLAR_ASSIGN_OR_RETURN(hp.rms_eps, ReadFloat(f, key("attention.layer_norm_rms_epsilon"), 1e-5f));

  // Vocabulary size: <arch>.vocab_size, else the tokenizer's token list.
  if (f.Has(key("vocab_size"))) {
    CELLAR_ASSIGN_OR_RETURN(hp.n_vocab, ReadCount(f, key("vocab_size")));
  } else if (const GgufValue* tokens = f.Find("tokenizer.ggml.tokens");
             tokens != nullptr && tokens->is_array()) {
    hp.n_vocab = static_cast<int32_t>(tokens->array_size());
  }  // else: taken from token_embd's shape when the weights are bound

  // RoPE.
  RopeParams& rope = hp.rope;
  rope.style = style;
  rope.head_dim = hp.head_dim;
  CELLAR_ASSIGN_OR_RETURN(rope.n_rot, ReadCount(f, key("rope.dimension_count"), hp.head_dim));
  CELLAR_ASSIGN_OR_RETURN(rope.freq_base, ReadFloat(f, key("rope.freq_base"), 10000.0f));
  CELLAR_ASSIGN_OR_RETURN(const std::string scaling,
                          f.GetStringOr(key("rope.scaling.type"), "linear"));
  if (scaling == "none") {
    hp.rope_scaling = RopeScaling::kNone;
  } else if (scaling == "linear") {
    hp.rope_scaling = RopeScaling::kLinear;
  } else if (scaling == "yarn") {
    hp.rope_scaling = RopeScaling::kYarn;
  } else {
    return Unimplemented("rope scaling type '" + scaling + "' (" + key("rope.scaling.type") +
                         ") is not supported (none, linear, yarn)");
  }
  float factor = 0.0f;
  if (f.Has(key("rope.scaling.factor"))) {
    CELLAR_ASSIGN_OR_RETURN(factor, ReadFloat(f, key("rope.scaling.factor"), 0.0f));
  } else {
    CELLAR_ASSIGN_OR_RETURN(factor, ReadFloat(f, key("rope.scale_linear"), 0.0f));
  }
  rope.freq_scale = factor == 0.0f ? 1.0f : 1.0f / factor;
  if (hp.rope_scaling == RopeScaling::kNone) rope.freq_scale = 1.0f;
  CELLAR_ASSIGN_OR_RETURN(rope.attn_factor, ReadFloat(f, key("rope.scaling.attn_factor"), 1.0f));
  CELLAR_ASSIGN_OR_RETURN(
      rope.n_ctx_orig, ReadCount(f, key("rope.scaling.original_context_length"), hp.n_ctx_train));
  rope.ext_factor = hp.rope_scaling == RopeScaling::kYarn ? 1.0f : 0.0f;
  rope.beta_fast = 32.0f;
  rope.beta_slow = 1.0f;
  return hp;
}

Status ValidateHParams(const ModelHParams& hp) {
  auto positive = [](int64_t v, const char* what) -> Status {
    if (v <= 0)
      return InvalidArgument(std::string(what) + " must be > 0, got " + std::to_string(v));
    return OkStatus();
  };
  CELLAR_RETURN_IF_ERROR(positive(hp.n_embd, "embedding_length"));
  CELLAR_RETURN_IF_ERROR(positive(hp.n_layer, "block_count"));
  CELLAR_RETURN_IF_ERROR(positive(hp.n_ff, "feed_forward_length"));
  CELLAR_RETURN_IF_ERROR(positive(hp.n_head, "attention.head_count"));
  CELLAR_RETURN_IF_ERROR(positive(hp.n_head_kv, "attention.head_count_kv"));
  CELLAR_RETURN_IF_ERROR(positive(hp.head_dim, "head dimension"));
  CELLAR_RETURN_IF_ERROR(positive(hp.n_vocab, "vocabulary size"));
  CELLAR_RETURN_IF_ERROR(positive(hp.n_ctx_train, "context_length"));
  if (hp.n_head % hp.n_head_kv != 0) {
    return InvalidArgument("head_count (" + std::to_string(hp.n_head) +
                           ") is not a multiple of head_count_kv (" + std::to_string(hp.n_head_kv) +
                           ")");
  }
  if (hp.rope.n_rot <= 0 || hp.rope.n_rot % 2 != 0 || hp.rope.n_rot > hp.head_dim) {
    return InvalidArgument("rope.dimension_count " + std::to_string(hp.rope.n_rot) +
                           " must be even and in (0, head_dim = " + std::to_string(hp.head_dim) +
                           "]");
  }
  if (!(hp.rms_eps > 0.0f)) return InvalidArgument("layer_norm_rms_epsilon must be > 0");
  if (!(hp.rope.freq_base > 0.0f)) return InvalidArgument("rope.freq_base must be > 0");
  if (!(hp.rope.freq_scale > 0.0f)) return InvalidArgument("rope scaling factor must be > 0");
  return OkStatus();
}

}  // namespace cellar

#include "model/model_weights.h"

#include <string>

#include "kernels/dequantize.h"

namespace cellar {
namespace {

std::string DimsString(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

std::string LayerName(int layer, const char* what) {
  return "blk." + std::to_string(layer) + "." + what;
}

}  // namespace

Result<WeightMatrix> BindMatrix(const GgufFile& file, const std::string& name, int64_t rows,
                                int64_t cols) {
  const GgufTensorInfo* t = file.FindTensor(name);
  if (t == nullptr) return NotFound("model lacks tensor '" + name + "'");
  if (t->dims.size() != 2 || t->dims[0] != cols || t->dims[1] != rows) {
    return InvalidArgument("tensor '" + name + "' has shape " + DimsString(t->dims) +
                           ", expected [" + std::to_string(cols) + ", " + std::to_string(rows) +
                           "]");
  }
  if (!MatMulSupports(t->type)) {
    return Unimplemented("tensor '" + name + "' has type " + std::string(GgmlTypeName(t->type)) +
                         ", which the matmul kernels do not support");
  }
  WeightMatrix w;
  w.type = t->type;
  w.rows = rows;
  w.cols = cols;
  w.data = t->data.data();
  Status valid = ValidateWeight(w);
  if (!valid.ok()) return valid.WithContext("tensor '" + name + "'");
  const auto row_bytes = GgmlRowBytes(t->type, cols);
  if (!row_bytes.has_value() || *row_bytes * rows != t->n_bytes) {
    return InvalidArgument("tensor '" + name + "' has an inconsistent byte size");
  }
  return w;
}

Result<const float*> BindVector(const GgufFile& file, const std::string& name, int64_t n,
                                bool required, ModelWeights* weights) {
  const GgufTensorInfo* t = file.FindTensor(name);
  if (t == nullptr) {
    if (!required) return static_cast<const float*>(nullptr);
    return NotFound("model lacks tensor '" + name + "'");
  }
  if (t->n_elements != n || t->dims.empty() || t->dims[0] != n) {
    return InvalidArgument("tensor '" + name + "' has shape " + DimsString(t->dims) +
                           ", expected [" + std::to_string(n) + "]");
  }
  if (t->type == GgmlType::kF32) {
    if (reinterpret_cast<uintptr_t>(t->data.data()) % alignof(float) != 0) {
      return InvalidArgument("tensor '" + name + "' is not 4-byte aligned");
    }
    return reinterpret_cast<const float*>(t->data.data());
  }
  auto copy = std::make_unique<float[]>(static_cast<size_t>(n));
  Status s = DequantizeRow(t->type, t->data.data(), copy.get(), n);
  if (!s.ok()) return s.WithContext("tensor '" + name + "'");
  const float* p = copy.get();
  weights->owned.push_back(std::move(copy));
  return p;
}

Result<ModelWeights> BindDecoderWeights(const GgufFile& f, const ModelHParams& hp,
                                        const DecoderBindOptions& options) {
  ModelWeights w;
  const int64_t n_embd = hp.n_embd, n_q = hp.n_embd_q(), n_kv = hp.n_embd_kv(), n_ff = hp.n_ff;
  CELLAR_ASSIGN_OR_RETURN(w.token_embd, BindMatrix(f, "token_embd.weight", hp.n_vocab, n_embd));
  CELLAR_ASSIGN_OR_RETURN(w.output_norm, BindVector(f, "output_norm.weight", n_embd, true, &w));
  if (f.FindTensor("output.weight") != nullptr) {
    CELLAR_ASSIGN_OR_RETURN(w.output, BindMatrix(f, "output.weight", hp.n_vocab, n_embd));
  } else {
    w.output = w.token_embd;
    w.tied_output = true;
  }
  CELLAR_ASSIGN_OR_RETURN(w.rope_freqs,
                          BindVector(f, "rope_freqs.weight", hp.rope.n_rot / 2, false, &w));
  w.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int l = 0; l < hp.n_layer; ++l) {
    LayerWeights& L = w.layers[static_cast<size_t>(l)];
    const bool need_bias = options.require_qkv_bias;
    CELLAR_ASSIGN_OR_RETURN(L.attn_norm,
                            BindVector(f, LayerName(l, "attn_norm.weight"), n_embd, true, &w));
    CELLAR_ASSIGN_OR_RETURN(L.wq, BindMatrix(f, LayerName(l, "attn_q.weight"), n_q, n_embd));
    CELLAR_ASSIGN_OR_RETURN(L.wk, BindMatrix(f, LayerName(l, "attn_k.weight"), n_kv, n_embd));
    CELLAR_ASSIGN_OR_RETURN(L.wv, BindMatrix(f, LayerName(l, "attn_v.weight"), n_kv, n_embd));
    CELLAR_ASSIGN_OR_RETURN(L.wo, BindMatrix(f, LayerName(l, "attn_output.weight"), n_embd, n_q));
    CELLAR_ASSIGN_OR_RETURN(L.bq, BindVector(f, LayerName(l, "attn_q.bias"), n_q, need_bias, &w));
    CELLAR_ASSIGN_OR_RETURN(L.bk, BindVector(f, LayerName(l, "attn_k.bias"), n_kv, need_bias, &w));
    CELLAR_ASSIGN_OR_RETURN(L.bv, BindVector(f, LayerName(l, "attn_v.bias"), n_kv, need_bias, &w));
    CELLAR_ASSIGN_OR_RETURN(L.bo,
                            BindVector(f, LayerName(l, "attn_output.bias"), n_embd, false, &w));
    CELLAR_ASSIGN_OR_RETURN(L.ffn_norm,
                            BindVector(f, LayerName(l, "ffn_norm.weight"), n_embd, true, &w));
    CELLAR_ASSIGN_OR_RETURN(L.ffn_gate,
                            BindMatrix(f, LayerName(l, "ffn_gate.weight"), n_ff, n_embd));
    CELLAR_ASSIGN_OR_RETURN(L.ffn_up, BindMatrix(f, LayerName(l, "ffn_up.weight"), n_ff, n_embd));
    CELLAR_ASSIGN_OR_RETURN(L.ffn_down,
                            BindMatrix(f, LayerName(l, "ffn_down.weight"), n_embd, n_ff));
    for (const char* unsupported : {"ffn_gate.bias", "ffn_up.bias", "ffn_down.bias"}) {
      if (f.FindTensor(LayerName(l, unsupported)) != nullptr) {
        return Unimplemented("tensor '" + LayerName(l, unsupported) +
                             "' (feed-forward bias) is not supported");
      }
    }
  }
  return w;
}

}  // namespace cellar

#include "model/model.h"

#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "base/log.h"
#include "model/model_loader.h"

namespace cellar {

Result<std::unique_ptr<Model>> Model::Load(const std::string& path) {
  auto file = GgufFile::Open(path);
  if (!file.ok()) return file.status();
  auto model = FromGguf(std::move(file).value());
  if (!model.ok()) return model.status().WithContext(path);
  return model;
}

Result<std::unique_ptr<Model>> Model::FromGguf(std::unique_ptr<GgufFile> file) {
  const std::string arch = file->architecture();
  if (arch.empty()) return InvalidArgument("model metadata lacks 'general.architecture'");
  CELLAR_ASSIGN_OR_RETURN(const ArchitectureLoader* loader, FindArchitecture(arch));
  CELLAR_ASSIGN_OR_RETURN(ModelHParams hp, loader->read_hparams(*file));
  if (hp.n_vocab == 0) {
    // No vocab size in the metadata: take it from the embedding matrix.
    if (const GgufTensorInfo* t = file->FindTensor("token_embd.weight");
        t != nullptr && t->dims.size() == 2) {
      hp.n_vocab = static_cast<int32_t>(t->dims[1]);
    }
  }
  CELLAR_RETURN_IF_ERROR(ValidateHParams(hp));
  CELLAR_ASSIGN_OR_RETURN(ModelWeights w, loader->bind_weights(*file, hp));
  hp.rope.freq_factors = w.rope_freqs;

  auto model = std::unique_ptr<Model>(new Model());
  for (const auto& t : file->tensors()) {
    model->n_params_ += t.n_elements;
    model->n_bytes_ += t.n_bytes;
  }
  model->file_ = std::move(file);
  model->hparams_ = std::move(hp);
  model->weights_ = std::move(w);
  return model;
}

std::string Model::Describe() const {
  // Most common type among 2-D weights, by bytes.
  std::map<GgmlType, int64_t> bytes;
  for (const auto& t : file_->tensors()) {
    if (t.dims.size() >= 2) bytes[t.type] += t.n_bytes;
  }
  GgmlType main = GgmlType::kF32;
  int64_t best = -1;
  for (const auto& [type, b] : bytes) {
    if (b > best) {
      best = b;
      main = type;
    }
  }
  const double p = static_cast<double>(n_params_);
  std::string size;
  if (p >= 1e9) {
    size = std::to_string(static_cast<int64_t>(std::llround(p / 1e9))) + "B";
  } else if (p >= 1e6) {
    size = std::to_string(static_cast<int64_t>(std::llround(p / 1e6))) + "M";
  } else {
    size = std::to_string(static_cast<int64_t>(std::llround(p / 1e3))) + "K";
  }
  std::string type(GgmlTypeName(main));
  for (auto& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hparams_.arch + " " + size + " " + type;
}

}  // namespace cellar

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

namespace {

// llama.cpp's names of the llama_ftype values (general.file_type) a model says it has.
const char* FileTypeName(uint32_t ftype) {
  switch (ftype) {
    case 0:
      return "all F32";
    case 1:
      return "F16";
    case 2:
      return "Q4_0";
    case 3:
      return "Q4_1";
    case 7:
      return "Q8_0";
    case 8:
      return "Q5_0";
    case 9:
      return "Q5_1";
    case 10:
      return "Q2_K - Medium";
    case 11:
      return "Q3_K - Small";
    case 12:
      return "Q3_K - Medium";
    case 13:
      return "Q3_K - Large";
    case 14:
      return "Q4_K - Small";
    case 15:
      return "Q4_K - Medium";
    case 16:
      return "Q5_K - Small";
    case 17:
      return "Q5_K - Medium";
    case 18:
      return "Q6_K";
    case 32:
      return "BF16";
    default:
      return nullptr;
  }
}

}  // namespace

std::string Model::Describe() const {
  // The file's declared type if it has one, else the most common 2-D weight type.
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
  if (file_->Has("general.file_type")) {
    if (const char* name = FileTypeName(hparams_.file_type)) type = name;
  }
  return hparams_.arch + " " + size + " " + type;
}

}  // namespace cellar

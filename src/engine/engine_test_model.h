// Test helper: an in-memory random-weight model (see model/model_loader_test_util.h)
// loaded into a Model, with the bytes it views kept alive beside it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/model_loader_test_util.h"

namespace cellar::testing {

struct InMemoryModel {
  std::vector<uint8_t> bytes;
  std::unique_ptr<Model> model;
};

inline std::unique_ptr<InMemoryModel> MakeInMemoryModel(TestModelSpec spec = {}) {
  auto t = std::make_unique<InMemoryModel>();
  t->bytes = BuildTestModel(spec);
  auto file = GgufFile::Parse(t->bytes);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return t;
  auto m = Model::FromGguf(std::move(file).value());
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (m.ok()) t->model = std::move(m).value();
  return t;
}

inline std::vector<int32_t> RandomTokenIds(size_t n, uint64_t seed, int32_t n_vocab) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> v(n);
  for (auto& t : v) t = static_cast<int32_t>(rng() % static_cast<uint64_t>(n_vocab));
  return v;
}

}  // namespace cellar::testing

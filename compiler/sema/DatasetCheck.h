// Checks a `dataset` declaration and derives the tensors it feeds a model:
// feature and label shapes, classes, splits.
#pragma once

#include "sema/Fields.h"

namespace mlc::sema {

struct DatasetInfo {
  const Decl *decl = nullptr;
  Value source;                 // csv(...), idx(...), text(...)
  CheckedFields fields;         // with defaults
  TensorType features, label;
  std::optional<int64_t> classes;
  std::string task;             // classification or regression
  std::vector<std::pair<std::string, double>> splits;

  bool hasSplit(const std::string &s) const;
};

/// The fields a dataset with source `kind` (csv, idx, text) may set.
std::vector<FieldSpec> datasetSchema(const std::string &kind);

/// Checks once per dataset; later calls return the first result.
std::optional<DatasetInfo> checkDataset(Program &program, const Decl &dataset);

}  // namespace mlc::sema

// A data set in memory and its train/val/test splits. Loaders (Csv.cpp,
// Idx.cpp, Npy.cpp, Tokens.cpp) produce a Table; loadData() permutes it
// with the data seed, cuts the splits and normalises with train statistics.
#pragma once

#include "src/Manifest.h"

#include <memory>

namespace mlcrt {

struct Table {
  int64_t samples = 0;
  int64_t featureWidth = 0;        // f32 values per sample
  std::vector<float> features;     // samples * featureWidth
  int64_t labelWidth = 1;          // values per sample (1 for a class id)
  std::vector<int64_t> classes;    // class labels, when the task classifies
  std::vector<float> targets;      // regression targets otherwise
};

/// A split: rows of a shared table (the test split of an idx data set with
/// its own test files has a table of its own).
struct Split {
  std::shared_ptr<const Table> table;
  std::vector<int64_t> rows;
  int64_t size() const { return int64_t(rows.size()); }
};

struct Splits {
  Split train, val, test;
  const Split *named(const std::string &name) const;  // nullptr when empty or unknown
};

/// Reads the data source of the manifest and splits it. Errors (a missing
/// file, a bad cell with its file:line:column, a shape that does not match
/// the compiled feature shape, a label out of range) throw Error.
Splits loadData(const DataSpec &spec);

/// Loaders, one per format.
Table readCsv(const DataSpec &spec);
Table readIdx(const std::string &images, const std::string &labels, const DataSpec &spec);
Table readNpy(const DataSpec &spec);
Table readTokens(const DataSpec &spec);

/// The whole of a data file, decompressed when its name ends in `.gz`.
std::string readFileBytes(const std::string &path);

}  // namespace mlcrt

// Reads just enough of a dataset's files to check the declaration against
// them at compile time: a CSV's first row, an IDX file's header, the labels
// of an IDX label file. Gzip-compressed files are read the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlc::sema {

struct CsvProbe {
  size_t columns = 0;
  std::vector<std::string> names;  // the header row's names (when there is one)
};

/// `error` says why when it returns nullopt.
std::optional<CsvProbe> probeCsv(const std::string &path, bool header, char delimiter, std::string &error);

struct IdxProbe {
  std::vector<int64_t> dims;  // [samples, ...per-sample dims]
  int64_t maxLabel = -1;      // label files (one dimension): the largest label
};

std::optional<IdxProbe> probeIdx(const std::string &path, std::string &error);

}  // namespace mlc::sema

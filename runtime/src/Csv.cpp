// CSV loader. The file is read whole (gunzipped when it ends in .gz) and
// parsed row by row without copying cells; every error names the file, the
// line and, for a cell, the column where the cell starts, so a bad value can
// be found in an editor.
#include "src/Dataset.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <deque>
#include <limits>
#include <string_view>

namespace mlcrt {

namespace {

struct Cell {
  std::string_view text;  // unquoted
  size_t column;          // 1-based character column of the cell's first character
};

bool isBlank(char c, char delimiter) { return (c == ' ' || c == '\t') && c != delimiter; }

std::string_view trim(std::string_view s, char delimiter) {
  while (!s.empty() && isBlank(s.front(), delimiter)) s.remove_prefix(1);
  while (!s.empty() && isBlank(s.back(), delimiter)) s.remove_suffix(1);
  return s;
}

// Splits a line on the delimiter; double-quoted cells may hold the delimiter
// and `""` for a quote (RFC 4180, minus line breaks inside quotes). Cells
// that needed unescaping live in `storage`, which keeps its elements in place.
void splitLine(std::string_view line, char delimiter, std::vector<Cell> &cells, std::deque<std::string> &storage) {
  cells.clear();
  storage.clear();
  size_t i = 0;
  while (true) {
    size_t start = i;
    size_t q = i;
    while (q < line.size() && isBlank(line[q], delimiter)) ++q;
    if (q < line.size() && line[q] == '"') {
      std::string unescaped;
      bool escaped = false;
      size_t j = q + 1;
      for (; j < line.size(); ++j) {
        if (line[j] != '"') {
          unescaped.push_back(line[j]);
        } else if (j + 1 < line.size() && line[j + 1] == '"') {
          unescaped.push_back('"');
          escaped = true;
          ++j;
        } else {
          break;
        }
      }
      size_t end = line.find(delimiter, j);
      if (end == std::string_view::npos) end = line.size();
      std::string_view text = line.substr(q + 1, std::min(j, line.size()) - q - 1);
      if (escaped) text = storage.emplace_back(std::move(unescaped));
      cells.push_back({text, start + 1});
      i = end;
    } else {
      size_t end = line.find(delimiter, i);
      if (end == std::string_view::npos) end = line.size();
      cells.push_back({trim(line.substr(i, end - i), delimiter), start + 1});
      i = end;
    }
    if (i >= line.size()) break;
    ++i;  // past the delimiter: a line ending in one has an empty last cell
  }
}

enum class Parse { Ok, NotANumber, NotFinite, OutOfRange };

Parse parseNumber(std::string_view s, double &out) {
  if (!s.empty() && s.front() == '+' && (s.size() < 2 || s[1] != '-')) s.remove_prefix(1);  // from_chars takes no '+'
  if (s.empty()) return Parse::NotANumber;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (end != s.data() + s.size()) return Parse::NotANumber;
  if (ec == std::errc::result_out_of_range) return Parse::OutOfRange;
  if (ec != std::errc()) return Parse::NotANumber;
  return std::isfinite(out) ? Parse::Ok : Parse::NotFinite;
}

class CsvReader {
public:
  explicit CsvReader(const DataSpec &spec) : spec_(spec), file_(spec.path) {}

  Table read() {
    std::string bytes = readFileBytes(file_);
    std::vector<Cell> cells;
    std::deque<std::string> storage;
    Table table;
    std::vector<int64_t> columns;
    int64_t label = -1, fields = -1, lineNo = 0;
    bool first = true;
    size_t pos = 0;
    while (pos < bytes.size()) {
      size_t eol = bytes.find('\n', pos);
      if (eol == std::string::npos) eol = bytes.size();
      std::string_view line(bytes.data() + pos, eol - pos);
      pos = eol + 1;
      ++lineNo;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (trim(line, spec_.delimiter).empty()) continue;  // blank lines carry no row
      splitLine(line, spec_.delimiter, cells, storage);
      if (first) {
        first = false;
        fields = int64_t(cells.size());
        std::vector<std::string> names;
        if (spec_.header)
          for (const Cell &c : cells) names.emplace_back(c.text);
        selectColumns(names, fields, lineNo, columns, label);
        table.featureWidth = int64_t(columns.size());
        if (spec_.header) continue;
      }
      if (int64_t(cells.size()) != fields)
        throw Error(fmt::format("{}:{}: error: expected {} fields, found {}", file_, lineNo, fields, cells.size()));
      for (int64_t c : columns) table.features.push_back(feature(cells[size_t(c)], lineNo));
      const Cell &l = cells[size_t(label)];
      if (spec_.classLabels) table.classes.push_back(classLabel(l, lineNo));
      else table.targets.push_back(feature(l, lineNo));
      ++table.samples;
    }
    if (table.samples == 0) throw Error(fmt::format("{}: error: the file holds no data rows", file_));
    return table;
  }

private:
  void selectColumns(const std::vector<std::string> &names, int64_t fields, int64_t lineNo,
                     std::vector<int64_t> &features, int64_t &label) const {
    if (spec_.label.empty()) throw Error(fmt::format("{}: error: no label column is given", file_));
    label = column(spec_.label, names, fields, lineNo);
    if (spec_.featureRange) {
      auto [lo, hi] = *spec_.featureRange;
      if (lo < 0 || hi > fields || lo >= hi)
        throw Error(fmt::format("{}:{}: error: feature columns `{}..{}` do not fit the {} fields of a row", file_,
                                lineNo, lo, hi, fields));
      for (int64_t c = lo; c < hi; ++c) features.push_back(c);
    } else if (!spec_.featureColumns.empty()) {
      for (const std::string &name : spec_.featureColumns) features.push_back(column(name, names, fields, lineNo));
    } else {  // every column but the label
      for (int64_t c = 0; c < fields; ++c)
        if (c != label) features.push_back(c);
    }
  }

  // A column by decimal index or by header name.
  int64_t column(const std::string &name, const std::vector<std::string> &names, int64_t fields,
                 int64_t lineNo) const {
    int64_t index = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
    if (!name.empty() && ec == std::errc() && end == name.data() + name.size() && index >= 0) {
      if (index >= fields)
        throw Error(fmt::format("{}:{}: error: column {} is out of range: rows have {} fields", file_, lineNo, index,
                                fields));
      return index;
    }
    if (!spec_.header)
      throw Error(fmt::format("{}: error: column `{}` is chosen by name, but the file has no header row", file_, name));
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return int64_t(i);
    throw Error(fmt::format("{}:{}: error: no column named `{}` in the header", file_, lineNo, name));
  }

  float feature(const Cell &cell, int64_t lineNo) const {
    double v = 0;
    switch (parseNumber(cell.text, v)) {
    case Parse::Ok:
      if (std::fabs(v) <= std::numeric_limits<float>::max()) return float(v);
      [[fallthrough]];
    case Parse::OutOfRange:
      throw cellError(cell, lineNo, fmt::format("`{}` is out of range for f32", cell.text));
    case Parse::NotFinite:
      throw cellError(cell, lineNo, fmt::format("`{}` is not a finite number", cell.text));
    case Parse::NotANumber:
      break;
    }
    throw cellError(cell, lineNo, fmt::format("cannot parse `{}` as a number", cell.text));
  }

  int64_t classLabel(const Cell &cell, int64_t lineNo) const {
    int64_t id = 0;
    auto [end, ec] = std::from_chars(cell.text.data(), cell.text.data() + cell.text.size(), id);
    if (cell.text.empty() || ec != std::errc() || end != cell.text.data() + cell.text.size()) {
      // Exported tables often write class ids as floats ("3.0").
      double v = 0;
      if (parseNumber(cell.text, v) != Parse::Ok)
        throw cellError(cell, lineNo, fmt::format("cannot parse `{}` as a number", cell.text));
      if (v != std::floor(v)) throw cellError(cell, lineNo, fmt::format("label `{}` is not an integer", cell.text));
      id = v >= 0 && v < 9.2e18 ? int64_t(v) : -1;
    }
    if (id < 0 || (spec_.classes > 0 && id >= spec_.classes))
      throw cellError(cell, lineNo, fmt::format("label `{}` is outside [0, {})", cell.text, spec_.classes));
    return id;
  }

  Error cellError(const Cell &cell, int64_t lineNo, const std::string &what) const {
    return Error(fmt::format("{}:{}:{}: error: {}", file_, lineNo, cell.column, what));
  }

  const DataSpec &spec_;
  const std::string &file_;
};

}  // namespace

Table readCsv(const DataSpec &spec) { return CsvReader(spec).read(); }

}  // namespace mlcrt

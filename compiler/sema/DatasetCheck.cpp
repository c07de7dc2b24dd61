#include "sema/DatasetCheck.h"

#include "sema/DataProbe.h"

#include <cmath>
#include <filesystem>

namespace mlc::sema {

bool DatasetInfo::hasSplit(const std::string &s) const {
  for (auto &[n, f] : splits)
    if (n == s) return true;
  return false;
}

namespace {

Value defaultSplit() {
  Value v;
  v.kind = Value::Record;
  v.fields = {{"train", Value::ofFloat(0.8)}, {"val", Value::ofFloat(0.1)}, {"test", Value::ofFloat(0.1)}};
  return v;
}

}  // namespace

std::vector<FieldSpec> datasetSchema(const std::string &kind) {
  Type selector = Type::decl("selector");
  Interval atLeastTwo{2.0, std::nullopt, true, true, std::nullopt};
  return {
      {"features", selector, kind == "csv", {}, nullptr, {}, "the columns that are the model's input: `columns(0..64)`"},
      {"label", selector, kind == "csv", {}, nullptr, {}, "the column that is the label: `column(64)`"},
      {"classes", Type::of(Type::Int), kind == "idx", atLeastTwo,
       kind == "text" ? constant(Value::ofInt(256)) : nullptr, {}, "how many classes the label takes (classification)"},
      {"shape", Type::listOf(Type::of(Type::Int)), kind == "idx", {}, nullptr, {}, "the shape of one example, e.g. `[1, 28, 28]`"},
      {"split", Type::of(Type::Any), false, {}, constant(defaultSplit()), {}, "fractions of the data per split: `{ train: 0.8, val: 0.1, test: 0.1 }`"},
      {"seed", Type::of(Type::Int), false, {}, constant(Value::ofInt(0)), {}, "seeds the split and the shuffling"},
      {"shuffle", Type::of(Type::Bool), false, {}, constant(Value::ofBool(true)), {}, "shuffle the training split every epoch"},
      {"normalize", Type::enumOf({"none", "standard", "minmax"}), false, {},
       constant(Value::ofEnum("none")), {}, "scale features: none, standard (zero mean, unit variance) or minmax (to [0, 1])"},
  };
}

namespace {

class DatasetChecker {
public:
  DatasetChecker(Program &p, const Decl &d) : p_(p), d_(d), eval_(p, d.file) {}

  std::optional<DatasetInfo> run() {
    const ast::Dataset &ast = *d_.dataset;
    DatasetInfo info;
    info.decl = &d_;
    Scope scope;
    Type sourceType = Type::decl("source");
    auto source = eval_.eval(*ast.source, &sourceType, scope);
    if (!source || !eval_.conform(*source, sourceType, "dataset `" + d_.name + "`", ast.source->loc)) return std::nullopt;
    info.source = *source;
    const std::string kind = source->callee->name;
    if (!source->callee->stdlib || (kind != "csv" && kind != "idx" && kind != "text")) {
      p_.diags.report(Diag::NotBuiltin, source->loc, kind, "data source").note(source->callee->loc, "declared here");
      return std::nullopt;
    }

    std::vector<FieldSpec> specs = datasetSchema(kind);
    bool ok = true;
    info.fields = checkFields(eval_, ast.fields, specs, "dataset `" + d_.name + "`", d_.loc, scope, ok);
    for (const char *field : {"features", "label"}) {
      auto it = info.fields.find(field);
      if (it == info.fields.end()) continue;
      const Value &sel = it->second.value;
      if (!sel.callee->stdlib || sel.fields.size() != 1) {
        p_.diags.report(Diag::NotBuiltin, sel.loc, sel.callee->name, "column selector").note(sel.callee->loc, "declared here");
        ok = false;
      }
    }
    ok &= checkFiles(*source);
    ok &= splits(info);
    if (!ok) return std::nullopt;
    if (kind == "csv" && !columns(info, source->arg("header")->b)) return std::nullopt;
    if (kind == "csv" && !probeColumns(info, *source)) return std::nullopt;

    if (auto it = info.fields.find("classes"); it != info.fields.end()) info.classes = it->second.value.i;
    info.task = info.classes ? "classification" : "regression";
    if (kind == "csv") {
      auto width = selectorWidth(info.fields.at("features").value);
      auto labelWidth = selectorWidth(info.fields.at("label").value);
      if (!width || !labelWidth) return std::nullopt;
      info.features = {"f32", {Dim::batch(), Dim::constant(*width)}};
      if (auto shape = info.fields.find("shape"); shape != info.fields.end()) {
        auto dims = reshape(shape->second, *width);
        if (!dims) return std::nullopt;
        info.features.dims = *dims;
      }
      info.label = info.classes ? TensorType{"i64", {Dim::batch()}} : TensorType{"f32", {Dim::batch(), Dim::constant(*labelWidth)}};
    } else if (kind == "idx") {
      auto dims = reshape(info.fields.at("shape"), 0);
      if (!dims || !probeImages(info, *source)) return std::nullopt;  // a valid shape first, then the files
      info.features = {"f32", *dims};
      info.label = {"i64", {Dim::batch()}};
    } else {  // text
      int64_t context = source->arg("context")->i;
      info.features = {"i64", {Dim::batch(), Dim::constant(context)}};
      info.label = {"i64", {Dim::batch()}};
    }
    return info;
  }

private:


  // Data paths are relative to the .mlp file that names them.
  std::string resolve(const std::string &path) const {
    namespace fs = std::filesystem;
    fs::path dir = fs::path(p_.sources.path(d_.file)).parent_path();
    return (fs::path(path).is_absolute() ? fs::path(path) : dir / path).string();
  }

  bool checkFiles(const Value &source) {
    namespace fs = std::filesystem;
    bool ok = true;
    for (auto &[n, v] : source.fields) {
      bool isFile = n == "path" || n == "images" || n == "labels" || n == "test_images" || n == "test_labels";
      if (v.kind != Value::String || !isFile || (v.s.empty() && n.rfind("test_", 0) == 0)) continue;
      fs::path file = resolve(v.s);
      std::error_code ec;
      if (!fs::is_regular_file(file, ec)) {
        p_.diags.report(Diag::DataFileNotFound, v.loc, v.s)
            .note(fmt::format("looked for `{}` (paths are relative to the .mlp file)",
                              fs::absolute(file, ec).lexically_normal().string()));
        ok = false;
      }
    }
    return ok;
  }

  bool splits(DatasetInfo &info) {
    auto it = info.fields.find("split");
    if (it == info.fields.end()) return false;  // written but wrong: already reported
    const CheckedField &f = it->second;
    if (f.value.kind != Value::Record) {
      p_.diags.report(Diag::TypeMismatch, f.value.loc, "field `split`", "a record such as `{ train: 0.8, val: 0.2 }`",
                      describe(f.value));
      return false;
    }
    bool ok = true;
    double sum = 0;
    for (const NamedValue &entry : f.value.fields) {
      const std::string &n = entry.first;
      const Value &v = entry.second;
      if (n != "train" && n != "val" && n != "test") {
        p_.diags.reportUnknown(Diag::UnknownSplit, entry.nameLoc.valid() ? entry.nameLoc : v.loc, n,
                               {"train", "val", "test"}, n);
        ok = false;
        continue;
      }
      if (!v.isNumber() || v.number() <= 0 || v.number() > 1) {
        p_.diags.report(Diag::BadSplitFraction, v.loc, n, toString(v));
        ok = false;
        continue;
      }
      sum += v.number();
      info.splits.emplace_back(n, v.number());
    }
    if (!ok) return false;
    if (!info.hasSplit("train")) {
      p_.diags.report(Diag::MissingTrainSplit, f.value.loc);
      return false;
    }
    if (std::fabs(sum - 1.0) > 1e-9) {
      p_.diags.report(Diag::SplitSum, f.value.loc, fmt::format("{:g}", sum));
      return false;
    }
    // An official test set (idx's test_images) is the test split; the
    // fractions divide the training files.
    const Value *testImages = info.source.arg("test_images");
    if (testImages && !testImages->s.empty() && !info.hasSplit("test")) info.splits.emplace_back("test", 0.0);
    return true;
  }

  // Column selectors: indices must be real, names need a header row, and
  // the label must not also be a feature (the model would see the answer).
  bool columns(const DatasetInfo &info, bool header) {
    bool ok = true;
    std::optional<std::pair<int64_t, int64_t>> featureRange;
    std::optional<int64_t> labelIndex;
    for (const char *field : {"features", "label"}) {
      const Value &sel = info.fields.at(field).value;
      const Value &arg = sel.fields.front().second;
      if (arg.kind == Value::String && !header) {
        p_.diags.report(Diag::NamedColumnWithoutHeader, arg.loc, arg.s, d_.name)
            .note(info.source.loc, "add `header = true` to the source if the first row names the columns");
        ok = false;
      }
      int64_t lo = arg.kind == Value::Int ? arg.i : arg.kind == Value::Range ? arg.items[0].i : 0;
      if (lo < 0) {
        p_.diags.report(Diag::NegativeColumn, arg.loc, lo);
        ok = false;
        continue;
      }
      if (std::string(field) == "features" && arg.kind == Value::Range) featureRange = {arg.items[0].i, arg.items[1].i};
      if (std::string(field) == "features" && arg.kind == Value::Int && arg.i < INT64_MAX) featureRange = {arg.i, arg.i + 1};
      if (std::string(field) == "label" && arg.kind == Value::Int) labelIndex = arg.i;
    }
    if (ok && featureRange && labelIndex && *labelIndex >= featureRange->first && *labelIndex < featureRange->second) {
      const Value &label = info.fields.at("label").value;
      p_.diags.report(Diag::LabelIsFeature, label.fields.front().second.loc, *labelIndex)
          .note(info.fields.at("features").value.loc, "features selected here");
      ok = false;
    }
    return ok;
  }

  // The CSV itself: selected columns must exist in its first row, and named
  // columns in its header.
  bool probeColumns(const DatasetInfo &info, const Value &source) {
    const Value &path = *source.arg("path");
    if (path.kind != Value::String) return true;  // env(...): known only when the experiment runs
    const std::string &delimiter = source.arg("delimiter")->s;
    if (delimiter.size() != 1) {
      p_.diags.report(Diag::TypeMismatch, source.arg("delimiter")->loc, "argument `delimiter` of `csv`",
                      "a single character", "string \"" + delimiter + "\"");
      return false;
    }
    std::string error;
    auto probe = probeCsv(resolve(path.s), source.arg("header")->b, delimiter[0], error);
    if (!probe) {
      p_.diags.report(Diag::DataFileUnreadable, path.loc, path.s, error);
      return false;
    }
    bool ok = true;
    for (const char *field : {"features", "label"}) {
      const Value &arg = info.fields.at(field).value.fields.front().second;
      if (arg.kind == Value::String) {
        if (std::find(probe->names.begin(), probe->names.end(), arg.s) == probe->names.end()) {
          p_.diags.reportUnknown(Diag::UnknownColumn, arg.loc, arg.s, probe->names, path.s, arg.s);
          ok = false;
        }
        continue;
      }
      int64_t last = arg.kind == Value::Range ? arg.items[1].i - 1 : arg.i;  // columns are >= 0 here
      if (uint64_t(last) >= probe->columns) {
        std::string what = arg.kind == Value::Range ? fmt::format("column range `{}`", toString(arg))
                                                    : fmt::format("column {}", arg.i);
        p_.diags.report(Diag::ColumnPastEnd, arg.loc, what, path.s, probe->columns - 1);
        ok = false;
      }
    }
    return ok;
  }

  // IDX files: the per-sample shape must match the images' dimensions, the
  // label file must have one label per image, and every label a class.
  bool probeImages(const DatasetInfo &info, const Value &source) {
    const Value &images = *source.arg("images"), &labels = *source.arg("labels");
    if (images.kind != Value::String || labels.kind != Value::String) return true;  // known only at run time
    std::string error;
    auto img = probeIdx(resolve(images.s), error);
    if (!img || img->dims.size() < 2) {
      p_.diags.report(Diag::DataFileUnreadable, images.loc, images.s, img ? "it holds no samples" : error);
      return false;
    }
    auto lab = probeIdx(resolve(labels.s), error);
    if (!lab || lab->dims.size() != 1) {
      p_.diags.report(Diag::DataFileUnreadable, labels.loc, labels.s, lab ? "it is not a label file" : error);
      return false;
    }
    bool ok = true;
    const CheckedField &shape = info.fields.at("shape");
    int64_t want = 1, have = 1;
    std::string haveText;
    for (const Value &v : shape.value.items) want *= v.i;  // validated by reshape(): no overflow
    for (size_t i = 1; i < img->dims.size(); ++i) {
      if (__builtin_mul_overflow(have, img->dims[i], &have)) have = INT64_MAX;
      haveText += (i > 1 ? " x " : "") + std::to_string(img->dims[i]);
    }
    if (want != have) {
      p_.diags.report(Diag::SampleShapeMismatch, shape.value.loc, want, images.s, have, haveText);
      ok = false;
    }
    if (img->dims[0] != lab->dims[0]) {
      p_.diags.report(Diag::SampleCountMismatch, labels.loc, images.s, img->dims[0], labels.s, lab->dims[0]);
      ok = false;
    }
    if (info.fields.count("classes") && lab->maxLabel >= info.fields.at("classes").value.i) {
      const Value &classes = info.fields.at("classes").value;
      p_.diags.report(Diag::LabelOutOfRange, classes.loc, labels.s, lab->maxLabel, classes.i)
          .note(labels.loc, "labels read from here");
      ok = false;
    }
    return ok;
  }

  std::optional<int64_t> selectorWidth(const Value &sel) {
    if (sel.callee->name == "column") return 1;
    const Value &range = *sel.arg("range");
    int64_t lo = range.items[0].i, hi = range.items[1].i;
    if (hi <= lo) {
      p_.diags.report(Diag::EmptyColumnRange, range.loc, lo, hi).note("`a..b` selects columns a to b-1");
      return std::nullopt;
    }
    return hi - lo;
  }

  // `shape = [1, 28, 28]`: the per-sample feature shape. For csv its product
  // must equal the number of feature columns.
  std::optional<std::vector<Dim>> reshape(const CheckedField &shape, int64_t width) {
    std::vector<Dim> dims{Dim::batch()};
    int64_t product = 1;
    for (const Value &v : shape.value.items) {
      if (v.i <= 0) {
        p_.diags.report(Diag::BadDimension, v.loc, toString(v));
        return std::nullopt;
      }
      if (__builtin_mul_overflow(product, v.i, &product)) {
        p_.diags.report(Diag::IntOverflow, v.loc);
        return std::nullopt;
      }
      dims.push_back(Dim::constant(v.i));
    }
    if (width && product != width) {
      p_.diags.report(Diag::TypeMismatch, shape.value.loc, "field `shape`",
                      fmt::format("dimensions whose product is the {} feature columns", width),
                      fmt::format("product {}", product));
      return std::nullopt;
    }
    return dims;
  }

  Program &p_;
  const Decl &d_;
  Evaluator eval_;
};

}  // namespace

std::optional<DatasetInfo> checkDataset(Program &program, const Decl &dataset) {
  auto cached = program.checkedDatasets.find(&dataset);
  if (cached == program.checkedDatasets.end()) {
    auto info = DatasetChecker(program, dataset).run();
    cached = program.checkedDatasets.emplace(&dataset, info ? std::make_shared<const DatasetInfo>(std::move(*info)) : nullptr).first;
  }
  if (!cached->second) return std::nullopt;
  return *cached->second;
}

}  // namespace mlc::sema

// Unit tests of libmlcrt's loaders (csv, idx, npy, tokens) and of splitting
// and normalisation. Each test writes its fixture files into a fresh
// temporary directory.
#include "src/Batcher.h"
#include "src/Dataset.h"

#include "TestDir.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

namespace mlcrt {
namespace {

namespace fs = std::filesystem;

class Data : public test::TempDirTest {
protected:
  // Writes `bytes` to `name` in the test's directory, gzipped when the name ends in .gz.
  std::string write(const std::string &name, const std::string &bytes) {
    std::string path = (dir_ / name).string();
    if (name.ends_with(".gz")) {
      gzFile f = gzopen(path.c_str(), "wb");
      EXPECT_NE(f, nullptr);
      EXPECT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary) << bytes;
    }
    return path;
  }

};

using test::errorOf;

DataSpec csvSpec(const std::string &path) {
  DataSpec s;
  s.kind = "csv";
  s.path = path;
  s.classes = 10;
  return s;
}

// A csv of n rows: feature 0 = row index, feature 1 = 10 * row index, label = row % 3.
std::string indexedRows(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += std::to_string(i) + "," + std::to_string(10 * i) + "," + std::to_string(i % 3) + "\n";
  return s;
}

// --- csv --------------------------------------------------------------------

TEST_F(Data, CsvReadsAColumnRangeAndAnIndexedLabel) {
  DataSpec s = csvSpec(write("a.csv", "1,2,3,0\n4,5.5,-6e1,1\n"));
  s.featureRange = {{0, 3}};
  s.label = "3";
  Table t = readCsv(s);
  EXPECT_EQ(t.samples, 2);
  EXPECT_EQ(t.featureWidth, 3);
  EXPECT_EQ(t.labelWidth, 1);
  EXPECT_EQ(t.features, (std::vector<float>{1, 2, 3, 4, 5.5f, -60}));
  EXPECT_EQ(t.classes, (std::vector<int64_t>{0, 1}));
  EXPECT_TRUE(t.targets.empty());
}

TEST_F(Data, CsvSelectsColumnsByNameAndIndexInTheGivenOrder) {
  DataSpec s = csvSpec(write("a.csv", "a,b,c,y\n1,2,3,0.5\n4,5,6,-1.25\n"));
  s.header = true;
  s.featureColumns = {"c", "0"};
  s.label = "y";
  s.classLabels = false;
  Table t = readCsv(s);
  EXPECT_EQ(t.samples, 2);
  EXPECT_EQ(t.features, (std::vector<float>{3, 1, 6, 4}));
  EXPECT_EQ(t.targets, (std::vector<float>{0.5f, -1.25f}));
  EXPECT_TRUE(t.classes.empty());
}

TEST_F(Data, CsvWithoutASelectionTakesEveryColumnButTheLabel) {
  DataSpec s = csvSpec(write("a.csv", "1,7,2\n3,8,4\n"));
  s.label = "1";
  s.classes = 0;
  s.classLabels = false;
  Table t = readCsv(s);
  EXPECT_EQ(t.features, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(t.targets, (std::vector<float>{7, 8}));
}

TEST_F(Data, CsvGzipReadsLikePlain) {
  std::string text = "x,y\n0.25,1\n0.5,2\n0.75,0\n";
  DataSpec plain = csvSpec(write("a.csv", text)), gz = csvSpec(write("a.csv.gz", text));
  for (DataSpec *s : {&plain, &gz}) {
    s->header = true;
    s->featureColumns = {"x"};
    s->label = "y";
    s->classes = 3;
  }
  Table a = readCsv(plain), b = readCsv(gz);
  EXPECT_EQ(b.samples, 3);
  EXPECT_EQ(a.features, b.features);
  EXPECT_EQ(a.classes, b.classes);
  EXPECT_EQ(b.features, (std::vector<float>{0.25f, 0.5f, 0.75f}));
}

TEST_F(Data, CsvHandlesQuotesCrlfBlankLinesAndSpaces) {
  DataSpec s = csvSpec(write("a.csv", "\"na,me\",\"say \"\"hi\"\"\",y\r\n 1 ,\"2\",3.0\r\n\r\n+4,5,1\r\n"));
  s.header = true;
  s.featureColumns = {"na,me", "say \"hi\""};
  s.label = "y";
  Table t = readCsv(s);
  EXPECT_EQ(t.features, (std::vector<float>{1, 2, 4, 5}));
  EXPECT_EQ(t.classes, (std::vector<int64_t>{3, 1}));  // "3.0" is class 3
}

TEST_F(Data, CsvBadCellNamesLineAndColumn) {
  std::string path = write("a.csv", "a,b,c,y\n1,2,3,0\n4,x5,6,1\n");
  DataSpec s = csvSpec(path);
  s.header = true;
  s.featureRange = {{0, 3}};
  s.label = "y";
  EXPECT_EQ(errorOf([&] { readCsv(s); }), path + ":3:3: error: cannot parse `x5` as a number");
  s.path = write("b.csv", "1,2,,0\n");
  s.header = false;
  s.label = "3";
  EXPECT_EQ(errorOf([&] { readCsv(s); }), s.path + ":1:5: error: cannot parse `` as a number");
  s.path = write("c.csv", "1,2,1e999,0\n");
  EXPECT_EQ(errorOf([&] { readCsv(s); }), s.path + ":1:5: error: `1e999` is out of range for f32");
  s.path = write("d.csv", "1,nan,2,0\n");
  EXPECT_EQ(errorOf([&] { readCsv(s); }), s.path + ":1:3: error: `nan` is not a finite number");
}

TEST_F(Data, CsvRowWithTheWrongNumberOfFields) {
  std::string path = write("a.csv", "1,2,3,0\n4,5,6,1\n7,8,1\n");
  DataSpec s = csvSpec(path);
  s.featureRange = {{0, 3}};
  s.label = "3";
  EXPECT_EQ(errorOf([&] { readCsv(s); }), path + ":3: error: expected 4 fields, found 3");
}

TEST_F(Data, CsvUnknownColumnsAndRanges) {
  std::string path = write("a.csv", "a,b,y\n1,2,0\n");
  DataSpec s = csvSpec(path);
  s.header = true;
  s.featureColumns = {"a", "z"};
  s.label = "y";
  EXPECT_EQ(errorOf([&] { readCsv(s); }), path + ":1: error: no column named `z` in the header");
  s.featureColumns = {"a", "7"};
  EXPECT_EQ(errorOf([&] { readCsv(s); }), path + ":1: error: column 7 is out of range: rows have 3 fields");
  s.featureColumns = {};
  s.featureRange = {{1, 4}};
  EXPECT_EQ(errorOf([&] { readCsv(s); }), path + ":1: error: feature columns `1..4` do not fit the 3 fields of a row");
  s.header = false;
  s.featureRange = {{0, 2}};
  s.path = write("b.csv", "1,2,0\n");
  EXPECT_EQ(errorOf([&] { readCsv(s); }),
            s.path + ": error: column `y` is chosen by name, but the file has no header row");
}

TEST_F(Data, CsvMissingFile) {
  std::string path = (dir_ / "absent.csv").string();
  DataSpec s = csvSpec(path);
  s.label = "0";
  EXPECT_EQ(errorOf([&] { readCsv(s); }), path + ": error: cannot open: No such file or directory");
  s.path += ".gz";
  EXPECT_EQ(errorOf([&] { readCsv(s); }), s.path + ": error: cannot open: No such file or directory");
}

TEST_F(Data, CsvClassLabelsMustBeIntegersInRange) {
  DataSpec s = csvSpec(write("a.csv", "1,2,3\n1,2,12\n"));
  s.featureRange = {{0, 2}};
  s.label = "2";
  EXPECT_EQ(errorOf([&] { readCsv(s); }), s.path + ":2:5: error: label `12` is outside [0, 10)");
  s.path = write("b.csv", "1,2,-1\n");
  EXPECT_EQ(errorOf([&] { readCsv(s); }), s.path + ":1:5: error: label `-1` is outside [0, 10)");
  s.path = write("c.csv", "1,2,1.5\n");
  EXPECT_EQ(errorOf([&] { readCsv(s); }), s.path + ":1:5: error: label `1.5` is not an integer");
  s.path = write("d.csv", "1,2,cat\n");
  EXPECT_EQ(errorOf([&] { readCsv(s); }), s.path + ":1:5: error: cannot parse `cat` as a number");
}

TEST_F(Data, TruncatedGzipIsAReadError) {
  // Long enough that half of it gzipped stops inside the data.
  std::string whole = write("a.csv.gz", indexedRows(200));
  std::string bytes;
  {
    std::ifstream in(whole, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  DataSpec s = csvSpec((dir_ / "cut.csv.gz").string());
  std::ofstream(s.path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);  // as is, not gzipped again
  s.label = "2";
  EXPECT_EQ(errorOf([&] { readCsv(s); }), s.path + ": error: cannot read: unexpected end of file");
}

TEST_F(Data, CsvWithOnlyAHeaderHasNoRows) {
  DataSpec s = csvSpec(write("a.csv", "a,y\n"));
  s.header = true;
  s.label = "y";
  EXPECT_EQ(errorOf([&] { readCsv(s); }), s.path + ": error: the file holds no data rows");
}

// --- idx --------------------------------------------------------------------

std::string idxHeader(unsigned char type, std::vector<uint32_t> dims) {
  std::string h{0, 0, char(type), char(dims.size())};
  for (uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) h.push_back(char((d >> shift) & 0xff));
  return h;
}

std::string idxImages(uint32_t n, uint32_t rows, uint32_t cols, unsigned char start) {
  std::string s = idxHeader(0x08, {n, rows, cols});
  for (uint32_t i = 0; i < n * rows * cols; ++i) s.push_back(char(start + i));
  return s;
}

std::string idxLabels(const std::vector<unsigned char> &labels) {
  return idxHeader(0x08, {uint32_t(labels.size())}) + std::string(labels.begin(), labels.end());
}

TEST_F(Data, IdxReadsGzippedImagesAndLabels) {
  std::string images = write("img.gz", idxImages(3, 2, 2, 250)), labels = write("lab.gz", idxLabels({4, 0, 9}));
  DataSpec s;
  s.featureShape = {1, 2, 2};  // same element count as 2 x 2
  s.classes = 10;
  Table t = readIdx(images, labels, s);
  EXPECT_EQ(t.samples, 3);
  EXPECT_EQ(t.featureWidth, 4);
  EXPECT_EQ(t.features, (std::vector<float>{250, 251, 252, 253, 254, 255, 0, 1, 2, 3, 4, 5}));  // unsigned bytes wrap
  EXPECT_EQ(t.classes, (std::vector<int64_t>{4, 0, 9}));
}

TEST_F(Data, IdxErrors) {
  std::string images = write("img", idxImages(3, 2, 2, 0)), labels = write("lab", idxLabels({1, 2, 3}));
  DataSpec s;
  s.classes = 10;
  s.featureShape = {3, 3};
  EXPECT_EQ(errorOf([&] { readIdx(images, labels, s); }),
            images + ": error: samples are 2 x 2 (4 values), but the experiment was compiled for [3, 3] (9 values)");
  s.featureShape = {4};
  std::string two = write("two", idxLabels({1, 2}));
  EXPECT_EQ(errorOf([&] { readIdx(images, two, s); }), images + ": error: 3 images, but `" + two + "` has 2 labels");
  std::string big = write("big", idxLabels({1, 12, 3}));
  EXPECT_EQ(errorOf([&] { readIdx(images, big, s); }),
            big + ": error: label `12` of sample 1 is outside [0, 10)");
  std::string cut = write("cut", idxImages(3, 2, 2, 0).substr(0, 20));
  EXPECT_EQ(errorOf([&] { readIdx(cut, labels, s); }),
            cut + ": error: truncated: its header says 3 x 2 x 2 values, but only 4 bytes follow");
  std::string ints = write("ints", idxHeader(0x0c, {3, 2, 2}));
  EXPECT_EQ(errorOf([&] { readIdx(ints, labels, s); }),
            ints + ": error: IDX values of type 0x0c are not supported (only unsigned bytes, 0x08)");
  EXPECT_EQ(errorOf([&] { readIdx(labels, labels, s); }),
            labels + ": error: expected an IDX image file, but it has 1 dimension");
}

// --- npy --------------------------------------------------------------------

std::string npy(const std::string &descr, const std::string &shape, const std::string &data, int major = 1,
                const std::string &fortran = "False") {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
  size_t prefix = major == 1 ? 10 : 12;
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;  // numpy pads the header to 64 bytes
  dict += std::string(total - prefix - dict.size() - 1, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out.push_back(char(major));
  out.push_back(0);
  size_t len = dict.size();
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); ++i) out.push_back(char((len >> (8 * i)) & 0xff));
  return out + dict + data;
}

template <class T> std::string raw(std::vector<T> v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
}

TEST_F(Data, NpyReadsFloatFeaturesAndIntegerLabels) {
  DataSpec s;
  s.kind = "npy";
  s.featuresPath = write("x.npy", npy("<f4", "(2, 3)", raw<float>({1, 2, 3, 4, 5, 6.5f})));
  s.labelsPath = write("y.npy", npy("<i8", "(2,)", raw<int64_t>({2, 0}), 2));
  s.featureShape = {3};
  s.classes = 3;
  Table t = readNpy(s);
  EXPECT_EQ(t.samples, 2);
  EXPECT_EQ(t.featureWidth, 3);
  EXPECT_EQ(t.features, (std::vector<float>{1, 2, 3, 4, 5, 6.5f}));
  EXPECT_EQ(t.classes, (std::vector<int64_t>{2, 0}));
}

TEST_F(Data, NpyConvertsBytesDoublesAndRegressionTargets) {
  DataSpec s;
  s.featuresPath = write("x.npy", npy("|u1", "(2, 1, 2)", std::string{char(0), char(255), char(7), char(8)}, 3));
  s.labelsPath = write("y.npy", npy("<f8", "(2, 2)", raw<double>({0.5, -1, 2.25, 3})));
  s.featureShape = {2};
  s.classLabels = false;
  s.labelShape = {2};
  Table t = readNpy(s);
  EXPECT_EQ(t.features, (std::vector<float>{0, 255, 7, 8}));
  EXPECT_EQ(t.labelWidth, 2);
  EXPECT_EQ(t.targets, (std::vector<float>{0.5f, -1, 2.25f, 3}));
  s.labelsPath = write("z.npy", npy("<i4", "(2,)", raw<int32_t>({-3, 4})));
  s.labelShape = {};
  t = readNpy(s);
  EXPECT_EQ(t.targets, (std::vector<float>{-3, 4}));
  s.featuresPath = write("w.npy", npy("|i1", "(2, 2)", std::string{char(-2), char(1), char(3), char(-128)}));
  EXPECT_EQ(readNpy(s).features, (std::vector<float>{-2, 1, 3, -128}));
}

TEST_F(Data, NpyErrors) {
  DataSpec s;
  s.classes = 3;
  s.featureShape = {2};
  s.labelsPath = write("y.npy", npy("<i8", "(2,)", raw<int64_t>({1, 2})));
  s.featuresPath = write("f.npy", npy("<f4", "(2, 2)", raw<float>({1, 2, 3, 4}), 1, "True"));
  EXPECT_EQ(errorOf([&] { readNpy(s); }), s.featuresPath +
                                              ": error: fortran_order arrays are not supported; save a C-ordered "
                                              "array (numpy.ascontiguousarray)");
  s.featuresPath = write("b.npy", npy(">f4", "(2, 2)", raw<float>({1, 2, 3, 4})));
  EXPECT_EQ(errorOf([&] { readNpy(s); }),
            s.featuresPath + ": error: unsupported dtype `>f4`; expected one of <f4, <f8, |u1, |i1, <i4, <i8");
  s.featuresPath = write("t.npy", npy("<f4", "(2, 2)", raw<float>({1, 2, 3})));
  EXPECT_EQ(errorOf([&] { readNpy(s); }),
            s.featuresPath + ": error: truncated: shape (2, 2) of <f4 needs 16 bytes, but only 12 follow the header");
  s.featuresPath = write("s.npy", npy("<f4", "(2, 3)", raw<float>({1, 2, 3, 4, 5, 6})));
  EXPECT_EQ(errorOf([&] { readNpy(s); }), s.featuresPath +
                                              ": error: samples have shape (3,) (3 values), but the experiment was "
                                              "compiled for (2,) (2 values)");
  s.featuresPath = write("x.npy", npy("<f4", "(2, 2)", raw<float>({1, 2, 3, 4})));
  s.labelsPath = write("z.npy", npy("<i8", "(2,)", raw<int64_t>({1, 3})));
  EXPECT_EQ(errorOf([&] { readNpy(s); }), s.labelsPath + ": error: label `3` of sample 1 is outside [0, 3)");
  s.labelsPath = write("h.npy", npy("<f4", "(2,)", raw<float>({1, 0.5f})));
  EXPECT_EQ(errorOf([&] { readNpy(s); }), s.labelsPath + ": error: label `0.5` of sample 1 is not an integer");
  s.labelsPath = write("c.npy", npy("<i8", "(3,)", raw<int64_t>({1, 0, 1})));
  EXPECT_EQ(errorOf([&] { readNpy(s); }),
            s.labelsPath + ": error: 3 labels, but `" + s.featuresPath + "` has 2 samples");
  s.labelsPath = write("m.npy", "not numpy at all");
  EXPECT_EQ(errorOf([&] { readNpy(s); }), s.labelsPath + ": error: not a .npy file (no \\x93NUMPY magic)");
}

// --- tokens -----------------------------------------------------------------

std::string tokens(const std::vector<uint16_t> &ids) {
  std::string s;
  for (uint16_t id : ids) {
    s.push_back(char(id & 0xff));  // little-endian whatever the host
    s.push_back(char(id >> 8));
  }
  return s;
}

TEST_F(Data, TokensAreNonOverlappingWindowsLabelledByTheNextToken) {
  DataSpec s;
  s.tokensPath = write("t.bin", tokens({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  s.context = 3;
  s.classes = 300;
  Table t = readTokens(s);
  EXPECT_EQ(t.samples, 3);  // 10 tokens: 3 windows of 3, each with the token after it
  EXPECT_EQ(t.featureWidth, 3);
  EXPECT_EQ(t.features, (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(t.classes, (std::vector<int64_t>{3, 6, 9}));

  s.labelShape = {3};  // the next token at every position
  t = readTokens(s);
  EXPECT_EQ(t.labelWidth, 3);
  EXPECT_EQ(t.classes, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));

  s.tokensPath = write("u.bin", tokens({299, 258, 7, 1}));
  s.labelShape = {};
  t = readTokens(s);
  EXPECT_EQ(t.features, (std::vector<float>{299, 258, 7}));
  EXPECT_EQ(t.classes, (std::vector<int64_t>{1}));
}

TEST_F(Data, TokensErrors) {
  DataSpec s;
  s.context = 2;
  s.classes = 256;
  s.tokensPath = write("big.bin", tokens({1, 2, 300, 4}));
  EXPECT_EQ(errorOf([&] { readTokens(s); }), s.tokensPath + ": error: token `300` at position 2 is outside [0, 256)");
  s.tokensPath = write("odd.bin", "abc");
  EXPECT_EQ(errorOf([&] { readTokens(s); }), s.tokensPath + ": error: 3 bytes is not a whole number of uint16 tokens");
  s.tokensPath = write("short.bin", tokens({1, 2}));
  EXPECT_EQ(errorOf([&] { readTokens(s); }),
            s.tokensPath + ": error: 2 tokens are too few for one window of 2 and the token after it");
  s.tokensPath = write("empty.bin", "");
  EXPECT_EQ(errorOf([&] { readTokens(s); }),
            s.tokensPath + ": error: 0 tokens are too few for one window of 2 and the token after it");
  s.tokensPath = (dir_ / "absent.bin").string();
  EXPECT_EQ(errorOf([&] { readTokens(s); }), s.tokensPath + ": error: cannot open: No such file or directory");
}

// --- splits and normalisation -----------------------------------------------

DataSpec splitSpec(const std::string &path, std::vector<std::pair<std::string, double>> splits) {
  DataSpec s = csvSpec(path);
  s.featureRange = {{0, 2}};
  s.label = "2";
  s.classes = 3;
  s.featureShape = {2};
  s.splits = std::move(splits);
  s.seed = 42;
  return s;
}

std::vector<int64_t> sorted(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_F(Data, SplitsCutTheSeededPermutationByFraction) {
  DataSpec s = splitSpec(write("a.csv", indexedRows(10)), {{"train", 0.8}, {"val", 0.1}, {"test", 0.1}});
  Splits d = loadData(s);
  EXPECT_EQ(d.train.size(), 8);
  EXPECT_EQ(d.val.size(), 1);
  EXPECT_EQ(d.test.size(), 1);
  // The cut follows the permutation on the data seed's own stream, each split in file order.
  std::vector<int64_t> p = permutation(10, 42, 0xDA7A, 0);
  EXPECT_EQ(d.train.rows, sorted({p.begin(), p.begin() + 8}));
  EXPECT_EQ(d.val.rows, (std::vector<int64_t>{p[8]}));
  EXPECT_EQ(d.test.rows, (std::vector<int64_t>{p[9]}));
  EXPECT_EQ(d.train.table, d.test.table);
  std::vector<int64_t> all = d.train.rows;
  all.insert(all.end(), d.val.rows.begin(), d.val.rows.end());
  all.insert(all.end(), d.test.rows.begin(), d.test.rows.end());
  EXPECT_EQ(sorted(all), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));

  Splits again = loadData(s);
  EXPECT_EQ(again.train.rows, d.train.rows);
  EXPECT_EQ(again.test.rows, d.test.rows);
  s.seed = 43;
  EXPECT_NE(loadData(s).train.rows, d.train.rows);
}

TEST_F(Data, SplitCountsFloorAllButTheLastListed) {
  std::string path = write("a.csv", indexedRows(150));
  Splits d = loadData(splitSpec(path, {{"train", 0.7}, {"val", 0.3}}));
  EXPECT_EQ(d.train.size(), 105);
  EXPECT_EQ(d.val.size(), 45);
  EXPECT_EQ(d.test.size(), 0);
  EXPECT_EQ(d.named("test"), nullptr);
  EXPECT_EQ(d.named("val"), &d.val);
  EXPECT_EQ(d.named("nonsense"), nullptr);
  d = loadData(splitSpec(path, {{"train", 0.333}, {"test", 0.333}}));  // the last listed takes the rest
  EXPECT_EQ(d.train.size(), 49);
  EXPECT_EQ(d.test.size(), 101);
  d = loadData(splitSpec(path, {}));
  EXPECT_EQ(d.train.size(), 150);
  EXPECT_EQ(errorOf([&] { loadData(splitSpec(path, {{"val", 0.5}, {"train", 0.5}})); }),
            "splits must be listed in the order train, val, test, each at most once");
  EXPECT_EQ(errorOf([&] { loadData(splitSpec(path, {{"train", 0.5}, {"dev", 0.5}})); }),
            "unknown split `dev` (train, val or test)");
  EXPECT_EQ(errorOf([&] { loadData(splitSpec(path, {{"train", 0.75}, {"val", 0.5}})); }),
            "split fractions add up to 1.25, more than 1");
}

TEST_F(Data, MinmaxUsesTrainRowsOnly) {
  DataSpec s = splitSpec(write("a.csv", indexedRows(20)), {{"train", 0.5}, {"val", 0.25}, {"test", 0.25}});
  s.normalize = "minmax";
  Splits d = loadData(s);
  const Table &t = *d.train.table;
  int64_t lo = *std::min_element(d.train.rows.begin(), d.train.rows.end());
  int64_t hi = *std::max_element(d.train.rows.begin(), d.train.rows.end());
  ASSERT_LT(lo, hi);
  // Feature 0 of row r was r (feature 1 was 10 r): both scale to (r - lo) / (hi - lo).
  for (int64_t r = 0; r < 20; ++r) {
    float want = float(double(r - lo) / double(hi - lo));
    EXPECT_EQ(t.features[size_t(2 * r)], want) << "row " << r;
    EXPECT_EQ(t.features[size_t(2 * r + 1)], float(double(10 * r - 10 * lo) / double(10 * hi - 10 * lo)));
  }
  // Val or test rows outside the train range fall outside [0, 1]: their values did not shape the scale.
  bool outside = lo > 0 || hi < 19;
  EXPECT_TRUE(outside);
  EXPECT_EQ(t.features[size_t(2 * lo)], 0.0f);
  EXPECT_EQ(t.features[size_t(2 * hi)], 1.0f);
}

TEST_F(Data, MinmaxOfAConstantFeatureIsZeroAndStandardUsesPopulationStd) {
  DataSpec s = csvSpec(write("a.csv", "5,1,0\n5,2,1\n5,3,0\n5,6,1\n"));
  s.featureRange = {{0, 2}};
  s.label = "2";
  s.splits = {{"train", 1.0}};
  s.normalize = "minmax";
  Splits d = loadData(s);
  EXPECT_EQ(d.train.table->features, (std::vector<float>{0, 0, 0, 0.2f, 0, 0.4f, 0, 1}));
  s.normalize = "standard";
  d = loadData(s);
  // Feature 1: mean 3, population std sqrt((4 + 1 + 0 + 9) / 4) = sqrt(3.5); feature 0: std 0, only centred.
  double sd = std::sqrt(3.5);
  EXPECT_EQ(d.train.table->features,
            (std::vector<float>{0, float(-2 / sd), 0, float(-1 / sd), 0, 0.0f, 0, float(3 / sd)}));
}

TEST_F(Data, IdxTestFilesAreTheTestSplitAndImagesShareOneScale) {
  DataSpec s;
  s.kind = "idx";
  s.images = write("train-img.gz", idxImages(10, 2, 2, 10));  // pixels 10 .. 49
  s.labels = write("train-lab.gz", idxLabels({0, 1, 2, 0, 1, 2, 0, 1, 2, 0}));
  s.testImages = write("test-img", idxImages(4, 2, 2, 0));    // pixels 0 .. 15
  s.testLabels = write("test-lab", idxLabels({2, 2, 1, 0}));
  s.classes = 3;
  s.featureShape = {1, 2, 2};
  s.splits = {{"train", 0.8}, {"val", 0.1}, {"test", 0.1}};  // "test" gives way to the files: train 8/9, val 1/9
  s.normalize = "minmax";
  Splits d = loadData(s);
  EXPECT_EQ(d.train.size(), 8);
  EXPECT_EQ(d.val.size(), 2);
  EXPECT_EQ(d.test.size(), 4);
  EXPECT_EQ(d.test.rows, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_NE(d.test.table, d.train.table);
  EXPECT_EQ(d.test.table->classes, (std::vector<int64_t>{2, 2, 1, 0}));
  // One min and max over every train pixel: sample r holds 10 + 4r .. 13 + 4r.
  int64_t lo = *std::min_element(d.train.rows.begin(), d.train.rows.end());
  int64_t hi = *std::max_element(d.train.rows.begin(), d.train.rows.end());
  double min = 10 + 4 * lo, max = 13 + 4 * hi;
  EXPECT_EQ(d.train.table->features[size_t(4 * lo)], 0.0f);
  EXPECT_EQ(d.train.table->features[size_t(4 * hi + 3)], 1.0f);
  EXPECT_EQ(d.train.table->features[size_t(4 * lo + 1)], float((11 + 4 * lo - min) / (max - min)));
  EXPECT_EQ(d.test.table->features[0], float((0 - min) / (max - min)));  // the test file is scaled alike
  EXPECT_EQ(d.test.table->features[15], float((15 - min) / (max - min)));
}

TEST_F(Data, LoadDataChecksTheCompiledFeatureShape) {
  DataSpec s = splitSpec(write("a.csv", indexedRows(4)), {});
  s.featureShape = {5};
  EXPECT_EQ(errorOf([&] { loadData(s); }),
            s.path + ": error: samples have 2 feature values, but the experiment was compiled for [5] (5 values)");
  s.kind = "parquet";
  EXPECT_EQ(errorOf([&] { loadData(s); }), "unknown data kind `parquet` (csv, idx, npy, tokens or text)");
}

TEST_F(Data, TokensAreNeverNormalised) {
  DataSpec s;
  s.kind = "tokens";
  s.tokensPath = write("t.bin", tokens({5, 6, 7, 8, 9}));
  s.context = 2;
  s.classes = 10;
  s.featureShape = {2};
  s.normalize = "standard";
  s.splits = {{"train", 0.5}, {"val", 0.5}};
  Splits d = loadData(s);
  EXPECT_EQ(d.train.table->features, (std::vector<float>{5, 6, 7, 8}));
}

}  // namespace
}  // namespace mlcrt

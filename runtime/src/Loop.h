// The training loop: owns the state, scratch and io memory, feeds batches to
// the plan's step functions, and reports metrics. Nothing here depends on
// time or addresses, so a seed fixes every number a run computes.
#pragma once

#include "abi/plan.h"
#include "src/Cli.h"
#include "src/Dataset.h"
#include "src/Metrics.h"

namespace mlcrt {


/// Runs options.mode: progress goes to stderr, one line of final metrics
/// (`split.metric=value ...`) to stdout, files under options.root. Throws
/// Error on anything the data, the plan or the file system gets wrong.
/// Returns the exit status: 0, or 128 + the signal that stopped a fit.
int runExperiment(const mlc_variant &plan, const Manifest &manifest, const Options &options, const Splits &data);


/// predictions.csv of `outputs` (samples x outputWidth) on `split`:
/// `row,prediction`, the class (argmax) or the value; a sample with several
/// outputs gets prediction0, prediction1, ...
std::string predictionsCsv(const Manifest &m, const Split &split, const std::vector<float> &outputs,
                          int64_t outputWidth, int64_t labelWidth);

/// Reads predict's --input: a CSV of `featureWidth` numbers a row, split
/// on `delimiter`; a first row that is not all numbers is a header. With
/// `idLimit` > 0 the features are token ids, whole numbers in [0, idLimit).
Table readInputCsv(const std::string &path, char delimiter, int64_t featureWidth, int64_t labelWidth,
                   bool classLabels, int64_t idLimit = 0);

}  // namespace mlcrt

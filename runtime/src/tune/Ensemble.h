// The ensemble of a study's best trials: their outputs on the test split
// averaged the way the experiment's loss reads an output, then scored by
// the runtime's metrics as if one model had produced the average.
#pragma once

#include "src/Dataset.h"
#include "src/Metrics.h"

#include <string>
#include <vector>

namespace mlcrt::tune {

/// What a model's output is, from the loss the experiment trains with.
struct OutputKind {
  std::string loss = "cross_entropy";  // cross_entropy | nll | binary_cross_entropy | mse | l1 | huber
  double smoothing = 0;                // cross_entropy's label_smoothing
  double delta = 1;                    // huber's delta
};

/// The output kind of `m` (its `loss` and their parameters in the schema).
/// Throws Error for a loss it cannot average.
OutputKind outputKind(const Manifest &m);

/// Averages the members' outputs (each `samples x width` values) as
/// probabilities for classifiers (softmax over each group of `classes`
/// scores for cross_entropy and nll, a sigmoid per value for
/// binary_cross_entropy) and as values for regressors, and returns the
/// average in the members' own form (log-probabilities, logits, values).
/// Throws Error when the members disagree in size.
std::vector<float> averageOutputs(const OutputKind &kind, const std::vector<std::vector<float>> &members, int64_t classes);

/// The experiment's loss on `outputs` (samples x width) against `split`'s
/// labels, computed as the compiled loss computes it: the mean over
/// samples (and over values for the elementwise losses).
double lossOf(const OutputKind &kind, const std::vector<float> &outputs, const Split &split, int64_t width,
              int64_t classes);

/// `test.loss` and then the experiment's metrics of `outputs` on `split`.
Metrics scoreOutputs(const Manifest &m, const OutputKind &kind, const std::vector<float> &outputs, const Split &split);

/// metrics.json of an ensemble: {"members": [numbers], "test.loss": ...}.
std::string ensembleJson(const std::vector<int> &members, const Metrics &metrics);
/// Its line, `trials 5, 8, 1: test.loss=0.0185 ...`; "" for "" or a file
/// that is not such an object.
std::string ensembleLine(const std::string &json);

}  // namespace mlcrt::tune

// Metrics over a whole split, computed exactly from every output and label
// (not averaged over batches).
#pragma once

#include "src/Manifest.h"

namespace mlcrt {

using Metrics = std::vector<std::pair<std::string, double>>;  // `split.metric` and value, in print order

/// `train.loss=0.1234 val.accuracy=0.9722`: four decimals, space-separated.
std::string formatMetrics(const Metrics &metrics);

class MetricSet {
public:
  /// classes = 0 for regression; width = outputs per sample.
  MetricSet(std::vector<MetricSpec> specs, int64_t classes, int64_t width);

  /// Adds a batch: outputs (n * width f32), labels (n class ids, or n * width
  /// f32 targets), and the batch's mean loss.
  void add(const float *outputs, const int64_t *classLabels, const float *targets, int64_t n, double meanLoss);

  /// `loss` first (sample-weighted mean over the split), then each metric in
  /// order, named as printed: `accuracy`, `f1`, ...
  std::vector<std::pair<std::string, double>> compute() const;
  int64_t samples() const { return samples_; }

private:
  std::vector<MetricSpec> specs_;
  int64_t classes_, width_;
  std::vector<float> outputs_;
  std::vector<int64_t> classLabels_;
  std::vector<float> targets_;
  double lossSum_ = 0;
  int64_t samples_ = 0;
};

}  // namespace mlcrt

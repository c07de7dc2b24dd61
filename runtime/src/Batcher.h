// Feeds a split to the step program in batches: the epoch's order (shuffled
// with the counter-based RNG, so it depends only on seed and epoch), and a
// background thread that gathers the next batch while the current one runs.
#pragma once

#include "src/Dataset.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

namespace mlcrt {

/// A permutation of [0, n) determined by (seed, epoch) alone.
std::vector<int64_t> shuffledOrder(int64_t n, uint64_t seed, uint64_t epoch);

/// A permutation of [0, n) drawn from mlc_rng_u32's (seed, stream, key)
/// sequence; shuffledOrder and the data split use distinct streams.
std::vector<int64_t> permutation(int64_t n, uint64_t seed, uint64_t stream, uint64_t key);

struct Batch {
  const float *features = nullptr;  // size * featureWidth
  const void *labels = nullptr;     // size * labelWidth, int64_t or float
  int64_t size = 0;
  int64_t first = 0;                // position of its first sample in the epoch order
};

class Batcher {
public:
  /// Walks `split` in `order` (positions into split.rows; empty: split
  /// order) in batches of `batchSize` (the last one may be smaller). With
  /// `prefetch`, a background thread prepares the next batch.
  Batcher(const Split &split, std::vector<int64_t> order, int64_t batchSize, bool prefetch);
  ~Batcher();
  Batcher(const Batcher &) = delete;
  Batcher &operator=(const Batcher &) = delete;

  /// The next batch, valid until the following call; false at the end.
  bool next(Batch &out);

private:
  struct Slot;
  void fill(Slot &slot, int64_t first);
  void worker();

  const Split &split_;
  std::vector<int64_t> order_;
  int64_t batchSize_;
  bool prefetch_;
  std::unique_ptr<Slot> slots_[2];
  int64_t nextFirst_ = 0;  // first position of the batch to hand out
  int current_ = -1;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int64_t requested_ = -1;  // position the worker should fill into the spare slot
  bool ready_ = false, stop_ = false;
  std::exception_ptr error_;  // thrown by the worker, rethrown by next()
};

}  // namespace mlcrt

// Batches for the step program. The prefetch thread and the caller share two
// slots: the caller reads one while the worker fills the other, and they
// hand over under the mutex, so the gather of batch i+1 overlaps the step on
// batch i without copies.
#include "src/Batcher.h"

#include "abi/plan.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace mlcrt {

std::vector<int64_t> permutation(int64_t n, uint64_t seed, uint64_t stream, uint64_t key) {
  std::vector<int64_t> order(size_t(std::max<int64_t>(n, 0)));
  std::iota(order.begin(), order.end(), int64_t(0));
  // Fisher-Yates from the back; draw i picks among [0, i]. Multiply-shift
  // instead of modulo: the same bias bound (i / 2^32) and no division.
  for (int64_t i = n - 1; i > 0; --i) {
    uint64_t bound = uint64_t(i) + 1, r = mlc_rng_u32(seed, stream, key, uint64_t(i));
    uint64_t j = bound <= (uint64_t(1) << 32)
                     ? (r * bound) >> 32
                     : (r << 32 | mlc_rng_u32(seed, stream, key, uint64_t(i) | uint64_t(1) << 63)) % bound;
    std::swap(order[size_t(i)], order[j]);
  }
  return order;
}

std::vector<int64_t> shuffledOrder(int64_t n, uint64_t seed, uint64_t epoch) {
  // Stream epoch + 1 keeps stream 0 for parameter initialisation.
  return permutation(n, seed, epoch + 1, 0x5u);
}

struct Batcher::Slot {
  std::vector<float> features;
  std::vector<int64_t> classes;
  std::vector<float> targets;
  int64_t size = 0, first = 0;
};

Batcher::Batcher(const Split &split, std::vector<int64_t> order, int64_t batchSize, bool prefetch)
    : split_(split), order_(std::move(order)), batchSize_(batchSize), prefetch_(prefetch) {
  if (batchSize_ <= 0) throw std::invalid_argument("Batcher: batch size must be positive");
  if (order_.empty()) {
    order_.resize(size_t(split_.size()));
    std::iota(order_.begin(), order_.end(), int64_t(0));
  }
  for (int64_t p : order_)
    if (p < 0 || p >= split_.size()) throw std::invalid_argument("Batcher: order holds a position outside the split");
  if (!order_.empty() && !split_.table) throw std::invalid_argument("Batcher: split without a table");
  slots_[0] = std::make_unique<Slot>();
  slots_[1] = std::make_unique<Slot>();
  if (prefetch_ && !order_.empty()) {
    requested_ = 0;  // the first batch goes to slot 0 (see worker())
    thread_ = std::thread([this] { worker(); });
  }
}

Batcher::~Batcher() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Batcher::fill(Slot &slot, int64_t first) {
  const Table &t = *split_.table;
  int64_t size = std::min<int64_t>(batchSize_, int64_t(order_.size()) - first);
  size_t fw = size_t(t.featureWidth), lw = size_t(t.labelWidth);
  bool classes = !t.classes.empty();
  slot.features.resize(size_t(size) * fw);
  if (classes) slot.classes.resize(size_t(size) * lw);
  else slot.targets.resize(size_t(size) * lw);
  for (int64_t i = 0; i < size; ++i) {
    size_t row = size_t(split_.rows[size_t(order_[size_t(first + i)])]);
    std::memcpy(slot.features.data() + size_t(i) * fw, t.features.data() + row * fw, fw * sizeof(float));
    if (classes)
      std::memcpy(slot.classes.data() + size_t(i) * lw, t.classes.data() + row * lw, lw * sizeof(int64_t));
    else
      std::memcpy(slot.targets.data() + size_t(i) * lw, t.targets.data() + row * lw, lw * sizeof(float));
  }
  slot.size = size;
  slot.first = first;
}

// Fills the slot the caller is not holding. current_ changes only in next()
// while no request is pending, so reading it here under the lock is stable.
void Batcher::worker() {
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || requested_ >= 0; });
    if (stop_) return;
    int64_t first = requested_;
    requested_ = -1;
    Slot &slot = *slots_[current_ == 0 ? 1 : 0];
    lock.unlock();
    std::exception_ptr error;
    try {
      fill(slot, first);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    ready_ = true;
    cv_.notify_all();
  }
}

bool Batcher::next(Batch &out) {
  if (nextFirst_ >= int64_t(order_.size())) return false;
  int filled = current_ == 0 ? 1 : 0;
  if (prefetch_) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return ready_; });
    ready_ = false;
    if (error_) {
      nextFirst_ = int64_t(order_.size());  // the epoch cannot go on; the destructor still joins
      std::rethrow_exception(std::exchange(error_, nullptr));
    }
    current_ = filled;
    int64_t after = nextFirst_ + slots_[filled]->size;
    if (after < int64_t(order_.size())) {
      requested_ = after;
      lock.unlock();
      cv_.notify_all();
    }
  } else {
    fill(*slots_[filled], nextFirst_);
    current_ = filled;
  }
  const Slot &s = *slots_[current_];
  out.features = s.features.data();
  out.labels = split_.table->classes.empty() ? static_cast<const void *>(s.targets.data())
                                             : static_cast<const void *>(s.classes.data());
  out.size = s.size;
  out.first = s.first;
  nextFirst_ = s.first + s.size;
  return true;
}

}  // namespace mlcrt

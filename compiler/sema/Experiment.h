// What sema knows about a checked experiment: the resolved configuration of
// every section (defaults filled in), the instantiated model, the metrics it
// produces and its sweep space. Later stages lower from this.
#pragma once

#include "sema/DatasetCheck.h"
#include "sema/ModelCheck.h"

namespace mlc::sema {

/// Finite domains larger than this are not listed value by value.
constexpr int64_t kMaxEnumerated = 1024;

struct SweepDim {
  std::string path;     // `optimizer.lr`
  Loc loc;
  Value space;          // the checked space call: loguniform(...), choice(...)
  Type type;            // of the swept parameter
  bool structural = false;  // changes tensor shapes: each value is its own compiled variant
  int64_t count = 0;          // finite domains: how many values (0: continuous)
  std::vector<Value> values;  // finite domains of at most kMaxEnumerated values: every value
  // `... when model.depth in 2..4`: active only while the swept parameter
  // `parent` (an index into the sweep, always an earlier entry) takes one
  // of `when` (values of its domain).
  int parent = -1;
  std::vector<Value> when;
  bool finite() const { return count > 0; }
};

struct CheckedExperiment {
  const Decl *decl = nullptr;
  DatasetInfo data;
  ModelInstance model;
  CheckedFields fields;
  std::vector<std::string> metrics;  // every `<split>.<name>` this experiment produces
  std::vector<SweepDim> sweep;

  /// The schedule as the list of its parts: `a then b` is [a, b], a single
  /// schedule a list of one.
  std::vector<const Value *> scheduleChain() const {
    const Value &schedule = fields.at("schedule").value;
    std::vector<const Value *> chain;
    if (schedule.kind == Value::List)
      for (const Value &v : schedule.items) chain.push_back(&v);
    else
      chain.push_back(&schedule);
    return chain;
  }
};

}  // namespace mlc::sema

// Instantiates a model with concrete hyperparameters and infers the shape
// of every value in its body, through composite models and `repeat`.
#pragma once

#include "sema/Eval.h"

namespace mlc::sema {

/// One primitive operation of an instantiated model (composites inlined).
struct OpRecord {
  std::string op;                 // layer name, or `+`, `-`, `*`, `/`, `neg`
  Loc loc;
  std::vector<TensorType> inputs;
  std::vector<int64_t> inputNodes;  // the values it reads, by id (model inputs and earlier outputs)
  TensorType output;
  int64_t outputNode = -1;          // the value it defines
  Value call;                     // the layer's checked non-tensor arguments
  /// Inside a composite: where the outermost composite call is written in
  /// the model being instantiated, and that composite's name.
  Loc callSite;
  std::string via;
};

struct ModelInstance {
  const Decl *model = nullptr;
  Value config;  // Call value: every hyperparameter, defaults filled in
  std::vector<std::pair<std::string, TensorType>> inputs, outputs;
  std::vector<int64_t> inputNodes, outputNodes;  // value ids, by position
  std::vector<OpRecord> ops;
  /// Each name the body binds to a tensor (`input`, `let`, `output`; every
  /// pass of a `repeat`), at the name's place: the language server's hover.
  std::vector<std::pair<Loc, TensorType>> namedTensors;
  size_t layerCount() const;  // ops that are layers (not elementwise arithmetic)
};

/// How the model's inputs are fed: from another model's tensors (a call in a
/// model body) or from a dataset (the experiment's model).
struct InputBinding {
  std::vector<TensorType> tensors;  // by position; empty: inputs must be fully concrete
  std::string datasetName;          // set when the tensors come from a dataset
  Loc at;
  std::vector<int64_t> nodes;       // their value ids, when they come from another model's body
};

/// The experiment's model takes the dataset's features as its one input.
inline InputBinding fromDataset(const TensorType &features, const std::string &dataset, Loc at) {
  return {{features}, dataset, at, {}};
}

constexpr int64_t kMaxRepeat = 10000;
constexpr size_t kMaxModelOps = 100000;
/// Statements executed while expanding one model (`repeat` nests multiply).
constexpr size_t kMaxModelSteps = 1000000;
constexpr size_t kMaxModelDepth = 64;
constexpr size_t kCompileBudget = 1000000;  // about a second of checking on these machines

/// Reports every error in the body; returns nullopt if there were any.
std::optional<ModelInstance> instantiateModel(Program &program, const Decl &model, const Value &config,
                                              const InputBinding &inputs);

}  // namespace mlc::sema

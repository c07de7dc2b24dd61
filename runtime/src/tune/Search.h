// The search algorithms: which parameters trial `number` tries next, from
// the trials before it. Deterministic: the same study, seed and number
// give the same parameters.
#pragma once

#include "src/tune/Study.h"

namespace mlcrt::tune {

struct SearchSpec {
  std::string kind = "random";  // grid | random | tpe
  uint64_t seed = 0;
  // tpe: random trials before the model takes over, candidates drawn from
  // the good density per trial, and whether parameters are modelled jointly.
  int startup = 10;
  int candidates = 24;
  bool multivariate = false;
};

/// The parameters of trial `number`. Grid takes the number-th point of the
/// full grid (an error past its end); random draws from a stream keyed by
/// (seed, number); tpe conditions on the study's complete and pruned trials
/// (it ignores waiting, running and failed ones). Inactive conditional
/// dimensions are nullopt. Throws std::invalid_argument on a bad spec.
Params sample(const SearchSpec &spec, const Study &study, int number);

/// Grid search: how many points the space has (the product of the finite
/// dimensions' counts; conditional dimensions add their values only where
/// active). 0 when a dimension is continuous.
int64_t gridSize(const Space &space);

}  // namespace mlcrt::tune

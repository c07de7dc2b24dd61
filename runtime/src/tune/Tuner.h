// The study runner behind `./exp tune` (and `./exp` with a sweep): claims
// trials from the study's storage, samples their parameters, runs each in
// a forked process of its own with its own threads, answers their reports
// with pruning decisions, retries crashed ones, and afterwards refits the
// best configuration, tests it and writes the report. It never trains in
// its own process, so forking never copies a running thread pool.
#pragma once

#include "abi/plan.h"
#include "src/Cli.h"
#include "src/Dataset.h"
#include "src/tune/Study.h"

namespace mlcrt::tune {

/// Returns the exit status: 0, 1 when no trial completed or a stage
/// failed, 128 + a signal that stopped the study (it resumes with --resume).
int runTune(const mlc_plan &plan, const Manifest &base, const Options &options, const Splits &data);

/// `./exp study`: the trials as a table, then
/// `trials: <n> finished, <n> pruned, <n> failed, <n> running`.
int printStudy(const Manifest &base, const Options &options);

/// `./exp report`: writes the HTML report and prints its path.
int writeStudyReport(const Manifest &base, const Options &options);

/// `<n> finished, <n> pruned, <n> failed, <n> running`.
std::string countsLine(const Study &study);

/// What `--plan` adds for a study: trials, parallelism, storage, variants.
std::string studyPlanText(const Manifest &base, const Options &options);

}  // namespace mlcrt::tune

#include "sema/StrategyCheck.h"

namespace mlc::sema {

namespace {

bool checkDivisible(Program &p, const Value &batch, int64_t devices, const Value &strategy) {
  if (batch.i % devices == 0) return true;
  int64_t below = batch.i - batch.i % devices, above = below + devices;
  Diagnostic &d = p.diags.report(Diag::BatchNotDivisible, batch.loc, batch.i, devices);
  d.note(strategy.loc, fmt::format("`{}` gives each device an equal share of the batch", strategy.callee->name));
  d.note(fmt::format("nearest batch sizes that divide: {}", below > 0 ? fmt::format("{} or {}", below, above)
                                                                      : std::to_string(above)));
  return false;
}

}  // namespace

bool checkStrategyRules(Program &p, const Value &strategy, const Value &batch, const ModelInstance &model) {
  // The library's strategies only (ExperimentCheck rejects others); their
  // int parameters are positive by declaration.
  const std::string &kind = strategy.callee->name;
  if (kind == "ddp" || kind == "zero") return checkDivisible(p, batch, strategy.arg("devices")->i, strategy);
  if (kind != "pipeline") return true;
  int64_t stages = strategy.arg("stages")->i, micro = strategy.arg("microbatches")->i;
  bool ok = true;
  if (batch.i % micro != 0) {
    p.diags.report(Diag::MicrobatchNotDivisible, batch.loc, batch.i, micro)
        .note(strategy.loc, "`pipeline` splits each batch into `microbatches` pieces");
    ok = false;
  }
  size_t layers = model.layerCount();
  if (size_t(stages) > layers) {
    p.diags.report(Diag::PipelineTooDeep, strategy.loc, stages, model.model->name, layers);
    ok = false;
  }
  return ok;
}

}  // namespace mlc::sema

#include "sema/ExperimentSchema.h"

namespace mlc::sema {

namespace {

Interval positive() { return {0.0, std::nullopt, false, true, std::nullopt}; }
Interval nonNegative() { return {0.0, std::nullopt, true, true, std::nullopt}; }

}  // namespace

std::vector<FieldSpec> experimentSchema(Evaluator &eval) {
  Type metric = Type::of(Type::MetricName);
  Type mode = Type::enumOf({"min", "max"});
  std::vector<FieldSpec> trainer = {
      {"epochs", Type::of(Type::Int), true, positive(), nullptr, {}, "passes over the training split"},
      {"batch", Type::of(Type::Int), true, positive(), nullptr, {}, "samples per optimizer step (the global batch, split over the strategy's devices)"},
      {"precision", Type::enumOf({"f32", "bf16", "f16"}), false, {}, constant(Value::ofEnum("f32")), {}, "the floating-point type of training: f32, bf16 or f16"},
      {"seed", Type::of(Type::Int), false, {}, constant(Value::ofInt(0)), {}, "seeds weight initialisation, shuffling and dropout"},
      {"grad_clip", Type::of(Type::Float), false, nonNegative(), constant(Value::ofFloat(0)), {}, "clips the global gradient norm to this value (0: no clipping)"},
      {"accumulate", Type::of(Type::Int), false, positive(), constant(Value::ofInt(1)), {}, "micro-batches whose gradients add up before one optimizer step"},
      {"val_every", Type::of(Type::Int), false, positive(), constant(Value::ofInt(1)), {}, "validate every this many epochs"},
      {"memory_gb", Type::of(Type::Float), false, nonNegative(), constant(Value::ofFloat(0)), {}, "memory per rank a run may use, in GiB (0: the compiling machine's)"},
  };
  std::vector<FieldSpec> earlyStop = {
      {"monitor", metric, true, {}, nullptr, {}, "the metric watched, as `<split>.<name>` (e.g. `val.loss`)"},
      {"mode", mode, false, {}, nullptr, {}, "whether smaller (min) or larger (max) is better; defaults to the metric's @goal"},
      {"patience", Type::of(Type::Int), false, positive(), constant(Value::ofInt(5)), {}, "validations without improvement before training stops"},
      {"min_delta", Type::of(Type::Float), false, nonNegative(), constant(Value::ofFloat(0)), {}, "the least change that counts as an improvement"},
      {"stop_below", Type::of(Type::Float), false, {}, nullptr, {}, "stop once the monitored value falls below this"},
      {"stop_above", Type::of(Type::Float), false, {}, nullptr, {}, "stop once the monitored value rises above this"},
      {"divergence", Type::of(Type::Float), false, {}, nullptr, {}, "stop (as failed) once the monitored value passes this the wrong way"},
      {"check_finite", Type::of(Type::Bool), false, {}, constant(Value::ofBool(true)), {}, "stop (as failed) when the monitored value is NaN or infinite"},
  };
  std::vector<FieldSpec> checkpoint = {
      {"monitor", metric, false, {}, nullptr, {}, "the metric watched, as `<split>.<name>` (e.g. `val.loss`)"},
      {"mode", mode, false, {}, nullptr, {}, "whether smaller (min) or larger (max) is better; defaults to the metric's @goal"},
      {"top_k", Type::of(Type::Int), false, nonNegative(), constant(Value::ofInt(1)), {}, "how many best checkpoints to keep (0: none by metric)"},
      {"every", Type::decl("interval"), false, {}, callDefault(eval, "epoch"), {}, "how often to save: `epoch()` or `steps(n)`"},
      {"save_last", Type::of(Type::Bool), false, {}, constant(Value::ofBool(true)), {}, "also keep the latest checkpoint, for resuming"},
      {"resume", Type::enumOf({"auto", "never", "must"}), false, {}, constant(Value::ofEnum("auto")), {}, "auto: continue from the last checkpoint if there is one; never; must"},
      {"dir", Type::of(Type::Template), false, {}, constant(Value::ofString("{model}/{data}/{model.int_params}-bs{batch}")), {}, "where checkpoints go, a template over `{model}`, `{data}`, `{batch}`, ..."},
  };
  std::vector<FieldSpec> track = {
      {"project", Type::of(Type::Template), false, {}, constant(Value::ofString("{model}-{data}")), {}, "the tracking project, a template (what groups runs)"},
      {"run", Type::of(Type::Template), false, {}, constant(Value::ofString("{model.int_params}-bs{batch}-lr{lr}")), {}, "the run's name, a template (what tells runs apart)"},
      {"sinks", Type::listOf(Type::decl("sink")), false, {}, [&eval]() -> std::optional<Value> {
         auto c = callDefault(eval, "console")();
         if (!c) return std::nullopt;
         Value list;
         list.kind = Value::List;
         list.items.push_back(*c);
         return list;
       }, {}, "where metrics go: console, jsonl, tensorboard, mlflow"},
      {"notify", Type::of(Type::Notification), false, {}, nullptr, {}, "`webhook(url) on [events]`: who is told of a run's start, finish or failure"},
      {"dir", Type::of(Type::String), false, {}, constant(Value::ofString("runs")), {}, "the directory tracking sinks write under"},
  };
  std::vector<FieldSpec> sweep = {
      {"search", Type::decl("search"), false, {}, callDefault(eval, "random"), {}, "the search algorithm: grid(), random(seed), tpe(seed, ...)"},
      {"trials", Type::of(Type::Int), false, positive(), constant(Value::ofInt(20)), {}, "how many trials the study runs"},
      {"parallel", Type::of(Type::Int), false, positive(), constant(Value::ofInt(1)), {}, "trials run at once, each in its own process"},
      {"prune", Type::decl("pruner"), false, {}, callDefault(eval, "none"), {}, "the pruning scheduler: none(), asha(...), hyperband(...), median(...)"},
      {"objective", Type::of(Type::Objective), true, {}, nullptr, {}, "`minimize` or `maximize` a metric of the best epoch, e.g. `minimize val.loss`"},
      {"retries", Type::of(Type::Int), false, nonNegative(), constant(Value::ofInt(1)), {}, "times a crashed trial is run again before it counts as failed"},
      {"storage", Type::decl("storage"), false, {}, callDefault(eval, "sqlite"), {}, "where the study lives: sqlite() next to the outputs, or postgres(url)"},
      {"study", Type::of(Type::Template), false, {}, constant(Value::ofString("{experiment}")), {}, "the study's name, a template"},
      {"refit", Type::of(Type::Bool), false, {}, constant(Value::ofBool(true)), {}, "after the search, train the best configuration on train+val and test it"},
      {"ensemble", Type::of(Type::Int), false, nonNegative(), constant(Value::ofInt(0)), {}, "also test the average of the best k trials (0: no ensemble)"},
  };
  FieldSpec loss{"loss", Type::decl("loss"), true, {}, nullptr, {}, "the training loss, a call over the model's outputs and the data's label"};
  loss.deferred = true;
  FieldSpec trackSpec{"track", Type::of(Type::Any), false, {}, nullptr, track, "where a run's metrics and name go"};
  trackSpec.defaultBlock = true;
  // Every run checkpoints (and so can resume) unless told otherwise: an
  // absent block is the default one, resolved here like any other.
  FieldSpec checkpointSpec{"checkpoint", Type::of(Type::Any), false, {}, nullptr, checkpoint, "which checkpoints are kept and how runs resume"};
  checkpointSpec.defaultBlock = true;
  return {
      {"data", Type::decl("dataset"), true, {}, nullptr, {}, "the dataset the experiment trains on"},
      {"model", Type::decl("model"), true, {}, nullptr, {}, "the model to train, with its hyperparameters"},
      loss,
      {"metrics", Type::listOf(Type::decl("metric")), false, {}, constant([] { Value v; v.kind = Value::List; return v; }()), {}, "metrics reported for every split besides the loss"},
      {"optimizer", Type::decl("optimizer"), true, {}, nullptr, {}, "the optimizer and its hyperparameters"},
      {"schedule", Type::decl("schedule"), false, {}, callDefault(eval, "constant"), {}, "the learning-rate schedule; `a then b` runs one after the other"},
      {"strategy", Type::decl("strategy"), false, {}, callDefault(eval, "single"), {}, "how training is distributed: single(), ddp(...), zero(...), pipeline(...)"},
      {"trainer", Type::of(Type::Any), true, {}, nullptr, trainer, "epochs, batch size, precision and seed of training"},
      {"early_stop", Type::of(Type::Any), false, {}, nullptr, earlyStop, "stops training when a monitored metric stops improving"},
      checkpointSpec,
      trackSpec,
      {"sweep", Type::of(Type::Any), false, {}, nullptr, sweep, "the hyperparameter search: spaces (`path ~ space`), search, pruning, trials"},
  };
}

}  // namespace mlc::sema

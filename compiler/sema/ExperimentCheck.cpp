#include "sema/ExperimentCheck.h"

#include "sema/ExperimentSchema.h"

#include <functional>

#include "sema/StrategyCheck.h"
#include "sema/SweepCheck.h"
#include "sema/Templates.h"

namespace mlc::sema {

namespace {

class ExperimentChecker {
public:
  ExperimentChecker(Program &p, const Decl &d) : p_(p), d_(d), eval_(p, d.file) {}

  std::optional<CheckedExperiment> run() {
    CheckedExperiment exp;
    exp.decl = &d_;
    Scope scope;
    bool ok = true;
    exp.fields = checkFields(eval_, d_.experiment->fields, experimentSchema(eval_), "experiment `" + d_.name + "`", d_.loc, scope, ok);
    // Even when some section is wrong, the data, model and loss are still
    // cross-checked so that one run reports as much as it can.
    bool fieldsOk = ok;
    if (!exp.fields.count("data")) return std::nullopt;

    // The data feeds the model, whose outputs feed the loss.
    auto data = checkDataset(p_, *exp.fields.at("data").value.callee);
    if (!data || !exp.fields.count("model")) return std::nullopt;
    exp.data = std::move(*data);
    const CheckedField &modelField = exp.fields.at("model");
    auto model = instantiateModel(p_, *modelField.value.callee, modelField.value,
                                  fromDataset(exp.data.features, exp.data.decl->name, modelField.value.loc));
    if (!model) return std::nullopt;
    exp.model = std::move(*model);
    ok &= checkLoss(exp);
    if (!fieldsOk) return std::nullopt;  // what follows needs every section
    for (const char *section : {"loss", "metrics", "optimizer", "schedule", "strategy", "trainer", "track"})
      if (!exp.fields.count(section)) return std::nullopt;  // only with a broken --stdlib; reported there
    if (!builtinsOnly(exp)) return std::nullopt;
    ok &= checkMetrics(exp);
    if (!ok) return std::nullopt;

    ok &= checkScheduleChain(exp);
    ok &= checkMonitors(exp);
    ok &= checkStrategy(exp);
    ok &= checkTemplates(exp);
    if (exp.fields.count("sweep")) ok &= checkSweep(p_, eval_, exp);
    if (!ok) return std::nullopt;
    return exp;
  }

private:
  // In `a then b`, `a` must end somewhere: only warmup has a length.
  bool checkScheduleChain(const CheckedExperiment &exp) {
    std::vector<const Value *> chain = exp.scheduleChain();
    for (size_t i = 0; i + 1 < chain.size(); ++i) {
      const Value &s = *chain[i];
      if (!s.callee || s.callee->name == "warmup") continue;
      p_.diags.report(Diag::ScheduleNotChainable, s.loc, s.callee->name).note("only `warmup(steps = n)` has a length");
      return false;
    }
    return true;
  }

  // Sections must name what the runtime implements: the standard library's
  // declarations. An `extern` written elsewhere type-checks, but nothing
  // could run it, and the rules below rely on the library's signatures.
  bool builtinsOnly(const CheckedExperiment &exp) {
    bool ok = true;
    std::function<void(const Value &)> visit = [&](const Value &v) {
      if (v.kind == Value::Call && v.callee && v.callee->kind == Decl::Extern && !v.callee->stdlib) {
        p_.diags.report(Diag::NotBuiltin, v.loc, v.callee->name, v.callee->kindName()).note(v.callee->loc, "declared here");
        ok = false;
      }
      for (const Value &item : v.items) visit(item);
      for (const NamedValue &f : v.fields) visit(f.second);
    };
    for (auto &[name, field] : exp.fields)
      if (name != "model" && name != "data") visit(field.value);
    return ok;
  }

  bool checkLoss(CheckedExperiment &exp) {
    auto it = exp.fields.find("loss");
    if (it == exp.fields.end() || !it->second.expr) return false;
    Scope tensors;
    auto bindTensor = [&](const std::string &name, const TensorType &t) {
      Value v;
      v.kind = Value::Tensor;
      v.tensor = std::make_shared<TensorType>(t);
      v.s = name;  // code generation finds the loss's operands by name
      tensors.values[name] = v;
    };
    bindTensor("features", exp.data.features);
    bindTensor("label", exp.data.label);
    for (auto &[n, t] : exp.model.outputs) bindTensor(n, t);
    Type lossType = Type::decl("loss");
    const ast::Expr &expr = *it->second.expr;
    auto loss = eval_.eval(expr, &lossType, tensors);
    if (!loss || !eval_.conform(*loss, lossType, "field `loss`", expr.loc)) return false;
    loss->loc = expr.loc;
    it->second.value = *loss;
    // A classifier's logits must have one entry per class of the data.
    if (loss->callee->task == "classification" && exp.data.classes && expr.kind == ast::ExprKind::Call &&
        !loss->fields.empty() && !expr.args.empty()) {
      // The logits are the first parameter, wherever the call wrote them.
      const NamedValue &logits = loss->fields.front();
      const ast::Expr *written = expr.args.front().name ? nullptr : expr.args.front().value.get();
      for (const ast::Arg &a : expr.args)
        if (a.name && a.name->text == logits.first) written = a.value.get();
      if (!written) return true;
      const Value &first = logits.second;
      const ast::Expr &arg = *written;
      if (first.kind == Value::Tensor && !first.tensor->dims.empty()) {
        const Dim &last = first.tensor->dims.back();
        if (last.kind == Dim::Const && last.size != *exp.data.classes) {
          std::string what = arg.kind == ast::ExprKind::Name ? "model output `" + arg.text + "`" : "the logits";
          p_.diags.report(Diag::ClassCountMismatch, arg.loc, what, last.size, exp.data.decl->name, *exp.data.classes)
              .note(exp.data.decl->loc, "dataset declared here");
          return false;
        }
      }
    }
    return true;
  }

  bool checkMetrics(CheckedExperiment &exp) {
    bool ok = true;
    std::vector<std::string> names = {"loss"};
    std::map<std::string, Loc> seen;
    for (const Value &m : exp.fields.at("metrics").value.items) {
      // Metrics are reported by name, so two f1s (macro, micro) would collide.
      if (auto [it, fresh] = seen.emplace(m.callee->name, m.loc); !fresh) {
        p_.diags.report(Diag::DuplicateMetric, m.loc, m.callee->name).note(it->second, "first listed here");
        ok = false;
        continue;
      }
      const std::string &task = m.callee->task;
      if (!task.empty() && task != exp.data.task) {
        p_.diags.report(Diag::MetricTaskMismatch, m.loc, m.callee->name, task, exp.data.decl->name, exp.data.task);
        ok = false;
      }
      names.push_back(m.callee->name);
    }
    for (auto &[split, fraction] : exp.data.splits)
      for (const std::string &n : names) exp.metrics.push_back(split + "." + n);
    return ok;
  }

  // `max` for metrics that are better higher (accuracy), `min` otherwise.
  std::string goalOf(const CheckedExperiment &exp, const std::string &metric) {
    std::string name = metric.substr(metric.find('.') + 1);
    for (const Value &m : exp.fields.at("metrics").value.items)
      if (m.callee->name == name) return m.callee->goal.empty() ? "min" : m.callee->goal;
    return "min";
  }

  bool checkMetricName(const CheckedExperiment &exp, const Value &ref) {
    if (std::find(exp.metrics.begin(), exp.metrics.end(), ref.s) != exp.metrics.end()) return true;
    // Suggestions prefer validation metrics: what one monitors in practice.
    std::vector<std::string> candidates;
    for (const char *split : {"val.", "test.", "train."})
      for (const std::string &m : exp.metrics)
        if (m.rfind(split, 0) == 0) candidates.push_back(m);
    std::string split = ref.s.substr(0, ref.s.find('.'));
    std::string name = ref.s.substr(ref.s.find('.') + 1);
    // `validation.loss`: a long way from `val.loss` by edit distance, but
    // plainly meant. Suggest by split prefix before falling back.
    if (split != "train" && split != "val" && split != "test")
      for (const char *known : {"val", "test", "train"})
        if (split.rfind(known, 0) == 0 &&
            std::count(exp.metrics.begin(), exp.metrics.end(), std::string(known) + "." + name)) {
          candidates = {std::string(known) + "." + name};
          Diagnostic &d = p_.diags.report(Diag::UnknownMetric, ref.loc, ref.s);
          d.note(fmt::format("did you mean `{}`?", candidates[0])).fix(ref.loc, candidates[0]);
          return false;
        }
    Diagnostic &d = p_.diags.reportUnknown(Diag::UnknownMetric, ref.loc, ref.s, candidates, ref.s);
    if (!exp.data.hasSplit(split) && (split == "train" || split == "val" || split == "test"))
      d.note(exp.data.decl->loc, fmt::format("dataset `{}` has no `{}` split", exp.data.decl->name, split));
    std::string all;
    for (const std::string &m : exp.metrics) all += (all.empty() ? "`" : ", `") + m + "`";
    d.note("this experiment produces " + all);
    const Decl *metric = p_.lookup(d_.file, name);
    bool listed = false;
    for (const Value &m : exp.fields.at("metrics").value.items) listed |= m.callee->name == name;
    if (metric && metric->kindName() == "metric" && !listed)
      d.note(exp.fields.at("metrics").loc.valid() ? exp.fields.at("metrics").loc : d_.loc,
             fmt::format("`{}` is computed only when listed: add it to `metrics`", name));
    return false;
  }

  bool checkMonitors(CheckedExperiment &exp) {
    bool ok = true;
    for (const char *section : {"early_stop", "checkpoint"}) {
      auto it = exp.fields.find(section);
      if (it == exp.fields.end()) continue;
      // monitor and mode come first in both blocks; defaults are inserted
      // there so the resolved block keeps the schema's order.
      std::vector<NamedValue> &fields = it->second.value.fields;
      auto find = [&](const char *name) {
        return std::find_if(fields.begin(), fields.end(), [&](const NamedValue &f) { return f.first == name; });
      };
      if (find("monitor") == fields.end()) {  // checkpoint defaults to the validation loss when there is one
        Value ref;
        ref.kind = Value::MetricRef;
        ref.s = exp.data.hasSplit("val") ? "val.loss" : "train.loss";
        fields.insert(fields.begin(), NamedValue("monitor", ref));
      } else if (!checkMetricName(exp, find("monitor")->second)) {
        ok = false;
        continue;
      }
      const Value monitorValue = find("monitor")->second;
      const Value *monitor = &monitorValue;
      std::string goal = goalOf(exp, monitor->s);
      if (find("mode") == fields.end()) {
        fields.insert(fields.begin() + 1, NamedValue("mode", Value::ofEnum(goal)));
        continue;
      }
      const Value *mode = &find("mode")->second;
      if (mode->s != goal) {
        p_.diags.report(Diag::ModeMismatch, mode->loc, monitor->s, goal == "max" ? "better when higher" : "better when lower",
                        "mode", mode->s)
            .fix(mode->loc, goal);
      }
    }
    if (auto it = exp.fields.find("sweep"); it != exp.fields.end()) {
      for (auto &[n, v] : it->second.value.fields) {
        if (n != "objective") continue;
        const Value &metric = v.fields[1].second;
        const Value &goal = v.fields[0].second;
        if (!checkMetricName(exp, metric)) {
          ok = false;
          continue;
        }
        std::string want = goalOf(exp, metric.s) == "max" ? "maximize" : "minimize";
        if (goal.s != want)
          p_.diags.report(Diag::ModeMismatch, goal.loc, metric.s,
                          want == "maximize" ? "better when higher" : "better when lower", "objective", goal.s)
              .fix(goal.loc, want);
      }
    }
    return ok;
  }

  bool checkStrategy(CheckedExperiment &exp) {
    const Value *batch = exp.fields.at("trainer").value.arg("batch");
    if (!batch) return true;
    return checkStrategyRules(p_, exp.fields.at("strategy").value, *batch, exp.model);
  }

  bool checkTemplates(CheckedExperiment &exp) {
    auto allowed = templateFields(exp);
    bool ok = true;
    const Value &track = exp.fields.at("track").value;
    for (const char *name : {"project", "run"})
      if (const Value *t = track.arg(name)) ok &= checkTemplate(p_, *t, allowed);
    auto checkpoint = exp.fields.find("checkpoint");
    if (checkpoint != exp.fields.end())
      if (const Value *t = checkpoint->second.value.arg("dir")) ok &= checkTemplate(p_, *t, allowed);
    if (auto sweep = exp.fields.find("sweep"); sweep != exp.fields.end())
      if (const Value *t = sweep->second.value.arg("study")) ok &= checkTemplate(p_, *t, allowed);
    return ok;
  }

  Program &p_;
  const Decl &d_;
  Evaluator eval_;
};

}  // namespace

std::optional<CheckedExperiment> checkExperiment(Program &program, const Decl &experiment) {
  return ExperimentChecker(program, experiment).run();
}

}  // namespace mlc::sema

#include "sema/SweepCheck.h"

#include "sema/ModelCheck.h"
#include "sema/StrategyCheck.h"

#include <cmath>
#include <set>

namespace mlc::sema {

namespace {

struct Target {
  Type type;
  std::optional<Interval> range;
  bool structural = false;
};

class SweepChecker {
public:
  SweepChecker(Program &p, Evaluator &eval, CheckedExperiment &exp) : p_(p), eval_(eval), exp_(exp) {}

  bool run() {
    const ast::Field *block = nullptr;
    for (const ast::Field &f : exp_.decl->experiment->fields)
      if (f.kind == ast::Field::Block && f.pathText() == "sweep") block = &f;
    if (!block) return true;
    bool ok = true;
    for (const ast::Field &f : block->block) {
      if (f.kind != ast::Field::Sweep) continue;
      ok &= entry(f);
    }
    if (exp_.sweep.empty() && ok) {
      p_.diags.report(Diag::EmptySweep, block->loc).note("add entries such as `optimizer.lr ~ loguniform(1e-4, 1e-1)`");
      return false;
    }
    if (!ok) return false;
    ok &= searchSettings(*block);
    ok &= variants();
    return ok;
  }

private:
  // Every parameter a sweep may name, for lookups and "did you mean".
  std::vector<std::pair<std::string, Target>> targets() {
    std::vector<std::pair<std::string, Target>> out;
    auto addCall = [&](const std::string &section, const Value &call, bool structural) {
      if (call.kind != Value::Call || !call.callee) return;
      for (const Param &p : call.callee->params) {
        if (p.type.kind == Type::Tensor) continue;
        bool shapes = structural && (p.type.kind == Type::Int || p.type.kind == Type::Bool || p.type.kind == Type::Enum);
        out.push_back({section + "." + p.name, {p.type, p.range, shapes}});
      }
    };
    addCall("model", exp_.model.config, true);
    for (const char *section : {"optimizer", "loss", "schedule", "strategy"})
      if (auto it = exp_.fields.find(section); it != exp_.fields.end()) addCall(section, it->second.value, false);
    Interval positive{0.0, std::nullopt, false, true, std::nullopt};
    out.push_back({"trainer.epochs", {Type::of(Type::Int), positive, false}});
    out.push_back({"trainer.batch", {Type::of(Type::Int), positive, false}});
    out.push_back({"trainer.seed", {Type::of(Type::Int), std::nullopt, false}});
    out.push_back({"trainer.grad_clip", {Type::of(Type::Float), Interval{0.0, std::nullopt, true, true, std::nullopt}, false}});
    out.push_back({"trainer.accumulate", {Type::of(Type::Int), positive, false}});
    out.push_back({"trainer.val_every", {Type::of(Type::Int), positive, false}});
    out.push_back({"trainer.precision", {Type::enumOf({"f32", "bf16", "f16"}), std::nullopt, false}});
    return out;
  }

  bool entry(const ast::Field &f) {
    std::string path = f.pathText();
    Loc pathLoc = Loc::span(f.path.front().loc, f.path.back().loc);
    for (const SweepDim &prev : exp_.sweep)
      if (prev.path == path) {
        p_.diags.report(Diag::DuplicateSweepTarget, pathLoc, path).note(prev.loc, "first swept here");
        return false;
      }
    auto all = targets();
    auto it = std::find_if(all.begin(), all.end(), [&](auto &t) { return t.first == path; });
    if (it == all.end()) {
      std::vector<std::string> names;
      for (auto &[n, t] : all) names.push_back(n);
      p_.diags.reportUnknown(Diag::SweepUnknownTarget, pathLoc, path, names, path);
      return false;
    }
    const Target &target = it->second;
    Scope empty;
    Type spaceType = Type::decl("space");
    std::optional<Value> space;
    const Decl *choice = p_.lookup(exp_.decl->file, "choice");
    if (choice && f.value->kind == ast::ExprKind::Call && f.value->lhs->kind == ast::ExprKind::Name &&
        f.value->lhs->text == "choice") {
      // choice(...) values are read as the swept parameter's type, so enum
      // parameters can be swept by name: `choice(cpu, cuda)`.
      Value values;
      values.kind = Value::List;
      values.loc = f.value->loc;
      for (const ast::Arg &arg : f.value->args) {
        if (arg.name) {
          p_.diags.report(Diag::UnknownArgument, arg.name->loc, "choice", arg.name->text)
              .note("`choice` takes its values as positional arguments");
          return false;
        }
        auto v = eval_.eval(*arg.value, &target.type, empty);
        if (!v) return false;
        v->loc = arg.value->loc;
        values.items.push_back(std::move(*v));
      }
      space.emplace();
      space->kind = Value::Call;
      space->callee = choice;
      space->fields.emplace_back("values", std::move(values));
      space->defaulted.push_back(false);
    } else {
      space = eval_.eval(*f.value, &spaceType, empty);
      if (!space || !eval_.conform(*space, spaceType, "`~`", f.value->loc)) return false;
      const std::string &name = space->callee->name;
      if (!space->callee->stdlib || (name != "uniform" && name != "loguniform" && name != "randint")) {
        p_.diags.report(Diag::NotBuiltin, f.value->loc, name, "search space").note(space->callee->loc, "declared here");
        return false;
      }
    }
    space->loc = f.value->loc;
    SweepDim dim;
    dim.path = path;
    dim.loc = pathLoc;
    dim.type = target.type;
    dim.structural = target.structural;
    if (!domain(*space, target, dim)) return false;
    dim.space = std::move(*space);
    if (f.whenValues && !condition(f, dim)) return false;
    exp_.sweep.push_back(std::move(dim));
    return true;
  }

  // `when parent in values`: the parent is swept above with a finite
  // domain, and every listed value is one of its values.
  bool condition(const ast::Field &f, SweepDim &dim) {
    std::string parent;
    for (const ast::Name &n : f.whenPath) parent += (parent.empty() ? "" : ".") + n.text;
    Loc parentLoc = Loc::span(f.whenPath.front().loc, f.whenPath.back().loc);
    int index = -1;
    for (size_t i = 0; i < exp_.sweep.size(); ++i)
      if (exp_.sweep[i].path == parent) index = int(i);
    if (index < 0) {
      std::vector<std::string> names;
      for (const SweepDim &d : exp_.sweep) names.push_back(d.path);
      p_.diags.reportUnknown(Diag::ConditionUnknownParent, parentLoc, parent, names, parent, dim.path);
      return false;
    }
    const SweepDim &p = exp_.sweep[size_t(index)];
    if (!p.finite() || p.values.empty()) {
      p_.diags.report(Diag::ConditionParentInfinite, parentLoc, parent).note(p.loc, "swept here");
      return false;
    }
    Scope empty;
    auto values = eval_.eval(*f.whenValues, nullptr, empty);
    if (!values) return false;
    std::vector<Value> listed;
    if (values->kind == Value::List) {
      listed = values->items;
    } else if (values->kind == Value::Range && values->items.size() == 2) {
      // Half-open, as everywhere in mlp: `2..4` is 2 and 3.
      for (int64_t v = values->items[0].i; v < values->items[1].i && listed.size() <= size_t(kMaxEnumerated); ++v) {
        Value x;
        x.kind = Value::Int;
        x.i = v;
        x.loc = values->loc;
        listed.push_back(x);
      }
    } else {
      listed.push_back(*values);
    }
    for (Value &v : listed) {
      if (!v.loc.valid()) v.loc = f.whenValues->loc;
      Value copy = v;
      bool inDomain = eval_.conform(copy, p.type, "`" + parent + "`", v.loc);
      if (!inDomain) return false;
      std::string text = toString(copy);
      if (std::none_of(p.values.begin(), p.values.end(), [&](const Value &x) { return toString(x) == text; })) {
        // A range may reach past the domain; only values written out must be in it.
        if (values->kind == Value::Range) continue;
        p_.diags.report(Diag::ConditionValueOutside, v.loc, parent, text).note(p.space.loc, "its domain");
        return false;
      }
      dim.when.push_back(copy);
    }
    if (dim.when.empty()) {
      p_.diags.report(Diag::ConditionValueOutside, f.whenValues->loc, parent, toString(*values)).note(p.space.loc, "its domain");
      return false;
    }
    dim.parent = index;
    return true;
  }

  bool domain(const Value &space, const Target &target, SweepDim &dim) {
    const std::string &kind = space.callee->name;
    const std::string what = "`" + dim.path + "`";
    auto rangeCheck = [&](const Value &v, bool openEndOk) {
      if (!target.range || !v.isNumber() || target.range->contains(v.number())) return true;
      // `uniform(0, 1)` never draws 1, so it fits `in [0, 1)`.
      if (openEndOk && target.range->hi && v.number() == *target.range->hi) return true;
      p_.diags.report(Diag::SweepOutOfRange, v.loc, dim.path, toString(v), target.range->toString());
      return false;
    };
    if (kind == "choice") {
      const Value &values = *space.arg("values");
      if (values.items.empty()) {
        p_.diags.report(Diag::EmptyChoice, space.loc);
        return false;
      }
      bool ok = true;
      std::set<std::string> listed, warned;
      for (const Value &v : values.items) {
        Value copy = v;
        if (!eval_.conform(copy, target.type, what, v.loc) || !rangeCheck(copy, false)) {
          ok = false;
          continue;
        }
        std::string text = toString(copy);
        if (!listed.insert(text).second && warned.insert(text).second)
          p_.diags.report(Diag::DuplicateChoice, v.loc, text);  // once per repeated value
        dim.values.push_back(copy);
      }
      dim.count = int64_t(dim.values.size());
      return ok;
    }
    const Value &low = *space.arg("low"), &high = *space.arg("high");
    if (kind == "randint") {
      if (target.type.kind != Type::Int && target.type.kind != Type::Float) {
        p_.diags.report(Diag::SweepTypeMismatch, space.loc, dim.path, "`" + toString(target.type) + "`", kind, "int");
        return false;
      }
      if (low.i > high.i) {
        p_.diags.report(Diag::BadDomain, space.loc, kind, "low <= high", toString(low), toString(high));
        return false;
      }
      if (!rangeCheck(low, false) || !rangeCheck(high, false)) return false;
      int64_t step = space.arg("step") ? space.arg("step")->i : 1;
      if (space.arg("log") && space.arg("log")->b && low.i <= 0) {
        p_.diags.report(Diag::BadDomain, space.loc, kind, "0 < low with `log = true`", toString(low), toString(high));
        return false;
      }
      if (__builtin_sub_overflow(high.i, low.i, &dim.count)) dim.count = INT64_MAX - 1;
      else dim.count /= step;
      dim.count += 1;
      if (dim.count <= kMaxEnumerated)
        for (int64_t v = low.i; v <= high.i && v - low.i <= (dim.count - 1) * step; v += step) {
          Value x;
          x.kind = Value::Int;
          x.i = v;
          x.loc = space.loc;
          dim.values.push_back(x);
        }
      return true;
    }
    // uniform, loguniform: continuous.
    if (target.structural) {
      p_.diags.report(Diag::SweepStructuralInfinite, space.loc, dim.path)
          .note("use `choice(...)` or `randint(low, high)`; each value is compiled as its own variant");
      return false;
    }
    if (target.type.kind != Type::Float) {
      p_.diags.report(Diag::SweepTypeMismatch, space.loc, dim.path, "`" + toString(target.type) + "`", kind, "float");
      return false;
    }
    bool logScale = kind == "loguniform";
    if (!(low.number() < high.number()) || (logScale && low.number() <= 0)) {
      p_.diags.report(Diag::BadDomain, space.loc, kind, logScale ? "0 < low < high" : "low < high", toString(low),
                      toString(high));
      return false;
    }
    return rangeCheck(low, false) && rangeCheck(high, true);
  }

  bool searchSettings(const ast::Field &block) {
    const Value &sweep = exp_.fields.at("sweep").value;
    const Value *search = sweep.arg("search");
    int64_t trials = sweep.arg("trials")->i, parallel = sweep.arg("parallel")->i;
    if (search && search->callee->name == "grid") {
      int64_t points = 1;
      for (const SweepDim &d : exp_.sweep) {
        if (!d.finite()) {
          p_.diags.report(Diag::GridNeedsFinite, d.space.loc, d.path).note(search->loc, "grid search chosen here");
          return false;
        }
        if (__builtin_mul_overflow(points, d.count, &points)) points = INT64_MAX;
      }
      // A conditional parameter adds its values only where it is active:
      // the grid's points are counted as the runtime walks them.
      bool listed = std::all_of(exp_.sweep.begin(), exp_.sweep.end(), [](const SweepDim &d) { return !d.values.empty(); });
      if (listed && points <= (int64_t(1) << 16)) {
        std::vector<const Value *> chosen(exp_.sweep.size(), nullptr);
        points = gridPoints(0, chosen);
      }
      bool trialsSet = false;
      for (const ast::Field &f : block.block)
        if (f.kind == ast::Field::Assign && f.pathText() == "trials") trialsSet = true;
      if (trialsSet && points != trials)
        p_.diags.report(Diag::GridTrialsMismatch, sweep.arg("trials")->loc, points, trials);
    }
    if (parallel > trials)
      p_.diags.report(Diag::ParallelExceedsTrials, sweep.arg("parallel")->loc, parallel, trials, parallel - trials);
    if (int64_t ensemble = sweep.arg("ensemble")->i; ensemble > trials)
      p_.diags.report(Diag::EnsembleExceedsTrials, sweep.arg("ensemble")->loc, ensemble, trials, trials);
    return true;
  }

  // The distinct points of dims [i, end) given the values chosen before i
  // (nullptr: inactive).
  int64_t gridPoints(size_t i, std::vector<const Value *> &chosen) const {
    if (i == exp_.sweep.size()) return 1;
    const SweepDim &d = exp_.sweep[i];
    bool active = d.parent < 0;
    if (!active && chosen[size_t(d.parent)]) {
      std::string parent = toString(*chosen[size_t(d.parent)]);
      for (const Value &w : d.when) active |= toString(w) == parent;
    }
    if (!active) {
      chosen[i] = nullptr;
      return gridPoints(i + 1, chosen);
    }
    int64_t n = 0;
    for (const Value &v : d.values) {
      chosen[i] = &v;
      n += gridPoints(i + 1, chosen);
    }
    return n;
  }

  // Every value of a structural parameter compiles to its own model
  // variant, so each must type-check, not just the one in `model = ...`;
  // the same goes for batch and strategy values against the strategy rules.
  // Domains too large to list are checked at both ends, where shape and
  // divisibility errors show first.
  bool variants() {
    bool ok = true;
    for (const SweepDim &d : exp_.sweep) {
      if (!d.finite()) continue;
      std::vector<Value> samples = d.values;
      if (samples.empty()) samples = {d.space.arg("low") ? *d.space.arg("low") : Value{},
                                      d.space.arg("high") ? *d.space.arg("high") : Value{}};
      bool strategyRule = d.path == "trainer.batch" || d.path.rfind("strategy.", 0) == 0;
      if (!d.structural && !strategyRule) continue;
      // The first value that breaks is reported in full; the others that
      // break are listed in a note rather than repeating the same error.
      bool first = true;
      size_t firstIndex = SIZE_MAX, checked = 0;
      std::vector<std::string> others;
      for (const Value &value : samples) {
        if (p_.workSpent > kCompileBudget) break;
        ++checked;
        size_t before = p_.diags.all().size();
        bool good = d.structural ? checkModelVariant(d, value) : checkStrategyVariant(d, value);
        if (good) continue;
        ok = false;
        if (first) {
          first = false;
          p_.diags.noteSince(before, value.loc, fmt::format("when `{}` = {}", d.path, toString(value)));
          if (p_.diags.all().size() > before) firstIndex = before;
          continue;
        }
        p_.diags.rollback(before);
        others.push_back(toString(value));
      }
      if (checked < samples.size())
        p_.diags.report(Diag::VariantsNotChecked, d.space.loc, checked, samples.size(), d.path);
      if (firstIndex != SIZE_MAX && !others.empty()) {
        std::string list;
        for (size_t i = 0; i < others.size() && i < 8; ++i) list += (i ? ", " : "") + others[i];
        if (others.size() > 8) list += fmt::format(" and {} more", others.size() - 8);
        p_.diags.at(firstIndex).note(fmt::format("it fails too when `{}` = {}", d.path, list));
      }
    }
    return ok;
  }

  static Value withArg(Value call, const std::string &param, const Value &value) {
    for (NamedValue &f : call.fields)
      if (f.first == param) f.second = value;
    return call;
  }

  bool checkModelVariant(const SweepDim &d, const Value &value) {
    Value config = withArg(exp_.model.config, d.path.substr(d.path.find('.') + 1), value);
    return instantiateModel(p_, *exp_.model.model, config, fromDataset(exp_.data.features, exp_.data.decl->name, value.loc))
        .has_value();
  }

  bool checkStrategyVariant(const SweepDim &d, const Value &value) {
    Value strategy = exp_.fields.at("strategy").value;
    Value batch = *exp_.fields.at("trainer").value.arg("batch");
    if (d.path == "trainer.batch") {
      batch = value;
    } else {
      strategy = withArg(strategy, d.path.substr(d.path.find('.') + 1), value);
      strategy.loc = value.loc;  // errors point at the swept value
      batch.loc = value.loc;
    }
    return checkStrategyRules(p_, strategy, batch, exp_.model);
  }

  Program &p_;
  Evaluator &eval_;
  CheckedExperiment &exp_;
};

}  // namespace

bool checkSweep(Program &program, Evaluator &eval, CheckedExperiment &exp) {
  return SweepChecker(program, eval, exp).run();
}

std::optional<CheckedExperiment> instantiateVariant(Program &program, const CheckedExperiment &exp,
                                                    const std::vector<std::pair<std::string, Value>> &values) {
  CheckedExperiment out = exp;
  bool modelChanged = false;
  for (const auto &[path, value] : values) {
    size_t dot = path.find('.');
    std::string section = path.substr(0, dot), param = path.substr(dot + 1);
    auto it = out.fields.find(section);
    if (it == out.fields.end()) continue;
    for (NamedValue &f : it->second.value.fields)
      if (f.first == param) f.second = value;
    if (section == "model") {
      for (NamedValue &f : out.model.config.fields)
        if (f.first == param) f.second = value;
      modelChanged = true;
    }
  }
  if (modelChanged) {
    auto model = instantiateModel(program, *exp.model.model, out.model.config,
                                  fromDataset(exp.data.features, exp.data.decl->name, exp.decl->loc));
    if (!model) return std::nullopt;
    out.model = std::move(*model);
  }
  return out;
}

}  // namespace mlc::sema

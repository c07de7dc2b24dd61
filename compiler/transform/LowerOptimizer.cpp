#include "transform/LowerOptimizer.h"

#include "graph/NodeBuilder.h"

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace mlc::transform {

using namespace graph;

namespace {

double numberArg(const sema::Value &call, const std::string &name, double fallback) {
  const sema::Value *v = call.arg(name);
  return v && v->isNumber() ? v->number() : v && v->kind == sema::Value::Bool ? double(v->b) : fallback;
}

class OptimizerLowering : NodeBuilder {
public:
  OptimizerLowering(Module &m, const sema::CheckedExperiment &exp, Diagnostics &diags)
      : NodeBuilder(m, *m.function("train_step")), exp_(exp), diags_(diags) {}

  bool run(const std::vector<ParamGrad> &grads) {
    const sema::Value &trainer = exp_.fields.at("trainer").value;
    int64_t accumulate = int64_t(numberArg(trainer, "accumulate", 1));
    double clip = numberArg(trainer, "grad_clip", 0);
    const sema::Value &opt = exp_.fields.at("optimizer").value;
    const std::string &name = opt.callee->name;
    // sema admits only the stdlib's optimizers (E0212), and each is lowered below.
    std::vector<ParamGrad> effective = grads;
    if (accumulate > 1) {
      // train_step adds into accumulators; apply_step updates from their mean.
      origin = "accumulate gradients";
      for (ParamGrad &pg : effective) {
        int acc = accumulator(pg.state);
        int sum = binary(OpKind::Add, param(acc), pg.grad);
        assign(acc, sum);
      }
      m_->functions.push_back({"apply_step", {}});
      f_ = m_->function("apply_step");
      for (ParamGrad &pg : effective) {
        int acc = accumulatorOf_.at(pg.state);
        pg.grad = binary(OpKind::Div, param(acc), constant(double(accumulate)));
      }
    }
    if (clip > 0) clipByNorm(effective, clip);
    origin = "schedule";
    int base = declared(opt, "optimizer.", "lr", 1e-3);  // declared before the schedule reads it
    int lr = binary(OpKind::Mul, base, scheduleFactor());
    origin = name;
    for (const ParamGrad &pg : effective) update(name, opt, pg, lr);
    if (accumulate > 1) {
      origin = "reset accumulators";
      for (const ParamGrad &pg : effective) {
        int acc = accumulatorOf_.at(pg.state);
        assign(acc, add(OpKind::BroadcastTo, {constant(0)}, m_->states[size_t(acc)].shape));
      }
    }
    return ok_;
  }

private:
  // A runtime scalar for argument `arg` of the optimizer or a schedule,
  // under `prefix + arg`, with the range the declaration gives it.
  int declared(const sema::Value &call, const std::string &prefix, const std::string &arg, double fallback,
               bool integer = false) {
    const sema::Param *param = call.callee->param(arg);
    return hparam(prefix + arg, numberArg(call, arg, fallback), false, integer,
                  param ? param->range : std::nullopt);
  }

  int stateFor(int of, StateDecl::Role role, const char *suffix) {
    StateDecl s;
    s.role = role;
    s.name = m_->states[size_t(of)].name + suffix;
    s.shape = m_->states[size_t(of)].shape;
    s.of = of;
    return m_->addState(std::move(s));
  }
  int accumulator(int of) { return accumulatorOf_[of] = stateFor(of, StateDecl::GradAccumulator, ".grad_acc"); }

  // Scales every gradient by min(1, clip / ‖g‖) with ‖g‖ the global norm,
  // as torch.nn.utils.clip_grad_norm_ (eps 1e-6).
  void clipByNorm(std::vector<ParamGrad> &grads, double clip) {
    origin = "clip gradients";
    int total = -1;
    for (const ParamGrad &pg : grads) {
      std::vector<int64_t> axes;
      for (size_t i = 0; i < shape(pg.grad).rank(); ++i) axes.push_back(int64_t(i));
      int sq = add(OpKind::ReduceSum, {unary(OpKind::Square, pg.grad)}, Shape{});
      node(sq).ints = axes;
      total = total < 0 ? sq : binary(OpKind::Add, total, sq);
    }
    if (total < 0) return;
    int norm = unary(OpKind::Sqrt, total);
    int limit = hparam("trainer.grad_clip", clip, false, false, sema::Interval{0.0, std::nullopt, true, true, std::nullopt});
    // An override of 0 turns clipping off, as in the spec.
    int clipped = binary(OpKind::Min, constant(1), binary(OpKind::Div, limit, binary(OpKind::Add, norm, constant(1e-6))));
    int scale = select(binary(OpKind::Less, constant(0), limit), clipped, constant(1));
    for (ParamGrad &pg : grads) pg.grad = binary(OpKind::Mul, pg.grad, scale);
  }

  // The factor the schedule applies to the base learning rate at update
  // `step` (0-based) of `total_steps`. Every schedule but the last of a
  // `then` chain must have a length (`warmup(steps = n)`).
  int scheduleFactor() {
    int t = hparam("step", 0, true), total = hparam("total_steps", 1, true);
    return segment(exp_.scheduleChain(), 0, t, total);
  }

  int segment(const std::vector<const sema::Value *> &chain, size_t i, int t, int total) {
    const sema::Value &s = *chain[i];
    const std::string &name = s.callee->name;
    // `schedule.cosine.eta_min`; a name used twice in one chain is numbered
    // from its second use (`schedule.warmup2.steps`), so each keeps its own key.
    size_t uses = 0;
    for (size_t k = 0; k <= i; ++k) uses += chain[k]->callee->name == name;
    std::string prefix = "schedule." + name + (uses > 1 ? std::to_string(uses) : "") + ".";
    bool last = i + 1 == chain.size();
    auto clampedFraction = [&](int length) {
      int frac = binary(OpKind::Div, t, binary(OpKind::Max, length, constant(1)));
      return binary(OpKind::Min, frac, constant(1));
    };
    if (name == "warmup") {
      int steps = declared(s, prefix, "steps", 1, true);
      int start = declared(s, prefix, "start_factor", 0);
      int ramp = binary(OpKind::Add, start,
                        binary(OpKind::Mul, binary(OpKind::Sub, constant(1), start), clampedFraction(steps)));
      if (last) return ramp;
      int rest = segment(chain, i + 1, binary(OpKind::Sub, t, steps), binary(OpKind::Sub, total, steps));
      return select(binary(OpKind::Less, t, steps), ramp, rest);
    }
    if (!last) {
      throw std::logic_error("optimizer lowering: sema let `" + name + "` be followed with `then`");
    }
    if (name == "constant") return constant(1);
    if (name == "cosine") {
      // eta_min is an absolute learning rate: factor = m + (1 - m)(1 + cos(pi f))/2 with m = eta_min / lr
      int etaMin = declared(s, prefix, "eta_min", 0);
      int m = binary(OpKind::Div, etaMin, hparam("optimizer.lr", 0));
      int wave = binary(OpKind::Mul, binary(OpKind::Add, constant(1), unary(OpKind::Cos, binary(OpKind::Mul, clampedFraction(total), constant(M_PI)))), constant(0.5));
      return binary(OpKind::Add, m, binary(OpKind::Mul, binary(OpKind::Sub, constant(1), m), wave));
    }
    if (name == "linear_decay") {
      int end = declared(s, prefix, "end_factor", 0);
      return binary(OpKind::Add, constant(1), binary(OpKind::Mul, binary(OpKind::Sub, end, constant(1)), clampedFraction(total)));
    }
    if (name == "step_decay") {
      int every = declared(s, prefix, "every", 1, true);
      int gamma = declared(s, prefix, "gamma", 0.1);
      return binary(OpKind::Pow, gamma, unary(OpKind::Floor, binary(OpKind::Div, t, every)));
    }
    if (name == "exponential") {
      int gamma = declared(s, prefix, "gamma", 0.99);
      return binary(OpKind::Pow, gamma, t);
    }
    throw std::logic_error("optimizer lowering: no rule for schedule `" + name + "`");
  }

  void update(const std::string &name, const sema::Value &opt, const ParamGrad &pg, int lr) {
    int p = param(pg.state), g = pg.grad;
    // rmsprop has no weight decay: its key must not exist.
    int wd = name == "rmsprop" ? -1 : declared(opt, "optimizer.", "weight_decay", 0);
    if (name == "sgd") {
      int momentum = declared(opt, "optimizer.", "momentum", 0);
      bool nesterov = numberArg(opt, "nesterov", 0) != 0;
      g = binary(OpKind::Add, g, binary(OpKind::Mul, wd, p));
      int buf = stateFor(pg.state, StateDecl::Momentum, ".momentum");
      int next = binary(OpKind::Add, binary(OpKind::Mul, momentum, param(buf)), g);
      assign(buf, next);
      int dir = nesterov ? binary(OpKind::Add, g, binary(OpKind::Mul, momentum, next)) : next;
      assign(pg.state, binary(OpKind::Sub, p, binary(OpKind::Mul, lr, dir)));
      return;
    }
    if (name == "rmsprop") {
      int alpha = declared(opt, "optimizer.", "alpha", 0.99);
      int eps = declared(opt, "optimizer.", "eps", 1e-8);
      int momentum = declared(opt, "optimizer.", "momentum", 0);
      int sq = stateFor(pg.state, StateDecl::Moment2, ".square_avg");
      int v = binary(OpKind::Add, binary(OpKind::Mul, alpha, param(sq)),
                     binary(OpKind::Mul, binary(OpKind::Sub, constant(1), alpha), unary(OpKind::Square, g)));
      assign(sq, v);
      int step = binary(OpKind::Div, g, binary(OpKind::Add, unary(OpKind::Sqrt, v), eps));
      int buf = stateFor(pg.state, StateDecl::Momentum, ".momentum");
      int next = binary(OpKind::Add, binary(OpKind::Mul, momentum, param(buf)), step);
      assign(buf, next);
      assign(pg.state, binary(OpKind::Sub, p, binary(OpKind::Mul, lr, next)));
      return;
    }
    // adam and adamw (torch.optim semantics: bias-corrected moments; adamw
    // decays the weights directly, adam adds the decay to the gradient)
    int b1 = declared(opt, "optimizer.", "beta1", 0.9);
    int b2 = declared(opt, "optimizer.", "beta2", 0.999);
    int eps = declared(opt, "optimizer.", "eps", 1e-8);
    int t = binary(OpKind::Add, hparam("step", 0, true), constant(1));
    if (name == "adamw") p = binary(OpKind::Mul, p, binary(OpKind::Sub, constant(1), binary(OpKind::Mul, lr, wd)));
    else g = binary(OpKind::Add, g, binary(OpKind::Mul, wd, param(pg.state)));
    int m1 = stateFor(pg.state, StateDecl::Moment1, ".exp_avg");
    int m2 = stateFor(pg.state, StateDecl::Moment2, ".exp_avg_sq");
    int m = binary(OpKind::Add, binary(OpKind::Mul, b1, param(m1)), binary(OpKind::Mul, binary(OpKind::Sub, constant(1), b1), g));
    int v = binary(OpKind::Add, binary(OpKind::Mul, b2, param(m2)),
                   binary(OpKind::Mul, binary(OpKind::Sub, constant(1), b2), unary(OpKind::Square, g)));
    assign(m1, m);
    assign(m2, v);
    int c1 = binary(OpKind::Sub, constant(1), binary(OpKind::Pow, b1, t));
    int c2 = binary(OpKind::Sub, constant(1), binary(OpKind::Pow, b2, t));
    // lr / c1 · m / (sqrt(v) / sqrt(c2) + eps), arranged so that per element
    // there is one square root and one division (the scalars are hoisted).
    int stepSize = binary(OpKind::Div, lr, c1);
    int invSqrtC2 = unary(OpKind::Rsqrt, c2);
    int denom = binary(OpKind::Add, binary(OpKind::Mul, unary(OpKind::Sqrt, v), invSqrtC2), eps);
    assign(pg.state, binary(OpKind::Sub, p, binary(OpKind::Div, binary(OpKind::Mul, m, stepSize), denom)));
  }

  const sema::CheckedExperiment &exp_;
  Diagnostics &diags_;
  std::map<int, int> accumulatorOf_;
  bool ok_ = true;
};

}  // namespace

bool lowerOptimizer(Module &m, const std::vector<ParamGrad> &grads, const sema::CheckedExperiment &exp,
                    Diagnostics &diags) {
  return OptimizerLowering(m, exp, diags).run(grads);
}

}  // namespace mlc::transform

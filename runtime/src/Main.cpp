// mlcrt_main: what a compiled experiment's main() calls. Every failure ends
// here as one `error: ...` line and an exit status; nothing a user can type
// or put in a data file should crash the process.
#include "abi/plan.h"
#include "src/Cli.h"
#include "src/Dataset.h"
#include "src/Loop.h"
#include "src/RunNames.h"
#include "src/tune/SweepSpec.h"
#include "src/tune/Tuner.h"

#include <fmt/format.h>

#include <iostream>
#include <new>

namespace {

// Loaders already write `file:line: error: ...`, in the compiler's style;
// everything else gets the prefix here. Messages quote the command line and
// data files, so control characters are spelt \xNN: they cannot drive the
// terminal.
void report(const char *message) {
  std::string m = mlcrt::printable(message);
  std::cerr << (m.find("error: ") == std::string::npos ? "error: " + m : m) << '\n' << std::flush;
}

std::string programName(int argc, char **argv) {
  if (argc < 1 || !argv[0] || !*argv[0]) return "exp";
  std::string p = argv[0];
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// The variant whose compiled values the command line names (all of them
// the spec's own when it names none).
size_t selectVariant(const mlc_plan &plan, const mlcrt::Manifest &m, const mlcrt::Options &options) {
  using namespace mlcrt;
  std::map<std::string, std::string> wanted;
  for (const Override &o : options.overrides)
    if (o.variant) wanted[o.key] = o.text;
  if (wanted.empty()) return 0;
  std::optional<tune::SweepSpec> spec = tune::parseSweep(m.sweepJson);
  int v = spec ? tune::findVariant(*spec, wanted) : -1;
  if (v < 0 || uint32_t(v) >= plan.variant_count) {
    std::string list;
    for (const auto &[k, t] : wanted) list += (list.empty() ? "" : ", ") + k + "=" + t;
    throw UsageError(fmt::format("no compiled variant has {}: the sweep compiles its values one at a time, with the "
                                 "spec's own values for the rest",
                                 list));
  }
  return size_t(v);
}

}  // namespace

extern "C" int mlcrt_main(const mlc_plan *plan, int argc, char **argv) {
  using namespace mlcrt;
  try {
    if (!plan) throw Error("the experiment provides no plan");
    if (plan->abi_version != MLC_PLAN_ABI_VERSION)
      throw Error(fmt::format("the experiment was compiled for plan ABI {}, but this runtime reads ABI {}: compile it "
                              "again with the matching mlc",
                              plan->abi_version, MLC_PLAN_ABI_VERSION));
    if (plan->variant_count < 1 || !plan->variants || !plan->variants[0].manifest_json)
      throw Error("the experiment provides no compiled program");
    Manifest manifest = parseManifest(plan->variants[0].manifest_json);
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i] ? argv[i] : "");
    Options options = parseCommandLine(manifest, args);
    if (options.help) {
      std::cout << helpText(manifest, programName(argc, argv)) << std::flush;
      return 0;
    }
    if (options.version) {
      std::cout << versionText(manifest) << std::flush;
      return 0;
    }
    // A sweep runs its study unless a mode says otherwise.
    bool sweep = !manifest.sweepJson.empty();
    if (sweep && options.mode == Mode::FitTest) options.mode = Mode::Tune;
    // A compiled key on the command line picks its variant's program.
    size_t variant = selectVariant(*plan, manifest, options);
    if (variant != 0) manifest = parseManifest(plan->variants[variant].manifest_json);
    for (const std::string &warning : applyOverrides(manifest, options)) std::cerr << "warning: " << warning << '\n';
    runPaths(manifest, options.root, "fit");  // a bad name template is a usage error, found before the data loads
    if (options.mode == Mode::Study) return tune::printStudy(manifest, options);
    if (options.mode == Mode::Report) return tune::writeStudyReport(manifest, options);
    if (options.mode == Mode::Tune && (options.plan || options.dryRun)) std::cout << tune::studyPlanText(manifest, options);
    Splits data = loadData(manifest.data);
    if (options.mode == Mode::Tune && !options.plan && !options.dryRun) return tune::runTune(*plan, manifest, options, data);
    return runExperiment(plan->variants[variant], manifest, options, data);
  } catch (const UsageError &e) {
    report(e.what());
    return 2;
  } catch (const std::bad_alloc &) {
    report("out of memory");
    return 1;
  } catch (const std::exception &e) {
    report(e.what());
    return 1;
  } catch (...) {
    report("unexpected failure");
    return 1;
  }
}

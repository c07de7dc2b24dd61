#include "driver/Driver.h"

#include "codegen/Codegen.h"
#include "diagnostics/Diagnostics.h"
#include "driver/FormatCommand.h"
#include "driver/Lower.h"
#include "lsp/Server.h"
#include "graph/GraphDump.h"
#include "loops/LoopsDump.h"
#include "parse/AstDump.h"
#include "parse/Parse.h"
#include "sema/Sema.h"
#include "sema/SemaDump.h"
#include "sweep/TrialGraphDump.h"

#include <CLI/CLI.hpp>

#include "abi/plan.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace mlc {

namespace {

enum class Emit { None, Ast, Sema, Trials, Graph, Grad, Plan, Llvm };

// What to do with the compiled experiment, besides printing a stage.
enum class Action { Check, Compile, Run };

struct Options {
  std::vector<std::string> files;
  std::string emit;
  Action action = Action::Check;
  std::string output;        // compile: the executable
  std::string experiment;    // which experiment of the file
  std::vector<std::string> runArgs;  // run: the executable's command line
  bool timings = false;
  std::string diagnosticsFormat = "text";
  std::string color = "auto";
  std::string stdlibDir = MLC_STDLIB_DIR;
  size_t errorLimit = 50;
};

bool useColor(const std::string &mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char *noColor = std::getenv("NO_COLOR");  // https://no-color.org: any non-empty value
  if (noColor && *noColor) return false;
  return isatty(STDERR_FILENO);
}

// `mlc run` prints its diagnostics before the experiment starts talking.
bool diagnosticsRendered = false;

void renderDiagnostics(const Diagnostics &diags, const Options &opts, bool toStdout = false) {
  if (opts.diagnosticsFormat == "json") diags.renderJson(toStdout ? std::cout : std::cerr);
  else diags.renderText(std::cerr, useColor(opts.color));
}

const sema::CheckedExperiment *chooseExperiment(const sema::SemaResult &result, FileId file, const Options &opts,
                                                Diagnostics &diags) {
  Loc fileStart{file, 0, 0};
  const std::string &path = diags.sources().path(file);
  if (!opts.experiment.empty()) {
    std::vector<std::string> names;
    for (const sema::CheckedExperiment &e : result.experiments) {
      if (e.decl->name == opts.experiment) return &e;
      names.push_back(e.decl->name);
    }
    diags.reportUnknown(Diag::UnknownExperiment, Loc{}, opts.experiment, names, opts.experiment);
    return nullptr;
  }
  if (result.experiments.empty()) {
    diags.report(Diag::NoExperiment, fileStart, path);
    return nullptr;
  }
  if (result.experiments.size() > 1) {
    Diagnostic &d = diags.report(Diag::ManyExperiments, result.experiments[1].decl->loc, path, result.experiments.size());
    d.note(result.experiments[0].decl->loc, "the first is declared here");
    return nullptr;
  }
  return &result.experiments[0];
}

// This build trains on one CPU device: say so where the spec asks for more.
void warnAboutTarget(const sema::CheckedExperiment &exp, Diagnostics &diags) {
  const sema::CheckedField &strategy = exp.fields.at("strategy");
  if (strategy.value.callee && strategy.value.callee->name != "single")
    diags.report(Diag::StrategyNotLowered, strategy.value.loc.valid() ? strategy.value.loc : exp.decl->loc,
                 strategy.value.callee->name);
  const sema::Value *precision = exp.fields.at("trainer").value.arg("precision");
  if (precision && precision->s != "f32") diags.report(Diag::PrecisionNotLowered, precision->loc.valid() ? precision->loc : exp.decl->loc, precision->s);
}

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// What a rank may hold: `trainer.memory_gb`, or else this machine's memory
// (the CPU device a run here uses).
int64_t memoryLimit(const sema::CheckedExperiment &exp) {
  const sema::Value *gb = exp.fields.at("trainer").value.arg("memory_gb");
  if (gb && gb->number() > 0) return int64_t(gb->number() * double(int64_t(1) << 30));
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? int64_t(pages) * size : 0;
}

int lowerAndEmit(const sema::SemaResult &result, FileId file, Emit emit, const Options &opts, Diagnostics &diags) {
  auto t0 = std::chrono::steady_clock::now();
  const sema::CheckedExperiment *exp = chooseExperiment(result, file, opts, diags);
  if (!exp) return 1;
  warnAboutTarget(*exp, diags);
  if (emit == Emit::Graph || emit == Emit::Grad) {
    auto lowered = lowerExperiment(*exp, diags, emit == Emit::Graph ? LowerUntil::Graph : LowerUntil::Grad);
    if (!lowered) return 1;
    std::cout << graph::dumpModule(lowered->graph);
    return 0;
  }
  auto all = lowerWithSweep(*result.program, *exp, diags, memoryLimit(*exp));
  if (!all) return 1;
  if (emit == Emit::Trials) {
    if (all->trials) std::cout << sweep::dumpTrialGraph(*all->trials, all->memory);
    else std::cout << "no sweep: one run of the spec as written\n";
    return 0;
  }
  const Lowered &base = all->variants[0];
  int64_t batch = int64_t(exp->fields.at("trainer").value.arg("batch")->i);
  if (emit == Emit::Plan) {
    std::cout << loops::dumpPlan(base.program, batch);
    return 0;
  }
  std::vector<codegen::Unit> units;
  for (const Lowered &v : all->variants) units.push_back({v.program, v.manifest});
  codegen::Options cg;
  if (emit == Emit::Llvm) {
    std::cout << codegen::emitLLVMText(units, cg);
    return 0;
  }
  std::string error;
  if (opts.action == Action::Compile) {
    namespace fs = std::filesystem;
    std::string output = opts.output.empty() ? fs::path(diags.sources().path(file)).stem().string() : opts.output;
    // The object goes to a private temporary directory: never over a file
    // of the user's, and never left behind, whether linking works or not.
    std::string tmpl = (fs::temp_directory_path() / "mlc-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      diags.report(Diag::CompileFailed, Loc{}, std::string("cannot create a temporary directory: ") + strerror(errno));
      return 1;
    }
    std::string object = (fs::path(tmpl) / "experiment.o").string();
    bool ok = codegen::emitObject(units, cg, object, error) &&
              codegen::linkExecutable(object, output, error);
    std::error_code ec;
    fs::remove_all(tmpl, ec);
    if (!ok) {
      // The tool's own output, one note per line, after a one-line summary.
      std::vector<std::string> lines;
      for (size_t start = 0; start < error.size();) {
        size_t end = error.find('\n', start);
        if (end == std::string::npos) end = error.size();
        if (end > start) lines.push_back(error.substr(start, end - start));
        start = end + 1;
      }
      Diagnostic &d = diags.report(Diag::CompileFailed, Loc{}, lines.empty() ? "compilation failed" : lines[0]);
      for (size_t i = 1; i < lines.size() && i <= 12; ++i) d.note(lines[i]);
      return 1;
    }
    if (opts.timings) std::cerr << fmt::format("mlc: compiled `{}` in {:.3f} s\n", output, secondsSince(t0));
    return 0;
  }
  if (opts.action == Action::Run) {
    codegen::JitModule::Symbols symbols = {{"mlcrt_sgemm", reinterpret_cast<void *>(&mlcrt_sgemm)},
                                           {"mlcrt_parallel_for", reinterpret_cast<void *>(&mlcrt_parallel_for)}};
    auto jit = codegen::JitModule::create(units, cg, symbols, error);
    if (!jit) {
      diags.report(Diag::CompileFailed, Loc{}, error);
      return 1;
    }
    if (opts.timings) std::cerr << fmt::format("mlc: jit-compiled in {:.3f} s\n", secondsSince(t0));
    // Diagnostics (warnings) first, then the experiment's own output.
    renderDiagnostics(diags, opts);
    diagnosticsRendered = true;
    std::vector<std::string> args = {exp->decl->name};
    args.insert(args.end(), opts.runArgs.begin(), opts.runArgs.end());
    std::vector<char *> argv;
    for (std::string &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return mlcrt_main(jit->plan(), int(args.size()), argv.data());
  }
  return 0;
}

int compileFile(const std::string &path, Emit emit, const Options &opts, SourceManager &sources, Diagnostics &diags) {
  std::string error;
  FileId file = sources.load(path, error);
  if (!file) {
    diags.report(Diag::CannotRead, Loc{}, path, error);
    return 1;
  }
  if (emit == Emit::Ast) {
    auto ast = parseFile(sources, file, diags);
    if (!ast || ast->hasErrors) return 1;
    dumpAst(*ast, sources, std::cout);
    return diags.hasErrors() ? 1 : 0;
  }
  size_t errorsBefore = diags.errorReports();
  sema::SemaResult result = sema::analyze(sources, diags, file, opts.stdlibDir);
  if (diags.errorReports() > errorsBefore) return 1;
  if (emit == Emit::Sema) sema::dumpSema(result, std::cout);
  if (emit == Emit::None && opts.action == Action::Check) return 0;
  if (emit == Emit::Ast || emit == Emit::Sema) return 0;
  return lowerAndEmit(result, file, emit, opts, diags);
}

}  // namespace

namespace {
int run(int argc, char **argv);
}

int runDriver(int argc, char **argv) {
  // Bad input never reaches here (it is a diagnostic); this is a compiler bug.
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::cerr << "mlc: internal compiler error: " << e.what() << "\nplease report it with the input that caused it\n";
  } catch (...) {
    std::cerr << "mlc: internal compiler error\nplease report it with the input that caused it\n";
  }
  return 3;
}

namespace {

int run(int argc, char **argv) {
  Options opts;
  CLI::App app{"mlc: the compiler for mlp experiment specifications", "mlc"};
  app.set_version_flag("--version", std::string("mlc ") + MLC_VERSION);
  app.footer("Exit status: 0 success, 1 errors in the input, 2 usage error, 3 internal compiler error.");
  app.add_option("--emit", opts.emit, "Print a stage instead of only checking: ast, sema, trials, graph, grad, plan, llvm")
      ->check(CLI::IsMember({"ast", "sema", "trials", "graph", "grad", "plan", "llvm"}));
  app.add_option("--experiment", opts.experiment, "The experiment to compile when a file declares several");
  app.add_option("--diagnostics-format", opts.diagnosticsFormat, "How diagnostics are printed: text, json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--color", opts.color, "Colour diagnostics: auto (a terminal without NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_option("--stdlib", opts.stdlibDir, "Directory holding std/*.mlp")->check(CLI::ExistingDirectory);
  app.add_option("--error-limit", opts.errorLimit, "Stop after this many errors (0: no limit)");
  auto *check = app.add_subcommand("check", "Type-check experiments and report every error");
  check->fallthrough();  // `mlc check --diagnostics-format=json f.mlp` works too
  check->add_option("files", opts.files, "Files to check")->required();
  auto *compile = app.add_subcommand("compile", "Compile an experiment to a native executable");
  compile->fallthrough();
  compile->add_option("file", opts.files, "The experiment file")->required()->expected(1);
  compile->add_option("-o,--output", opts.output, "The executable to write (default: the file's name without .mlp)");
  compile->add_flag("--timings", opts.timings, "Print how long compiling took");
  auto *fmt = app.add_subcommand("fmt", "Lay files out in the canonical style (in place; `-` reads stdin)");
  bool fmtCheck = false, fmtStdout = false;
  fmt->fallthrough();
  fmt->add_flag("--check", fmtCheck, "Change nothing; report each file that is not formatted (exit 1)");
  fmt->add_flag("--stdout", fmtStdout, "Print the formatted text instead of rewriting the files");
  fmt->add_option("files", opts.files, "Files to format")->required();
  auto *lsp = app.add_subcommand("lsp", "Serve the Language Server Protocol on stdin and stdout (for editors)");
  lsp->fallthrough();
  // Listed for --help; `run` lines are split off before parsing (below).
  app.add_subcommand("run", "Compile an experiment in memory (ORC JIT) and run it: mlc run FILE [ARGS...]");
  app.add_option("files", opts.files, "Files to compile (with --emit)");
  app.require_subcommand(0, 1);

  // `mlc run FILE [ARGS...]`: everything after the file belongs to the
  // experiment's own command line, so it is split off before CLI11 sees it.
  std::vector<char *> own(argv, argv + argc);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) != "run") continue;
    opts.action = Action::Run;
    own.assign(argv, argv + i);
    int k = i + 1;
    for (; k < argc && argv[k][0] == '-' && std::string(argv[k]) != "--"; ++k) {
      std::string flag = argv[k];
      if (flag == "--timings") opts.timings = true;
      else own.push_back(argv[k]);
      if ((flag == "--experiment" || flag == "--stdlib") && k + 1 < argc) own.push_back(argv[++k]);
    }
    if (k < argc && std::string(argv[k]) == "--") ++k;
    if (k < argc) opts.files.push_back(argv[k++]);
    if (k < argc && std::string(argv[k]) == "--") ++k;  // `mlc run FILE -- ARGS`
    for (; k < argc; ++k) opts.runArgs.push_back(argv[k]);
    if (opts.files.empty()) {
      std::cerr << "mlc: error: `mlc run` needs an experiment file\n";
      return 2;
    }
    break;
  }
  argc = int(own.size());
  argv = own.data();
  try {
    app.parse(argc, argv);
    if (compile->parsed()) opts.action = Action::Compile;
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (lsp->parsed()) return lsp::serve(std::cin, std::cout, opts.stdlibDir);
  if (opts.files.empty()) {
    std::cerr << "mlc: error: no input files (see `mlc --help`)\n";
    return 2;
  }
  if (fmt->parsed()) {
    if (fmtCheck && fmtStdout) {
      std::cerr << "mlc: error: `mlc fmt` takes --check or --stdout, not both\n";
      return 2;
    }
    SourceManager sources;
    Diagnostics diags(sources);
    diags.setErrorLimit(opts.errorLimit);
    int rc = runFormat(opts.files, fmtCheck ? FormatMode::Check : fmtStdout ? FormatMode::Stdout : FormatMode::Rewrite,
                       sources, diags);
    renderDiagnostics(diags, opts);
    return rc;
  }
  Emit emit = opts.emit == "ast"     ? Emit::Ast
              : opts.emit == "sema"  ? Emit::Sema
              : opts.emit == "trials" ? Emit::Trials
              : opts.emit == "graph" ? Emit::Graph
              : opts.emit == "grad"  ? Emit::Grad
              : opts.emit == "plan"  ? Emit::Plan
              : opts.emit == "llvm"  ? Emit::Llvm
                                     : Emit::None;
  if (emit != Emit::None && opts.action != Action::Check) {
    std::cerr << "mlc: error: --emit cannot be combined with `compile` or `run`\n";
    return 2;
  }
  if ((emit != Emit::None || opts.action != Action::Check) && opts.files.size() != 1) {
    std::cerr << "mlc: error: --emit, `compile` and `run` take exactly one file\n";
    return 2;
  }

  SourceManager sources;
  Diagnostics diags(sources);
  diags.setErrorLimit(opts.errorLimit);
  int rc = 0;
  for (const std::string &path : opts.files) rc |= compileFile(path, emit, opts, sources, diags);
  // JSON goes to stdout for tools, unless stdout already carries an --emit dump.
  if (!diagnosticsRendered) renderDiagnostics(diags, opts, emit == Emit::None && opts.action == Action::Check);
  // `mlc run` exits as the experiment did (2: its command line was wrong).
  if (opts.action == Action::Run && !diags.hasErrors()) return rc;
  return rc || diags.hasErrors() ? 1 : 0;
}

}  // namespace

}  // namespace mlc

#include "driver/Driver.h"

#include "diagnostics/Diagnostics.h"
#include "parse/AstDump.h"
#include "parse/Parse.h"
#include "sema/Sema.h"
#include "sema/SemaDump.h"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <unistd.h>

namespace mlc {

namespace {

enum class Emit { None, Ast, Sema };

struct Options {
  std::vector<std::string> files;
  std::string emit;
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
  return 0;
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
  app.add_option("--emit", opts.emit, "Print a stage instead of only checking: ast, sema")
      ->check(CLI::IsMember({"ast", "sema"}));
  app.add_option("--diagnostics-format", opts.diagnosticsFormat, "How diagnostics are printed: text, json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--color", opts.color, "Colour diagnostics: auto (a terminal without NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_option("--stdlib", opts.stdlibDir, "Directory holding std/*.mlp")->check(CLI::ExistingDirectory);
  app.add_option("--error-limit", opts.errorLimit, "Stop after this many errors (0: no limit)");
  auto *check = app.add_subcommand("check", "Type-check experiments and report every error");
  check->fallthrough();  // `mlc check --diagnostics-format=json f.mlp` works too
  check->add_option("files", opts.files, "Files to check")->required();
  app.add_option("files", opts.files, "Files to compile (with --emit)");
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (opts.files.empty()) {
    std::cerr << "mlc: error: no input files (see `mlc --help`)\n";
    return 2;
  }
  Emit emit = opts.emit == "ast" ? Emit::Ast : opts.emit == "sema" ? Emit::Sema : Emit::None;
  if (emit != Emit::None && opts.files.size() != 1) {
    std::cerr << "mlc: error: --emit takes exactly one file\n";
    return 2;
  }

  SourceManager sources;
  Diagnostics diags(sources);
  diags.setErrorLimit(opts.errorLimit);
  int rc = 0;
  for (const std::string &path : opts.files) rc |= compileFile(path, emit, opts, sources, diags);
  // JSON goes to stdout for tools, unless stdout already carries an --emit dump.
  if (opts.diagnosticsFormat == "json")
    diags.renderJson(emit == Emit::None ? std::cout : std::cerr);
  else
    diags.renderText(std::cerr, useColor(opts.color));
  return rc || diags.hasErrors() ? 1 : 0;
}

}  // namespace

}  // namespace mlc

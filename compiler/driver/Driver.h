// The `mlc` command line: parses options and runs the front-end stages in
// order, printing what --emit asks for and the diagnostics.
#pragma once

namespace mlc {

/// Exit codes: 0 success, 1 diagnostics with errors, 2 usage error,
/// 3 internal compiler error.
int runDriver(int argc, char **argv);

}  // namespace mlc

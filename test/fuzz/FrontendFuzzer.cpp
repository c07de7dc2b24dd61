// libFuzzer target: any byte string through the parser, the type checker
// and both diagnostic renderers must neither crash nor hang.
#include "diagnostics/Diagnostics.h"
#include "sema/Sema.h"
#include "sema/SemaDump.h"

#include <cstddef>
#include <cstdint>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlc::SourceManager sources;
  mlc::Diagnostics diags(sources);
  mlc::FileId file = sources.add("fuzz.mlp", std::string(reinterpret_cast<const char *>(data), size));
  auto result = mlc::sema::analyze(sources, diags, file, MLC_STDLIB_DIR);
  std::ostringstream sink;
  mlc::sema::dumpSema(result, sink);
  diags.renderText(sink, true);
  diags.renderJson(sink);
  return 0;
}

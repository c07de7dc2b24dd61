#include "parse/Ast.h"

namespace mlc::ast {

std::string Field::pathText() const {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) out += (i ? "." : "") + path[i].text;
  return out;
}

}  // namespace mlc::ast

#include "parse/AstDump.h"

#include <fmt/format.h>

#include <ostream>

namespace mlc {

namespace {

std::string quote(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out.push_back(c);
  }
  return out + "\"";
}

class Dumper {
public:
  Dumper(const SourceManager &sm, std::ostream &out) : sm_(sm), out_(out) {}

  void file(const ast::File &f) {
    out_ << "file " << quote(sm_.path(f.id)) << '\n';
    using K = ast::File::DeclKind;
    for (auto [kind, i] : f.order) {
      switch (kind) {
      case K::Import: importDecl(f.imports[i]); break;
      case K::Dataset: dataset(f.datasets[i]); break;
      case K::Model: model(f.models[i]); break;
      case K::Experiment: {
        const ast::Experiment &e = f.experiments[i];
        line(1, e.loc, "experiment " + e.name.text);
        fields(2, e.fields);
        break;
      }
      case K::Extern: externDecl(f.externs[i]); break;
      }
    }
  }

private:
  void line(int indent, Loc loc, const std::string &text) {
    LineCol p = sm_.position(loc.file, loc.begin);
    out_ << std::string(indent * 2, ' ') << text << " @" << p.line << ':' << p.column << '\n';
  }

  void importDecl(const ast::Import &i) {
    std::string text = "import ";
    for (size_t k = 0; k < i.path.size(); ++k) text += (k ? "." : "") + i.path[k].text;
    if (i.all) text += ".*";
    if (!i.names.empty()) {
      text += ".{";
      for (size_t k = 0; k < i.names.size(); ++k) text += (k ? ", " : "") + i.names[k].text;
      text += "}";
    }
    line(1, i.loc, text);
  }

  void dataset(const ast::Dataset &d) {
    line(1, d.loc, "dataset " + d.name.text + " = " + exprToString(*d.source));
    fields(2, d.fields);
  }

  void params(int indent, const std::vector<ast::Param> &ps) {
    for (const ast::Param &p : ps) {
      std::string text = "param " + p.name.text + ": " + typeToString(p.type);
      for (const ast::TypeExpr &alt : p.alternatives) text += " | " + typeToString(alt);
      if (p.constraint) {
        const ast::Constraint &c = *p.constraint;
        if (c.interval)
          text += fmt::format(" in {}{}, {}{}", c.loInclusive ? "[" : "(", exprToString(*c.lo), exprToString(*c.hi),
                              c.hiInclusive ? "]" : ")");
        else
          text += " " + c.op + " " + exprToString(*c.bound);
      }
      if (p.defaultValue) text += " = " + exprToString(*p.defaultValue);
      line(indent, p.name.loc, text);
    }
  }

  void model(const ast::Model &m) {
    line(1, m.loc, "model " + m.name.text);
    params(2, m.params);
    stmts(2, m.body);
  }

  void stmts(int indent, const std::vector<ast::ModelStmt> &body) {
    for (const ast::ModelStmt &s : body) {
      switch (s.kind) {
      case ast::ModelStmt::Input: line(indent, s.loc, "input " + s.name.text + ": " + typeToString(*s.type)); break;
      case ast::ModelStmt::Output:
        line(indent, s.loc, "output " + s.name.text + (s.type ? ": " + typeToString(*s.type) : "") + " = " +
                                exprToString(*s.value));
        break;
      case ast::ModelStmt::Let: line(indent, s.loc, "let " + s.name.text + " = " + exprToString(*s.value)); break;
      case ast::ModelStmt::Repeat:
        line(indent, s.loc, "repeat " + (s.name.text.empty() ? "" : s.name.text + " in ") + exprToString(*s.value));
        stmts(indent + 1, s.body);
        break;
      }
    }
  }

  void fields(int indent, const std::vector<ast::Field> &fs) {
    for (const ast::Field &f : fs) {
      switch (f.kind) {
      case ast::Field::Assign: line(indent, f.loc, "field " + f.pathText() + " = " + exprToString(*f.value)); break;
      case ast::Field::Sweep: {
        std::string text = "sweep " + f.pathText() + " ~ " + exprToString(*f.value);
        if (f.whenValues) {
          std::string when;
          for (const ast::Name &n : f.whenPath) when += (when.empty() ? "" : ".") + n.text;
          text += " when " + when + " in " + exprToString(*f.whenValues);
        }
        line(indent, f.loc, text);
        break;
      }
      case ast::Field::Block:
        line(indent, f.loc, "block " + f.pathText());
        fields(indent + 1, f.block);
        break;
      }
    }
  }

  void externDecl(const ast::Extern &e) {
    std::string text = "extern " + e.kind.text + " " + e.name.text;
    if (e.result) text += " -> " + typeToString(*e.result);
    line(1, e.loc, text);
    for (const ast::Annotation &a : e.annotations) {
      std::string ann = "@" + a.name.text;
      for (size_t k = 0; k < a.args.size(); ++k) ann += (k ? ", " : "(") + exprToString(*a.args[k]);
      if (!a.args.empty()) ann += ")";
      line(2, a.name.loc, ann);
    }
    params(2, e.params);
  }

  const SourceManager &sm_;
  std::ostream &out_;
};

}  // namespace

std::string formatFloat(double v) {
  std::string s = fmt::format("{}", v);  // shortest round-trip form
  return s.find_first_of(".eEn") == std::string::npos ? s + ".0" : s;  // `2.0`, never `2`
}

std::string exprToString(const ast::Expr &e) {
  using K = ast::ExprKind;
  switch (e.kind) {
  case K::Int: return std::to_string(e.intValue);
  case K::Float: return formatFloat(e.floatValue);
  case K::String: return quote(e.text);
  case K::Bool: return e.boolValue ? "true" : "false";
  case K::Name: return e.text;
  case K::Member: return "(. " + exprToString(*e.lhs) + " " + e.text + ")";
  case K::Call: {
    std::string out = "(call " + exprToString(*e.lhs);
    for (const ast::Arg &a : e.args) out += " " + (a.name ? a.name->text + "=" : "") + exprToString(*a.value);
    return out + ")";
  }
  case K::List: {
    std::string out = "[";
    for (size_t i = 0; i < e.elements.size(); ++i) out += (i ? " " : "") + exprToString(*e.elements[i]);
    return out + "]";
  }
  case K::Record: {
    std::string out = "{";
    for (size_t i = 0; i < e.entries.size(); ++i)
      out += (i ? " " : "") + e.entries[i].key.text + ":" + exprToString(*e.entries[i].value);
    return out + "}";
  }
  case K::Unary: return "(" + e.text + " " + exprToString(*e.lhs) + ")";
  case K::Objective: return "(" + e.text + " " + exprToString(*e.lhs) + ")";
  case K::Binary: return "(" + e.text + " " + exprToString(*e.lhs) + " " + exprToString(*e.rhs) + ")";
  }
  return "?";
}

std::string typeToString(const ast::TypeExpr &t) {
  std::string out = t.name.text;
  if (!t.enumValues.empty()) {
    out += "(";
    for (size_t i = 0; i < t.enumValues.size(); ++i) out += (i ? ", " : "") + t.enumValues[i].text;
    return out + ")";
  }
  if (t.shaped) {
    out += "[";
    for (size_t i = 0; i < t.dims.size(); ++i) out += (i ? ", " : "") + (t.dims[i] ? exprToString(*t.dims[i]) : "...");
    out += "]";
  }
  return out;
}

void dumpAst(const ast::File &file, const SourceManager &sources, std::ostream &out) { Dumper(sources, out).file(file); }

}  // namespace mlc

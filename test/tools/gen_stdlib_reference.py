#!/usr/bin/env python3
"""Prints the standard library's reference (markdown) on standard output.

For every module STDLIB_DIR/std/*.mlp, in the order of their names: a
section with the module's header comment, then every declaration in source
order with its full signature and its doc comment. Signatures come from the
compiler's own parser, `MLC --emit=ast FILE` (kind, name, parameters with
types, constraints and defaults, the result type, annotations, and for the
composite layers written in mlp their inputs and body); the mlp text is
never parsed here. Only comments are read from the source:

  - a declaration's doc comment is the block of `//` lines directly above
    it (above its annotations, where it has some), up to a blank line;
  - section rulers (`// ---- dense layers ----`) become sub-headings and
    are never part of a doc comment;
  - the module's header is the comment at the top of the file, before the
    first ruler or declaration (less the first declaration's doc comment);
  - any other comment that stands apart (followed by a blank line) is
    printed where it stands.

docs/reference/stdlib.md is this script's output; test/lit/docs/
stdlib-reference.test regenerates it and compares.

Usage: gen_stdlib_reference.py MLC STDLIB_DIR
"""
import os
import re
import subprocess
import sys
import textwrap

LOCATION = re.compile(r"^(.*) @(\d+):(\d+)$")
NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
RULER = re.compile(r"^-{3,}\s*(.*?)\s*-*$")
WIDTH = 100  # the line width of `mlc fmt`: longer signatures get a parameter a line
PROSE = 92   # the line width of the other pages' prose
BLOCK_START = re.compile(r"^([-+*>#|=]|\d+[.)])")

REGENERATE = "python3 test/tools/gen_stdlib_reference.py build/bin/mlc stdlib > docs/reference/stdlib.md"


class DumpError(Exception):
    pass


# ---- the expressions of the AST dump: S-expressions, printed back as mlp ----

def tokens(text):
    """Tokens of an S-expression text: brackets, commas, strings, atoms."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()[]{},":
            out.append(c)
            i += 1
        elif c == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in '()[]{},"':
                j += 1
            out.append(text[i:j])
            i = j
    return out


class Reader:
    """Reads S-expressions from a token list: atoms, `(head args...)`,
    `[elements...]`, `{key:value ...}`; `name=value` is a named argument and
    `key:value` a record entry, both kept as ("=", name, value) and
    (":", key, value)."""

    def __init__(self, toks):
        self.toks, self.i = toks, 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self):
        t = self.peek()
        if t is None:
            raise DumpError("unexpected end of an expression")
        self.i += 1
        return t

    def expr(self):
        t = self.next()
        if t in ("(", "["):
            close = ")" if t == "(" else "]"
            items = []
            while self.peek() != close:
                items.append(self.item())
            self.next()
            return ("list", items) if t == "[" else ("sexp", items)
        if t == "{":
            items = []
            while self.peek() != "}":
                items.append(self.item())
            self.next()
            return ("record", items)
        if t in ")]},":
            raise DumpError(f"unexpected `{t}` in an expression")
        return ("atom", t)

    def item(self):
        """An element of a list: an expression, or `name=value` / `key:value`."""
        t = self.peek()
        if t is not None and not t.startswith('"'):
            for sep in "=:":
                k = t.find(sep)
                if k > 0 and NAME.fullmatch(t[:k]):
                    self.next()
                    rest = t[k + 1:]
                    value = ("atom", rest) if rest else self.expr()
                    return (sep, t[:k], value)
        return self.expr()


PREC = {"*": 3, "/": 3, "%": 3, "+": 4, "-": 4, "..": 5, "then": 7, "on": 8}
PREFIX = {"-": 2, "+": 2, "minimize": 6, "maximize": 6}


def number(text):
    """`1e-05` as `1e-5`: the same value, as one would write it."""
    return re.sub(r"e([+-]?)0+(\d)", r"e\1\2", text) if re.fullmatch(r"[0-9.]+e[+-]?\d+", text) else text


def show(e):
    """(mlp text, precedence) of an expression read from the dump."""
    kind = e[0]
    if kind == "atom":
        return number(e[1]), 1
    if kind == "list":
        return "[" + ", ".join(show_item(x) for x in e[1]) + "]", 1
    if kind == "record":
        return "{ " + ", ".join(show_item(x) for x in e[1]) + " }", 1
    if kind == "sexp":
        items = e[1]
        head = items[0][1] if items and items[0][0] == "atom" else None
        if head == "call":
            return show(items[1])[0] + "(" + ", ".join(show_item(x) for x in items[2:]) + ")", 1
        if head == "." and len(items) == 3:
            return wrap(items[1], 1, True) + "." + items[2][1], 1
        if head in PREFIX and len(items) == 2:
            p = PREFIX[head]
            sep = " " if head.isalpha() else ""
            return head + sep + wrap(items[1], p, True, prefix=True), p
        if head in PREC and len(items) == 3:
            p = PREC[head]
            return wrap(items[1], p, False) + " " + head + " " + wrap(items[2], p, True), p
    raise DumpError(f"an expression this script does not know: {e!r}")


def wrap(e, prec, right, prefix=False):
    text, p = show(e)
    if p > prec or (right and p == prec and not prefix) or (prefix and p == prec):
        return "(" + text + ")"
    return text


def show_item(x):
    if x[0] == "=":
        return f"{x[1]} = {show(x[2])[0]}"
    if x[0] == ":":
        return f"{x[1]}: {show(x[2])[0]}"
    return show(x)[0]


def expr_text(text):
    r = Reader(tokens(text))
    e = r.expr()
    if r.peek() is not None:
        raise DumpError(f"trailing text after an expression: {text!r}")
    return show(e)[0]


# ---- parameters and types as the dump prints them ----

def balanced(text, i):
    """The end of the bracketed group that starts at text[i]."""
    depth, j = 0, i
    while j < len(text):
        c = text[j]
        if c == '"':
            j += 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise DumpError(f"unbalanced brackets: {text!r}")


def split_top(text):
    """`a, (+ b c), ...` split at its top-level commas."""
    parts, depth, start = [], 0, 0
    for j, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:j].strip())
            start = j + 1
    parts.append(text[start:].strip())
    return parts


def read_type(text, i):
    """(mlp text of the type at text[i:], end)."""
    m = NAME.match(text, i)
    if not m:
        raise DumpError(f"expected a type: {text[i:]!r}")
    name, j = m.group(0), m.end()
    if j < len(text) and text[j] == "(":  # enum(a, b)
        end = balanced(text, j)
        return name + text[j:end], end
    if j < len(text) and text[j] == "[":  # f32[batch, (* c h)], list[any]
        end = balanced(text, j)
        dims = [d if d == "..." else expr_text(d) for d in split_top(text[j + 1:end - 1])]
        return name + "[" + ", ".join(dims) + "]", end
    return name, j


def read_expr(text, i):
    """(mlp text of the S-expression at text[i:], end)."""
    if text[i] in "([{":
        end = balanced(text, i)
    elif text[i] == '"':
        end = i + 1
        while text[end] != '"':
            end += 2 if text[end] == "\\" else 1
        end += 1
    else:
        end = i
        while end < len(text) and not text[end].isspace() and text[end] not in ",)]":
            end += 1
    return expr_text(text[i:end]), end


def param_text(rest):
    """A `param` line of the dump after `param `, as mlp."""
    name, sep, text = rest.partition(": ")
    if not sep:
        raise DumpError(f"a parameter without a type: {rest!r}")
    out, i = [], 0
    t, i = read_type(text, i)
    out.append(f"{name}: {t}")
    while text.startswith(" | ", i):
        t, i = read_type(text, i + 3)
        out.append(f" | {t}")
    if text.startswith(" in ", i):
        i += 4
        lo_bracket = text[i]
        lo, i = read_expr(text, i + 1)
        if not text.startswith(", ", i):
            raise DumpError(f"an interval without its upper bound: {rest!r}")
        hi, i = read_expr(text, i + 2)
        out.append(f" in {lo_bracket}{lo}, {hi}{text[i]}")
        i += 1
    else:
        m = re.compile(r" (>=|<=|!=|>|<) ").match(text, i)
        if m:
            bound, i = read_expr(text, m.end())
            out.append(f" {m.group(1)} {bound}")
    if text.startswith(" = ", i):
        default, i = read_expr(text, i + 3)
        out.append(f" = {default}")
    if i != len(text):
        raise DumpError(f"a parameter this script does not understand: {rest!r}")
    return "".join(out)


# ---- the declarations of a module ----

class Decl:
    def __init__(self, kind, name, line):
        self.kind = kind          # `layer`, `loss`, ... for externs; `model`
        self.name = name
        self.line = line          # where it starts (its first annotation)
        self.result = None        # an extern's result type, as mlp
        self.annotations = []
        self.params = []
        self.body = []            # a model's statements, as mlp lines
        self.calls = set()        # names a model's body calls


def read_dump(dump):
    """The externs and models of an `--emit=ast` dump, in source order."""
    decls, current, stmt_indent = [], None, {}
    for raw in dump.splitlines()[1:]:  # the first line names the file
        m = LOCATION.match(raw)
        if not m:
            raise DumpError(f"a line without a location: {raw!r}")
        body, line = m.group(1), int(m.group(2))
        indent = (len(body) - len(body.lstrip(" "))) // 2
        text = body.strip()
        if indent == 1:
            current = None
            if text.startswith("extern "):
                head, _, result = text.partition(" -> ")
                parts = head.split()
                if len(parts) != 3:
                    raise DumpError(f"an extern this script does not understand: {raw!r}")
                current = Decl(parts[1], parts[2], line)
                if result:
                    current.result = read_type(result, 0)[0]
                decls.append(current)
            elif text.startswith("model "):
                current = Decl("model", text.split()[1], line)
                decls.append(current)
            continue
        if current is None:
            continue  # inside an import, dataset or experiment
        if text.startswith("param ") and indent == 2:
            current.params.append(param_text(text[len("param "):]))
        elif text.startswith("@") and indent == 2:
            name, _, args = text[1:].partition("(")
            current.annotations.append(
                "@" + name + ("(" + ", ".join(expr_text(a) for a in split_top(args[:-1])) + ")" if args else ""))
        elif current.kind == "model":
            current.body.append(statement(current, text, indent - 2))
        else:
            raise DumpError(f"a line this script does not understand: {raw!r}")
    # close the blocks of `repeat`s
    for d in decls:
        d.body = close_repeats(d.body)
    return decls


def statement(decl, text, depth):
    for call in re.findall(r"\(call ([A-Za-z_][A-Za-z_0-9]*)", text):
        decl.calls.add(call)
    word, _, rest = text.partition(" ")
    if word == "input":
        name, _, t = rest.partition(": ")
        return depth, f"input {name}: {read_type(t, 0)[0]}"
    if word == "let":
        name, _, value = rest.partition(" = ")
        return depth, f"{name} = {expr_text(value)}"
    if word == "output":
        lhs, _, value = rest.partition(" = ")
        name, sep, t = lhs.partition(": ")
        annotated = f": {read_type(t, 0)[0]}" if sep else ""
        return depth, f"output {name}{annotated} = {expr_text(value)}"
    if word == "repeat":
        var, sep, count = rest.partition(" in ")
        if not sep:
            var, count = "", rest
        return depth, "repeat " + (f"{var} in " if var else "") + expr_text(count) + " {"
    raise DumpError(f"a model statement this script does not understand: {text!r}")


def close_repeats(body):
    out, open_depths = [], []
    for depth, line in body:
        while open_depths and open_depths[-1] >= depth:
            out.append("  " * (open_depths.pop() + 1) + "}")
        out.append("  " * (depth + 1) + line)
        if line.endswith("{"):
            open_depths.append(depth)
    while open_depths:
        out.append("  " * (open_depths.pop() + 1) + "}")
    return out


def signature(decl, module, names):
    """The declaration as an mlp block: a complete file that `mlc check`
    accepts (a model imports the layers its body calls), in the layout of
    `mlc fmt`."""
    lines = []
    if decl.kind == "model":
        used = sorted(n for n in decl.calls if n in names and n != decl.name)
        if used:
            lines += [f"import {module}.{{{', '.join(used)}}}", ""]
        head = f"model {decl.name}"
    else:
        head = f"extern {decl.kind} {decl.name}"
    tail = f" -> {decl.result}" if decl.result else ""
    if decl.kind == "model":
        tail += " {"
    flat = f"{head}({', '.join(decl.params)}){tail}"
    # As `mlc fmt` lays it out: the annotations on the declaration's line
    # when all of it fits, else one a line, then the parameters one a line
    # when the declaration alone does not fit.
    one_line = " ".join(decl.annotations + [flat])
    if len(one_line) <= WIDTH:
        lines.append(one_line)
    elif len(flat) <= WIDTH or not decl.params:
        lines += decl.annotations + [flat]
    else:
        lines += decl.annotations
        lines.append(head + "(")
        lines += [f"  {p}," for p in decl.params]
        lines.append(")" + tail)
    if decl.kind == "model":
        lines += decl.body + ["}"]
    return "\n".join(lines)


# ---- comments, read from the source ----

def comment_text(line):
    s = line.strip()
    return s[2:].strip() if s.startswith("//") else None


def is_ruler(line):
    t = comment_text(line)
    return t is not None and RULER.match(t) is not None


def paragraphs(lines):
    """Comment lines as markdown paragraphs (an empty `//` separates them)."""
    out, cur = [], []
    for line in lines:
        t = comment_text(line)
        if t:
            cur.append(t)
        elif cur:
            out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    return [wrap_prose(escape(p)) for p in out]


def wrap_prose(text):
    """The paragraph filled to PROSE columns. A word that would begin a list,
    a quote or a heading at the start of a line stays with the word before."""
    words = text.split(" ")
    glued = [words[0]]
    for w in words[1:]:
        if BLOCK_START.match(w):
            glued[-1] += "\0" + w
        else:
            glued.append(w)
    filled = textwrap.fill(" ".join(glued), PROSE, break_long_words=False, break_on_hyphens=False)
    return filled.replace("\0", " ")


def escape(text):
    """`<` outside code spans would start an HTML tag in markdown."""
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(p if p.startswith("`") else p.replace("<", "\\<") for p in parts)


def items(source_lines, decls):
    """The module in line order: ("ruler", title), ("prose", paragraphs),
    ("decl", Decl, doc paragraphs)."""
    starts = {d.line: d for d in decls}
    doc_lines = {}
    taken = set()
    for d in decls:
        j, block = d.line - 1, []
        while j >= 1 and comment_text(source_lines[j - 1]) is not None and not is_ruler(source_lines[j - 1]):
            block.insert(0, source_lines[j - 1])
            taken.add(j)
            j -= 1
        doc_lines[d.name] = block
    out, free = [], []

    def flush():
        if free:
            ps = paragraphs(free)
            if ps:
                out.append(("prose", ps))
            free.clear()

    for n, line in enumerate(source_lines, 1):
        if n in starts:
            flush()
            d = starts[n]
            out.append(("decl", d, paragraphs(doc_lines[d.name])))
        elif is_ruler(line):
            flush()
            out.append(("ruler", RULER.match(comment_text(line)).group(1)))
        elif comment_text(line) is not None and n not in taken:
            free.append(line)
        elif not line.strip() and free:
            flush()
    flush()
    return out


# ---- the page ----

def module_section(mlc, path):
    module = "std." + os.path.splitext(os.path.basename(path))[0]
    p = subprocess.run([mlc, "--emit=ast", "--color=never", path], capture_output=True)
    if p.returncode != 0:
        raise DumpError(f"`{mlc} --emit=ast {path}` failed:\n{p.stderr.decode(errors='replace')}")
    decls = read_dump(p.stdout.decode())
    with open(path, encoding="utf-8") as f:
        source = f.read().split("\n")
    names = {d.name for d in decls}
    rel = "std/" + os.path.basename(path)

    out = [f"## {module}", ""]
    parts = items(source, decls)
    # The header: what stands before the first ruler or declaration, less
    # the module's name that its first line starts with (`std.nn: ...`).
    header = True
    while parts and parts[0][0] == "prose":
        for para in parts.pop(0)[1]:
            if header and para.startswith(module + ": "):
                para = wrap_prose(para[len(module) + 2:].replace("\n", " "))
                para = para[:1].upper() + para[1:]
            header = False
            out += [para, ""]
    for part in parts:
        if part[0] == "ruler":
            out += [f"**{part[1][:1].upper() + part[1][1:]}**", ""]
        elif part[0] == "prose":
            for para in part[1]:
                out += [para, ""]
        else:
            _, d, doc = part
            out += [f"### `{d.name}`", "", "```mlp", signature(d, module, names), "```", ""]
            for para in doc:
                out += [para, ""]
            out += [f"Source: `{rel}:{d.line}`.", ""]
    return module, out


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    mlc, stdlib = argv[1], argv[2]
    std = os.path.join(stdlib, "std")
    if not os.path.isdir(std):
        print(f"gen_stdlib_reference.py: `{std}` is not a directory", file=sys.stderr)
        return 2
    paths = sorted(os.path.join(std, n) for n in os.listdir(std) if n.endswith(".mlp"))
    try:
        sections = [module_section(mlc, p) for p in paths]
    except (DumpError, OSError) as e:
        print(f"gen_stdlib_reference.py: {e}", file=sys.stderr)
        return 1
    out = [
        f"<!-- Generated from stdlib/std/*.mlp by test/tools/gen_stdlib_reference.py; do not edit. "
        f"Regenerate: {REGENERATE} -->",
        "# Standard library reference",
        "",
        "Every declaration of `stdlib/std/*.mlp`, in source order, with its signature as `mlc` parses",
        "it and the comment written above it. What each one computes, and which layers compile, is",
        "in [stdlib.md](../stdlib.md); the notation is [language.md](../language.md)'s (§3",
        "declarations and annotations, §5 constraints, §7 shape patterns). Each block is a complete",
        "file that passes `mlc check`. This page is generated: edit the comments in `stdlib/` and",
        "regenerate it (`test/lit/docs/stdlib-reference.test` fails when it is out of date):",
        "",
        "```sh",
        REGENERATE,
        "```",
        "",
        "Modules: " + ", ".join(f"[{m}](#{m.replace('.', '')})" for m, _ in sections) + ".",
        "",
    ]
    for _, lines in sections:
        out += lines
    while out and out[-1] == "":
        out.pop()
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

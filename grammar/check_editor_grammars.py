#!/usr/bin/env python3
"""Checks that the editor grammars highlight every keyword and operator of Mlp.g4.

grammar/Mlp.g4 is the single source of truth for the syntax; the editor
grammars are written by hand beside it and drift when a keyword or operator
is added there. This reads the quoted literals of Mlp.g4 (the single-literal
lexer rules such as `IMPORT : 'import' ;` and every literal in a parser rule
such as '~', '->', '...') and checks each one in:

  * the TextMate grammar (grammar/vscode/syntaxes/mlp.tmLanguage.json): some
    rule reachable from the top level matches the token exactly with a
    keyword scope (keyword.*, storage.*, constant.language.*) or an operator
    scope (keyword.operator.*, punctuation.*);
  * the Vim syntax file (grammar/vim/syntax/mlp.vim): a `syn keyword` lists
    the keyword, or a `syn match` pattern matches the token, in a group
    linked to a keyword-like or operator-like highlight group;
  * the tree-sitter grammar (grammar/tree-sitter-mlp/grammar.js) has the
    token as a string literal, and queries/highlights.scm captures that
    literal.

Brackets ( ) [ ] { } are left out: every grammar handles them by nesting and
none needs to colour them. Standard library only; the paths can be changed
to check a modified copy. Exit status 0 when everything is covered, 1 when
anything is missing (each miss is printed), 2 on bad usage.
"""

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent  # grammar/
REPO = HERE.parent

BRACKETS = set("()[]{}")

TEXTMATE_KEYWORD_SCOPES = ("keyword.", "storage.", "constant.language.")
TEXTMATE_OPERATOR_SCOPES = ("keyword.operator.", "punctuation.")

# Standard Vim highlight groups (:help group-name) that count as highlighting
# a keyword, and those that count for an operator or punctuation. `@` starts
# an annotation, which is PreProc.
VIM_KEYWORD_GROUPS = {
    "Statement", "Conditional", "Repeat", "Label", "Keyword", "Exception", "Operator",
    "PreProc", "Include", "Define", "Macro", "PreCondit",
    "Type", "StorageClass", "Structure", "Typedef", "Boolean",
}
VIM_OPERATOR_GROUPS = {"Operator", "Delimiter", "Special", "SpecialChar", "PreProc"}

# Captures that mean "do not highlight" in tree-sitter queries.
TS_NON_HIGHLIGHT_CAPTURES = re.compile(r"^(_.*|none|spell|nospell|conceal)$")


class CheckError(Exception):
    """A grammar file that cannot be read or understood."""


def display(path):
    """A path as the messages show it: relative to the repository if inside."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        return str(path)


def read(path):
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CheckError(f"{display(path)}: file not found")
    except OSError as e:
        raise CheckError(f"{display(path)}: cannot read: {e.strerror}")


def is_word(token):
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token) is not None


# ---- Mlp.g4 ------------------------------------------------------------------

ANTLR_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", "\\": "\\"}


def read_quoted(text, start, quote, escapes):
    """The value of the quoted literal whose opening quote is at `start`,
    with `escapes` decoded, and the index just past its closing quote."""
    j, value, n = start + 1, [], len(text)
    while j < n and text[j] != quote:
        if text[j] == "\\" and j + 1 < n:
            value.append(escapes.get(text[j + 1], text[j + 1]))
            j += 2
        else:
            value.append(text[j])
            j += 1
    return "".join(value), j + 1


def g4_rules(text):
    """Yields (rule name, whether the rule is a single literal, [literals])
    for each rule of an ANTLR grammar.

    Literals are replaced by placeholders before the text is split at `;`,
    so that `';'` and `'//'` inside quotes neither end a rule nor start a
    comment; char sets `[...]` are skipped for the same reason.
    """
    out, literals, i, n = [], [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "'":
            value, i = read_quoted(text, i, "'", ANTLR_ESCAPES)
            out.append(f"\0{len(literals)}\0")
            literals.append(value)
        elif c == "[":
            j = i + 1
            while j < n and text[j] != "]":
                j += 2 if text[j] == "\\" else 1
            out.append(" ")
            i = j + 1
        else:
            out.append(c)
            i += 1
    for chunk in "".join(out).split(";"):
        m = re.match(r"\s*(?:fragment\s+)?([A-Za-z_]\w*)\s*:(.*)", chunk, re.S)
        if m:
            body = m.group(2)
            # A lexer rule that is one literal and nothing else (a lexer
            # command `-> ...` aside): `IMPORT : 'import' ;`.
            alone = re.fullmatch(r"\s*\0\d+\0\s*(->.*)?", body, re.S) is not None
            yield m.group(1), alone, [literals[int(k)] for k in re.findall(r"\0(\d+)\0", body)]


def g4_tokens(path):
    """The keywords and the operators of Mlp.g4, in order of appearance."""
    keywords, operators = [], []
    for name, alone, lits in g4_rules(read(path)):
        if name[0].isupper() and not alone:
            # A lexer rule names a keyword or operator only when it is that
            # one literal; the '//' of LINE_COMMENT or the '_' of DIGITS is not.
            continue
        for lit in lits:
            if lit in BRACKETS or not lit:
                continue
            bucket = keywords if is_word(lit) else operators
            if lit not in bucket:
                bucket.append(lit)
    if not keywords or not operators:
        raise CheckError(f"{display(path)}: found no keyword or no operator literals; is this Mlp.g4?")
    return keywords, operators


# ---- TextMate --------------------------------------------------------------------

def textmate_rules(grammar):
    """Yields (regex, {group: scope}) for every match/begin/end regex reachable
    from the grammar's top-level patterns."""
    repo = grammar.get("repository", {})
    seen = set()

    def scopes(rule, name_key, captures_key):
        out = {}
        if name_key and isinstance(rule.get("name"), str):
            out[0] = rule["name"]
        for caps in (rule.get(captures_key), rule.get("captures")):
            for k, cap in (caps or {}).items():
                if isinstance(cap, dict) and isinstance(cap.get("name"), str) and k.isdigit():
                    out.setdefault(int(k), cap["name"])
        return out

    def walk(rule):
        if id(rule) in seen or not isinstance(rule, dict):
            return
        seen.add(id(rule))
        inc = rule.get("include")
        if isinstance(inc, str):
            if inc.startswith("#") and inc[1:] in repo:
                yield from walk(repo[inc[1:]])
            elif inc in ("$self", "$base"):
                yield from walk(grammar)
        if "match" in rule:
            yield rule["match"], scopes(rule, True, "captures")
        if "begin" in rule:
            yield rule["begin"], scopes(rule, True, "beginCaptures")
        if "end" in rule:
            yield rule["end"], scopes(rule, False, "endCaptures")
        for key in ("captures", "beginCaptures", "endCaptures"):
            for cap in (rule.get(key) or {}).values():
                if isinstance(cap, dict):
                    for sub in cap.get("patterns", []):
                        yield from walk(sub)
        for sub in rule.get("patterns", []):
            yield from walk(sub)

    yield from walk({"patterns": grammar.get("patterns", [])})


def compile_oniguruma(rx):
    """Python's re understands the Oniguruma subset TextMate grammars use,
    except \\G (the end of the previous match), which cannot hold at the
    start of a lone token anyway."""
    return re.compile(rx.replace("\\G", "(?!)"))


def neutral(token):
    """A stand-in for a token, of its kind but in no grammar: a rule that
    matches it too matches any name (or any character), not the token."""
    return "zqxj" if is_word(token) else "\u00a7"


def textmate_hit(rx, sample, group, token, replacement=None):
    """Whether rx, matched at the start of sample, puts exactly the token in
    the given group (with the token swapped for `replacement` if given)."""
    if group > rx.groups:  # a capture of a group the regex does not have
        return False
    if replacement is not None:
        sample, token = replacement + sample[len(token):], replacement
    m = rx.match(sample)
    return m is not None and m.span(group) == (0, len(token))


def check_textmate(path, keywords, operators):
    p = display(path)
    try:
        grammar = json.loads(read(path))
    except json.JSONDecodeError as e:
        raise CheckError(f"{p}: not valid JSON: {e}")
    rules = []
    for rx, scopes in textmate_rules(grammar):
        if not scopes:
            continue
        try:
            rules.append((compile_oniguruma(rx), scopes))
        except re.error as e:
            # A rule that cannot be tried could hide a miss; say which.
            raise CheckError(f"{p}: cannot check the regex {rx!r} with Python's re ({e})")

    def covered(token, prefixes):
        # The token alone, or followed by what usually comes next, must be
        # matched from its first character with exactly the token in a group
        # of the wanted scope (`model` alone, `model M`, `@` of `@goal`),
        # by a rule that does not do the same for any name or character
        # (`extern KIND NAME` scopes KIND as storage.type, whatever it is).
        for sample in (token, token + " x", token + "x", token + " x("):
            for rx, scopes in rules:
                for group, scope in scopes.items():
                    if (scope.startswith(prefixes) and textmate_hit(rx, sample, group, token)
                            and not textmate_hit(rx, sample, group, token, neutral(token))):
                        return True
        return False

    missing = [f"{p}: keyword `{k}` from Mlp.g4 is not highlighted" for k in keywords
               if not covered(k, TEXTMATE_KEYWORD_SCOPES)]
    missing += [f"{p}: operator `{o}` from Mlp.g4 is not highlighted" for o in operators
                if not covered(o, TEXTMATE_OPERATOR_SCOPES)]
    return missing


# ---- Vim ---------------------------------------------------------------------------

VIM_CLASSES = {
    "s": r"[ \t]", "S": r"[^ \t]", "d": r"[0-9]", "D": r"[^0-9]", "w": r"[0-9A-Za-z_]",
    "W": r"[^0-9A-Za-z_]", "h": r"[A-Za-z_]", "H": r"[^A-Za-z_]", "a": r"[A-Za-z]",
    "A": r"[^A-Za-z]", "l": r"[a-z]", "L": r"[^a-z]", "u": r"[A-Z]", "U": r"[^A-Z]",
    "x": r"[0-9A-Fa-f]", "X": r"[^0-9A-Fa-f]",
}
VIM_POSIX = {"alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "digit": "0-9", "lower": "a-z",
             "upper": "A-Z", "space": r" \t\n\r\f\v", "blank": r" \t", "xdigit": "0-9A-Fa-f"}


def vim_to_python(pat):
    """Translates a Vim pattern in magic mode (the default) to Python's re.

    Covers what syntax files commonly use: \\< \\> \\( \\%( \\) \\| \\= \\? \\+ *
    \\{n,m} \\{-} \\s \\d \\w \\h ..., [collections] with [:alnum:] etc.,
    \\ze, and the lookarounds \\@= \\@! \\@<= \\@<! (optionally \\@N<!).
    Raises ValueError for anything else, so that an unknown construct is
    reported rather than silently misread.
    """
    stack = [[]]  # atoms of each open group; "|" separates alternatives
    ze = None     # index into the top level where \ze was seen
    i, n = 0, len(pat)

    def last():
        atoms = stack[-1]
        if not atoms or atoms[-1] == "|":
            raise ValueError(f"nothing to repeat at {i}")
        return atoms

    while i < n:
        c = pat[i]
        if c == "\\":
            if i + 1 >= n:
                raise ValueError("trailing backslash")
            d = pat[i + 1]
            i += 2
            if d in "<>":
                stack[-1].append(r"\b")
            elif d == "(":
                stack.append([])
            elif d == "%" and pat[i:i + 1] == "(":
                stack.append([])
                i += 1
            elif d == ")":
                if len(stack) == 1:
                    raise ValueError("unmatched \\)")
                inner = "".join(stack.pop())
                stack[-1].append(f"(?:{inner})")
            elif d == "|":
                stack[-1].append("|")
            elif d in "=?":
                last()[-1] += "?"
            elif d == "+":
                last()[-1] += "+"
            elif d == "{":
                j = pat.find("}", i)
                if j < 0:
                    raise ValueError("unclosed \\{")
                body = pat[i:j].rstrip("\\")
                i = j + 1
                last()[-1] += "*?" if body == "-" else "{" + body + "}"
            elif d == "@":
                m = re.match(r"(\d*)(<?)([=!])", pat[i:])
                if not m:
                    raise ValueError(f"unsupported \\@ at {i}")
                i += m.end()
                atoms = last()
                atoms[-1] = f"(?{m.group(2)}{m.group(3)}{atoms[-1]})"
            elif d == "z" and pat[i:i + 1] == "e":
                if len(stack) != 1 or ze is not None:
                    raise ValueError("\\ze inside a group")
                ze = len(stack[0])
                i += 1
            elif d in VIM_CLASSES:
                stack[-1].append(VIM_CLASSES[d])
            elif d in "nt":
                stack[-1].append("\\" + d)
            elif d in ".[]*~/\\\"^$-":
                stack[-1].append(re.escape(d))
            else:
                raise ValueError(f"unsupported \\{d}")
        elif c == "[":
            j, neg, body = i + 1, "", []
            if pat[j:j + 1] == "^":
                neg, j = "^", j + 1
            if pat[j:j + 1] == "]":  # a leading ] is literal in both dialects
                body.append("\\]")
                j += 1
            while j < n and pat[j] != "]":
                m = re.match(r"\[:(\w+):\]", pat[j:])
                if m:
                    if m.group(1) not in VIM_POSIX:
                        raise ValueError(f"unsupported [:{m.group(1)}:]")
                    body.append(VIM_POSIX[m.group(1)])
                    j += m.end()
                elif pat[j] == "\\" and j + 1 < n:
                    if pat[j + 1] in "\\]^-":
                        body.append(re.escape(pat[j + 1]))
                    elif pat[j + 1] in "ntre":
                        body.append("\\" + pat[j + 1].replace("e", "x1b"))
                    else:  # Vim keeps both the backslash and the character
                        body.append("\\\\" + re.escape(pat[j + 1]))
                    j += 2
                else:
                    body.append(re.escape(pat[j]) if pat[j] in "[\\" else pat[j])
                    j += 1
            if j >= n:
                raise ValueError("unclosed [")
            stack[-1].append("[" + neg + "".join(body) + "]")
            i = j + 1
        elif c == "*":
            last()[-1] += "*"
            i += 1
        elif c == "~":
            raise ValueError("unescaped ~ (the last substitute string)")
        elif c == ".":
            stack[-1].append(".")
            i += 1
        elif c in "^$":
            stack[-1].append(c)
            i += 1
        else:
            stack[-1].append(re.escape(c))
            i += 1
    if len(stack) != 1:
        raise ValueError("unclosed \\(")
    top = stack[0]
    if ze is None:
        return "".join(top)
    return "".join(top[:ze]) + "(?=" + "".join(top[ze:]) + ")"


VIM_KEYWORD_OPTIONS = re.compile(
    r"^(contained|transparent|skipwhite|skipnl|skipempty|display|fold|concealends|conceal|extend|excludenl|keepend|oneline)$"
    r"|^(containedin|nextgroup|cchar|contains)=")


def vim_statements(text):
    """Lines of a Vim script with `\\` continuation lines joined and comments dropped."""
    out = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("\\") and out:
            out[-1] += " " + stripped[1:]
        elif stripped and not stripped.startswith('"'):
            out.append(stripped)
    return out


def check_vim(path, keywords, operators):
    p = display(path)
    links, words, matches = {}, [], []
    for stmt in vim_statements(read(path)):
        m = re.match(r"hi(?:ghlight)?!?\s+(?:def(?:ault)?\s+)?link\s+(\w+)\s+(\w+)", stmt)
        if m:
            links[m.group(1)] = m.group(2)
            continue
        m = re.match(r"sy(?:n|ntax)?\s+keyword\s+(\w+)\s+(.*)", stmt)
        if m:
            words += [(m.group(1), w) for w in m.group(2).split() if not VIM_KEYWORD_OPTIONS.search(w)]
            continue
        m = re.match(r"sy(?:n|ntax)?\s+match\s+(\w+)\s+(.)", stmt)
        if m:
            delim, j, body = m.group(2), m.end(), []
            while j < len(stmt) and stmt[j] != delim:
                if stmt[j] == "\\" and j + 1 < len(stmt):
                    body.append(stmt[j:j + 2])
                    j += 2
                else:
                    body.append(stmt[j])
                    j += 1
            matches.append((m.group(1), "".join(body)))

    def group_chain(group):
        chain = [group]
        while chain[-1] in links and links[chain[-1]] not in chain:
            chain.append(links[chain[-1]])
        return chain

    def is_in(group, wanted):
        return any(g in wanted for g in group_chain(group))

    # Only the patterns of keyword and operator groups are tried, so only
    # they need to be translatable.
    compiled = []
    for group, pattern in matches:
        if is_in(group, VIM_KEYWORD_GROUPS | VIM_OPERATOR_GROUPS):
            try:
                compiled.append((group, re.compile(vim_to_python(pattern))))
            except (ValueError, re.error) as e:
                raise CheckError(f"{p}: cannot check the pattern of {group} ({e}): {pattern}")

    def keyword_covered(kw):
        if any(w == kw and is_in(g, VIM_KEYWORD_GROUPS) for g, w in words):
            return True
        other = neutral(kw)
        for group, rx in compiled:
            if is_in(group, VIM_KEYWORD_GROUPS):
                for sample in (kw, kw + " x"):
                    m = rx.match(sample)
                    # Not a pattern for any name (the extern kind, a type).
                    n = rx.match(other + sample[len(kw):])
                    if m and m.span() == (0, len(kw)) and not (n and n.span() == (0, len(other))):
                        return True
        return False

    def operator_covered(op):
        for group, rx in compiled:
            if is_in(group, VIM_OPERATOR_GROUPS):
                for sample in (op, op + "x", op + " x"):
                    m = rx.match(sample)
                    # The whole operator highlighted, possibly as the start
                    # of a longer item (`@` of `@goal`), by a pattern that
                    # does not match any character there.
                    if m and m.end() >= len(op) and not rx.match(neutral(op) + sample[len(op):]):
                        return True
        return False

    missing = [f"{p}: keyword `{k}` from Mlp.g4 is not highlighted" for k in keywords if not keyword_covered(k)]
    missing += [f"{p}: operator `{o}` from Mlp.g4 is not highlighted" for o in operators if not operator_covered(o)]
    return missing


# ---- tree-sitter --------------------------------------------------------------------

JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def js_string_literals(text):
    """The values of the string literals of a JavaScript file, skipping
    comments and regex literals (where quotes mean nothing)."""
    out, i, n, prev = [], 0, len(text), ""
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c in "'\"`":
            value, i = read_quoted(text, i, c, JS_ESCAPES)
            out.append(value)
            prev = "a"
        elif c == "/" and (prev == "" or prev in "(,=:[!&|?{};+-*%<>~^"):
            # A regex literal: up to the next / that is neither escaped nor
            # inside a [class].
            j, in_class = i + 1, False
            while j < n and (in_class or text[j] != "/") and text[j] != "\n":
                if text[j] == "\\":
                    j += 1
                elif text[j] == "[":
                    in_class = True
                elif text[j] == "]":
                    in_class = False
                j += 1
            i, prev = j + 1, "a"
        else:
            if not c.isspace():
                prev = c
            i += 1
    return out


def scm_captured_strings(text):
    """The string literals of a tree-sitter query that a capture highlights:
    `"when" @keyword`, or an element of `[...] @keyword`. Strings that are
    predicate arguments (`(#eq? @x "model")`) name nodes, not tokens, and do
    not count."""
    tokens, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == ";":
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif c == '"':
            value, i = read_quoted(text, i, '"', JS_ESCAPES)
            tokens.append(("str", value))
        elif c == "@":
            m = re.match(r"@([\w.-]+)", text[i:])
            tokens.append(("cap", m.group(1) if m else ""))
            i += m.end() if m else 1
        elif c in "()[]":
            tokens.append((c, c))
            i += 1
        else:
            i += 1

    def highlighting(k):
        return k < len(tokens) and tokens[k][0] == "cap" and not TS_NON_HIGHLIGHT_CAPTURES.match(tokens[k][1])

    captured = set()
    open_lists = []  # (index of "[", strings inside it)
    for k, (kind, value) in enumerate(tokens):
        if kind == "[":
            open_lists.append([])
        elif kind == "]" and open_lists:
            inside = open_lists.pop()
            if highlighting(k + 1):
                captured.update(inside)
        elif kind == "str":
            if open_lists:
                open_lists[-1].append(value)
            elif highlighting(k + 1):
                captured.add(value)
    return captured


def check_tree_sitter(directory, keywords, operators):
    grammar_js = Path(directory) / "grammar.js"
    highlights = Path(directory) / "queries" / "highlights.scm"
    literals = set(js_string_literals(read(grammar_js)))
    captured = scm_captured_strings(read(highlights))
    missing = []
    for kind, tokens in (("keyword", keywords), ("operator", operators)):
        for t in tokens:
            if t not in literals:
                missing.append(f"{display(grammar_js)}: {kind} `{t}` from Mlp.g4 is not a string literal of the grammar")
            if t not in captured:
                missing.append(f"{display(highlights)}: {kind} `{t}` from Mlp.g4 is not highlighted")
    return missing


# ---- main ------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--g4", default=HERE / "Mlp.g4", help="the ANTLR grammar (default: grammar/Mlp.g4)")
    ap.add_argument("--textmate", default=HERE / "vscode" / "syntaxes" / "mlp.tmLanguage.json",
                    help="the TextMate grammar")
    ap.add_argument("--vim", default=HERE / "vim" / "syntax" / "mlp.vim", help="the Vim syntax file")
    ap.add_argument("--tree-sitter-dir", default=HERE / "tree-sitter-mlp",
                    help="the tree-sitter grammar folder (grammar.js, queries/highlights.scm)")
    ap.add_argument("--list", action="store_true", help="print the keywords and operators found in Mlp.g4 and stop")
    args = ap.parse_args(argv)

    try:
        keywords, operators = g4_tokens(args.g4)
    except CheckError as e:
        print(e, file=sys.stderr)
        return 1
    if args.list:
        print("keywords: " + " ".join(keywords))
        print("operators: " + " ".join(operators))
        return 0

    problems = []
    for check, path in ((check_textmate, args.textmate), (check_vim, args.vim),
                        (check_tree_sitter, args.tree_sitter_dir)):
        # Each grammar is checked even when another one fails, so one run
        # names every miss.
        try:
            problems += check(path, keywords, operators)
        except CheckError as e:
            problems.append(str(e))
    for msg in problems:
        print(msg, file=sys.stderr)
    if problems:
        print(f"check_editor_grammars: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_editor_grammars: all {len(keywords)} keywords and {len(operators)} operators of "
          f"{display(args.g4)} are highlighted by the TextMate, Vim and tree-sitter grammars")
    return 0


if __name__ == "__main__":
    sys.exit(main())

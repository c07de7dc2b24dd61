#!/usr/bin/env python3
"""Checks the mlp code blocks of the documentation with `mlc check`.

Every fenced code block (``` or ~~~) of DOCS_DIR/**/*.md and README is read
with its info string (the first word after the opening fence):

  mlp        a complete file: `MLC check` must accept it (exit code 0;
             warnings are allowed).
  mlp-error  a file that shows a mistake: its first line is a comment naming
             the diagnostic it shows (`// E0301 ...`), and `MLC check` must
             reject it (exit code 1) reporting that code.
  (none)     not allowed: a block says what it holds (`mlp`, `sh` for shell
             commands, `text` for output, ...), so that no mlp block escapes
             this check by being unlabelled.

Other info strings are not checked. Each block is written to a temporary
directory that holds symbolic links to everything in EXAMPLES_DIR (by
default the `examples` folder beside README), so a block reads `data/...`
and may import `iris` or `digits` as if it were saved in `examples/`;
nothing is written into the repository.

Prints `FILE:LINE: MESSAGE` for every failing block (for a rejected `mlp`
block, the compiler's first error, at the line of the documentation it is
on) and a summary line `docs: N blocks checked, N failed`; exits 1 when a
block failed, 2 on a usage error.

Usage: check_docs.py MLC DOCS_DIR README [EXAMPLES_DIR]
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^( *)(`{3,}|~{3,})(.*)$")  # fences in list items are indented too
CODE = re.compile(r"\b([EW]\d{4})\b")
# `path:line:column: error: message [CODE]` (clang-style text diagnostics).
LOCATED = re.compile(r"^(.*?):(\d+):(\d+): (error|warning): (.*)$")


class Block:
    def __init__(self, doc, line, info, text):
        self.doc = doc      # the markdown file, as given on the command line
        self.line = line    # 1-based line of the opening fence
        self.info = info    # the info string's first word ("" when none)
        self.text = text    # the content, the fence's indentation removed


def blocks_of(path):
    """The fenced code blocks of a markdown file (CommonMark's rules for
    fences: a closing fence uses the same character, at least as many of
    them, and nothing else but spaces; an unclosed block runs to the end)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or (m.group(2)[0] == "`" and "`" in m.group(3)):
            i += 1
            continue
        indent, fence = len(m.group(1)), m.group(2)
        words = m.group(3).split()
        info = words[0] if words else ""
        body, j = [], i + 1
        while j < len(lines):
            close = FENCE.match(lines[j])
            if close and close.group(2)[0] == fence[0] and len(close.group(2)) >= len(fence) \
                    and not close.group(3).strip():
                break
            line = lines[j]
            strip = len(line) - len(line.lstrip(" "))
            body.append(line[min(indent, strip):])
            j += 1
        out.append(Block(path, i + 1, info, "\n".join(body) + "\n"))
        i = j + 1
    return out


def markdown_files(docs_dir, readme):
    files = []
    for root, dirs, names in os.walk(docs_dir):
        dirs.sort()
        files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".md")]
    return files + [readme]


def first_error(output):
    """The first `error:` line of mlc's output, else its first line."""
    lines = [l for l in output.splitlines() if l.strip()]
    for l in lines:
        if ": error: " in l or l.startswith("error: "):
            return l
    return lines[0] if lines else "(no output)"


def where(block, tmp_path, line):
    """`FILE:LINE: message` for a diagnostic line of mlc: a location in the
    block's own temporary file becomes the documentation's line."""
    m = LOCATED.match(line)
    if m and os.path.abspath(m.group(1)) == os.path.abspath(tmp_path):
        doc_line = block.line + int(m.group(2))
        return f"{block.doc}:{doc_line}: {m.group(4)}: {m.group(5)}"
    return f"{block.doc}:{block.line}: {line}"


def check(mlc, tmp_dir, index, block):
    """None when the block passes, else the line to print."""
    if block.info == "":
        return f"{block.doc}:{block.line}: a code block without an info string " \
               "(mlp for an mlp file, mlp-error for one that shows a diagnostic, sh, text, ...)"
    path = os.path.join(tmp_dir, f"doc-block-{index}.mlp")
    with open(path, "w", encoding="utf-8") as f:
        f.write(block.text)
    try:
        p = subprocess.run([mlc, "check", "--color=never", path], capture_output=True, cwd=tmp_dir,
                           env=dict(os.environ, NO_COLOR="1"))
    except OSError as e:
        return f"{block.doc}:{block.line}: cannot run `{mlc}`: {e.strerror}"
    output = p.stderr.decode("utf-8", "replace") + p.stdout.decode("utf-8", "replace")
    if block.info == "mlp":
        if p.returncode == 0:
            return None
        return where(block, path, first_error(output))
    # mlp-error
    first = block.text.split("\n", 1)[0].strip()
    code = CODE.search(first) if first.startswith("//") else None
    if not code:
        return f"{block.doc}:{block.line + 1}: an mlp-error block must name its diagnostic " \
               "in a first-line comment (`// E0301`)"
    if p.returncode != 1:
        what = "passes `mlc check`" if p.returncode == 0 else f"makes `mlc check` exit with {p.returncode}"
        return f"{block.doc}:{block.line}: this mlp-error block {what}; expected {code.group(1)} (exit code 1)"
    if f"[{code.group(1)}]" not in output:
        return where(block, path, first_error(output)) + f" (expected {code.group(1)})"
    return None


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    mlc, docs_dir, readme = argv[1], argv[2], argv[3]
    examples = argv[4] if len(argv) == 5 else os.path.join(os.path.dirname(os.path.abspath(readme)), "examples")
    for need, isdir in ((mlc, False), (docs_dir, True), (readme, False), (examples, True)):
        if not (os.path.isdir(need) if isdir else os.path.isfile(need)):
            print(f"check_docs.py: `{need}` does not exist", file=sys.stderr)
            return 2
    mlc = os.path.abspath(mlc)

    blocks = [b for path in markdown_files(docs_dir, readme) for b in blocks_of(path)
              if b.info in ("mlp", "mlp-error", "")]
    with tempfile.TemporaryDirectory(prefix="mlc-docs-") as tmp_dir:
        examples = os.path.abspath(examples)
        for name in sorted(os.listdir(examples)):
            os.symlink(os.path.join(examples, name), os.path.join(tmp_dir, name))
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            results = list(pool.map(lambda ib: check(mlc, tmp_dir, ib[0], ib[1]), enumerate(blocks)))
    failed = [r for r in results if r is not None]
    for r in failed:
        print(r)
    print(f"docs: {len(blocks)} blocks checked, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

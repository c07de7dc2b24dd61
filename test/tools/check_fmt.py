#!/usr/bin/env python3
"""Checks `mlc fmt` on every .mlp file under the given paths.

For each file that parses (`mlc --emit=ast` succeeds) it checks that:
  - the formatted text has the same AST (locations aside),
  - it keeps every comment, in order, with the same text,
  - formatting it again changes nothing (idempotence).
Files that do not parse must make `mlc fmt` fail with exit code 1 and leave
the file as it was. Prints one line per problem and a summary line
`fmt: N files formatted, N not parseable, N problems`; exits 1 on a problem.

Usage: check_fmt.py MLC PATH...
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

LOCATION = re.compile(r" @\d+:\d+")


def comments(text):
    """The comment texts of an mlp source, in order (a small lexer: strings
    are skipped so that `"//"` inside one is not a comment)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(text[i:end].rstrip())
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(text[i:end])
            i = end
        else:
            i += 1
    return out


def run(*args, stdin=None):
    p = subprocess.run(args, input=stdin, capture_output=True, env=dict(os.environ, NO_COLOR="1"))
    return p.returncode, p.stdout, p.stderr


def ast_of(mlc, path):
    rc, out, _ = run(mlc, "--emit=ast", path)
    if rc != 0:
        return None
    lines = out.decode().splitlines()[1:]  # the first line names the file
    return [LOCATION.sub("", line) for line in lines]


def check(mlc, path, scratch):
    with open(path, "rb") as f:
        original = f.read()
    before = ast_of(mlc, path)
    rc, formatted, err = run(mlc, "fmt", "--stdout", path)
    if before is None:
        if rc != 1:
            return "skipped", [f"{path}: `mlc fmt` exited {rc} on a file that does not parse"]
        return "skipped", []
    if rc != 0:
        return "formatted", [f"{path}: `mlc fmt` failed: {err.decode().strip()}"]
    problems = []
    copy = os.path.join(scratch, os.path.basename(path))
    with open(copy, "wb") as f:
        f.write(formatted)
    after = ast_of(mlc, copy)
    if after != before:
        problems.append(f"{path}: the formatted file's AST differs")
    text_before, text_after = original.decode("utf-8", "replace"), formatted.decode("utf-8", "replace")
    if comments(text_before) != comments(text_after):
        problems.append(f"{path}: comments differ after formatting")
    rc, again, _ = run(mlc, "fmt", "--stdout", copy)
    if again != formatted:
        problems.append(f"{path}: formatting is not idempotent")
    for line in text_after.splitlines():
        if line != line.rstrip():
            problems.append(f"{path}: trailing whitespace after formatting")
            break
    return "formatted", problems


def main():
    mlc, roots = sys.argv[1], sys.argv[2:]
    files = []
    for root in roots:
        if os.path.isfile(root):
            files.append(root)
            continue
        for d, _, names in os.walk(root):
            if "/Output" in d:
                continue
            files += [os.path.join(d, n) for n in names if n.endswith(".mlp")]
    files.sort()
    counts = {"formatted": 0, "skipped": 0}
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        jobs = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for i, path in enumerate(files):
                own = os.path.join(scratch, str(i))
                os.mkdir(own)
                jobs[path] = pool.submit(check, mlc, path, own)
            for path in files:
                kind, found = jobs[path].result()
                counts[kind] += 1
                problems += found
    for p in problems:
        print(p)
    print(f"fmt: {counts['formatted']} files formatted, {counts['skipped']} not parseable, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks a study report (the HTML page `./exp report` writes).

    check_report.py [--static] [--plots N] [--rows N] [--screenshot PNG] [--pdf PDF] REPORT.html

Static checks, always: the page is well-formed XML; it loads nothing
(no script, link, img, iframe, object or embed element, no src or href
other than a #fragment, no url() but url(#...), no @import); the summary
header and the history, parallel, importance, curves and trials sections
are there, each plot section with an <svg> or an "empty" note; every <svg>
has a positive width and height, role="img", an aria-label, a <title>
first, a <g class="marks"> with something in it, and no nan or inf in a
numeric attribute. --plots N: exactly N SVGs; --rows N: N trial rows.

Then, unless --static, in headless Chromium with the network cut off
(a dead proxy, every host unresolvable, and its net log read back): the
DOM it rendered (--dump-dom) has the same sections and SVGs, each with
its marks; the page asked for no URL but file: and data:; and a
1200x3000 screenshot (decoded here with zlib, no imaging library) is not
blank: enough ink, spread down the page, with colour in it.

Exit 0 with a one-line summary; 1 with the failures; 77 (skip) when no
Chromium is installed.
"""

import argparse
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

SECTIONS = ["history", "parallel", "importance", "curves"]
NUMERIC = {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "points", "d", "viewBox",
           "transform", "offset"}
LOADERS = {"script", "link", "img", "iframe", "object", "embed", "image", "use", "base", "audio", "video",
           "source", "frame"}
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class Failures(list):
    def check(self, ok, message):
        if not ok:
            self.append(message)
        return ok


def numbers(text):
    """The numbers in an attribute, or None when it holds something else."""
    rest = NUMBER.sub(" ", re.sub(r"^(rotate|translate|scale)\(|\)$", " ", text.strip()))
    if re.search(r"[^\sMLHVZmlhvz,]", rest):
        return None
    return [float(n) for n in NUMBER.findall(text)]


def svg_problems(svg, where):
    """What is wrong with one <svg> element (an ElementTree-like node)."""
    problems = []
    for attr in ("width", "height"):
        v = numbers(svg.get(attr, ""))
        if not v or len(v) != 1 or not v[0] > 0:
            problems.append(f"{where}: {attr}={svg.get(attr)!r} is not a positive number")
    if svg.get("role") != "img":
        problems.append(f"{where}: no role=\"img\"")
    if not (svg.get("aria-label") or "").strip():
        problems.append(f"{where}: no aria-label")
    children = list(svg)
    if not children or children[0].tag != "title" or not (children[0].text or "").strip():
        problems.append(f"{where}: its first child is not a non-empty <title>")
    marks = [g for g in svg.iter("g") if "marks" in (g.get("class") or "").split()]
    if not marks or not any(len(list(g)) for g in marks):
        problems.append(f"{where}: nothing plotted (no <g class=\"marks\"> with elements)")
    for e in svg.iter():
        for name, value in e.attrib.items():
            if name not in NUMERIC:
                continue
            if re.search(r"nan|inf", value, re.I):
                problems.append(f"{where}: <{e.tag} {name}=\"{value[:60]}\">: not a finite number")
            elif numbers(value) is None:
                problems.append(f"{where}: <{e.tag} {name}=\"{value[:60]}\">: not numeric")
    return problems


def external_references(root_iter, style_texts):
    problems = []
    for e in root_iter:
        tag = e.tag.split("}")[-1]
        if tag in LOADERS:
            problems.append(f"a <{tag}> element")
        for name, value in e.attrib.items():
            local = name.split("}")[-1]
            if local in ("src", "href", "srcset", "action", "data", "poster") and not value.startswith("#"):
                problems.append(f"<{tag} {local}=\"{value[:60]}\">")
            if local.startswith("on"):
                problems.append(f"<{tag} {local}=...> (a script)")
            if local == "style":
                style_texts.append(value)
    for css in style_texts:
        for m in re.finditer(r"url\(\s*['\"]?([^'\")]*)", css):
            if not m.group(1).startswith("#"):
                problems.append(f"url({m.group(1)[:60]}) in a style")
        if "@import" in css:
            problems.append("@import in a style")
    return problems


def static_checks(path, args, failures):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        failures.append(f"not well-formed XML: {e}")
        return None
    styles = [s.text or "" for s in root.iter("style")]
    failures.extend(external_references(root.iter(), styles))
    failures.check(root.find(".//header[@id='summary']") is not None, "no <header id=\"summary\">")
    svgs = list(root.iter("svg"))
    for i, svg in enumerate(svgs):
        failures.extend(svg_problems(svg, f"svg {i + 1} ({svg.get('aria-label', '')[:40]})"))
    sections = {s.get("id"): s for s in root.iter("section")}
    for name in SECTIONS:
        s = sections.get(name)
        if failures.check(s is not None, f"no <section id=\"{name}\">"):
            empty = [p for p in s.iter("p") if p.get("class") == "empty"]
            failures.check(s.find("svg") is not None or empty, f"section {name}: neither an SVG nor an empty note")
    rows = 0
    trials = sections.get("trials")
    if failures.check(trials is not None, "no <section id=\"trials\">"):
        rows = len([r for r in trials.iter("tr") if (r.get("id") or "").startswith("trial-")])
    if args.plots is not None:
        failures.check(len(svgs) == args.plots, f"{len(svgs)} SVGs, expected {args.plots}")
    if args.rows is not None:
        failures.check(rows == args.rows, f"{rows} trial rows, expected {args.rows}")
    return {"svgs": len(svgs), "rows": rows, "marks": sum(len(list(g)) for g in root.iter("g")
                                                          if "marks" in (g.get("class") or "").split())}


# ---- Chromium ----

class Node:
    def __init__(self, tag, attrib, parent):
        self.tag, self.attrib, self.parent, self.children, self.text = tag, attrib, parent, [], ""

    def get(self, name, default=None):
        return self.attrib.get(name, default)

    def __iter__(self):
        return iter(self.children)

    def iter(self, tag=None):
        if tag is None or self.tag == tag:
            yield self
        for c in self.children:
            yield from c.iter(tag)


class DomParser(html.parser.HTMLParser):
    """The serialised DOM as a tree (HTML rules: void elements, implied ends)."""
    VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k if k != "viewbox" else "viewBox": v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.current = self.current.parent

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text += data


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(binary, url, extra, workdir, netlog):
    cmd = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           f"--user-data-dir={os.path.join(workdir, 'profile')}",
           "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--disable-extensions", "--hide-scrollbars",
           f"--log-net-log={netlog}", *extra, url]
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
    except subprocess.TimeoutExpired:
        raise RuntimeError("chromium did not finish within 180 s")
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"chromium exited with {done.returncode}: " + " | ".join(tail))
    return done.stdout.decode("utf-8", errors="replace")


def page_requests(netlog):
    """URLs the page itself asked the network for (Chromium's own background
    requests carry no initiator and are not the page's doing)."""
    try:
        with open(netlog) as f:
            log = json.load(f)
    except (OSError, ValueError) as e:
        raise RuntimeError(f"cannot read Chromium's net log {netlog}: {e}")
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for e in log.get("events", []):
        p = e.get("params") or {}
        if types.get(e.get("type")) != "URL_REQUEST_START_JOB" or "url" not in p:
            continue
        from_page = p.get("initiator") not in (None, "not an origin") or "file://" in p.get("network_isolation_key", "")
        if from_page and not re.match(r"(file|data|blob|about|chrome):", p["url"]):
            urls.append(p["url"])
    return urls


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        elif kind != 0:
            raise ValueError(f"bad PNG filter {kind} in row {y}")
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def screenshot_stats(path):
    width, height, bpp, rows = png_pixels(path)
    ink = coloured = 0
    ink_rows = []
    for y, line in enumerate(rows):
        n = 0
        for i in range(0, len(line), bpp):
            r, g, b = line[i], line[i + 1], line[i + 2]
            if r < 235 or g < 235 or b < 235:
                n += 1
                if max(r, g, b) - min(r, g, b) > 60:
                    coloured += 1
        ink += n
        if n:
            ink_rows.append(y)
    return {"width": width, "height": height, "ink": ink / (width * height), "coloured": coloured,
            "ink_top": ink_rows[0] if ink_rows else None, "ink_bottom": ink_rows[-1] if ink_rows else None}


def browser_checks(path, static, args, failures):
    binary = find_chromium()
    if binary is None:
        print("check_report: chromium is not installed (apt-get install chromium); skipping", file=sys.stderr)
        sys.exit(77)
    url = "file://" + os.path.abspath(path)
    with tempfile.TemporaryDirectory(prefix="check-report-") as work:
        dom_text = run_chromium(binary, url, ["--dump-dom"], work, os.path.join(work, "dom.netlog"))
        png = args.screenshot or os.path.join(work, "shot.png")
        run_chromium(binary, url, [f"--screenshot={png}", "--window-size=1200,3000"], work,
                     os.path.join(work, "shot.netlog"))
        requests = page_requests(os.path.join(work, "dom.netlog")) + page_requests(os.path.join(work, "shot.netlog"))
        if args.pdf:
            run_chromium(binary, url, [f"--print-to-pdf={args.pdf}", "--no-pdf-header-footer"], work,
                         os.path.join(work, "pdf.netlog"))
        failures.check(not requests, "the page asked for network URLs: " + ", ".join(sorted(set(requests))[:5]))

        parser = DomParser()
        parser.feed(dom_text)
        dom = parser.root
        svgs = list(dom.iter("svg"))
        failures.check(len(svgs) == static["svgs"], f"the rendered DOM has {len(svgs)} SVGs, the file {static['svgs']}")
        for i, svg in enumerate(svgs):
            failures.extend("rendered " + p for p in svg_problems(svg, f"svg {i + 1}"))
        ids = {s.get("id") for s in dom.iter("section")}
        for name in SECTIONS + ["trials"]:
            failures.check(name in ids, f"the rendered DOM has no section {name}")
        title = "".join(t.text for t in dom.iter("title") if t.parent and t.parent.tag == "head").strip()
        failures.check(title, "the rendered page has no <title>")

        try:
            shot = screenshot_stats(png)
        except (OSError, ValueError, zlib.error) as e:
            failures.append(f"screenshot {png}: {e}")
            return None
        failures.check((shot["width"], shot["height"]) == (1200, 3000),
                       f"screenshot is {shot['width']}x{shot['height']}, not 1200x3000")
        # A page with plots is tall and colourful; one with none (a fresh
        # study) is still a header, notes and a table.
        plots = static["svgs"] > 0
        failures.check(shot["ink"] > (0.01 if plots else 0.003),
                       f"screenshot is blank: {shot['ink']:.2%} of its pixels are not white")
        failures.check(shot["ink"] < 0.6, f"screenshot is mostly dark ({shot['ink']:.0%}): a rendering failure?")
        spread = (shot["ink_bottom"] or 0) - (shot["ink_top"] or 0)
        failures.check(spread > (300 * static["svgs"] + 300), f"screenshot ink spans only {spread} px of the page")
        failures.check(shot["coloured"] >= 500 * static["svgs"],
                       f"screenshot has only {shot['coloured']} coloured pixels for {static['svgs']} plots")
        if args.pdf:
            with open(args.pdf, "rb") as f:
                pdf = f.read()
            failures.check(pdf.startswith(b"%PDF"), f"{args.pdf} is not a PDF")
            shot["pages"] = len(re.findall(rb"/Type\s*/Page\b", pdf))
        return shot


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("report")
    ap.add_argument("--static", action="store_true", help="no browser: the file's own checks only")
    ap.add_argument("--plots", type=int, help="how many SVGs the page must have")
    ap.add_argument("--rows", type=int, help="how many trial rows the table must have")
    ap.add_argument("--screenshot", help="keep the screenshot here")
    ap.add_argument("--pdf", help="also print the page to this PDF")
    args = ap.parse_args()

    failures = Failures()
    if not os.path.isfile(args.report):
        print(f"check_report: {args.report}: no such file", file=sys.stderr)
        return 1
    static = static_checks(args.report, args, failures)
    shot = None
    if static is not None and not failures and not args.static:
        try:
            shot = browser_checks(args.report, static, args, failures)
        except RuntimeError as e:
            failures.append(str(e))
    if failures:
        print(f"check_report: {args.report}: {len(failures)} failure(s)", file=sys.stderr)
        for f in failures[:40]:
            print("  " + f, file=sys.stderr)
        return 1
    summary = (f"check_report: OK {args.report}: {static['svgs']} SVGs, {static['marks']} marks, "
               f"{static['rows']} trial rows")
    if shot:
        summary += (f"; Chromium: same DOM, no network requests, screenshot {shot['width']}x{shot['height']} "
                    f"{shot['ink']:.1%} ink over {shot['ink_bottom'] - shot['ink_top']} px")
        if "pages" in shot:
            summary += f", {shot['pages']} PDF page(s)"
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())

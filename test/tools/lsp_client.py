#!/usr/bin/env python3
"""A scripted Language Server Protocol client for testing `mlc lsp`.

Usage: lsp_client.py MLC FILE [--change FILE2] [--format] [--raw JSON... | --after-init JSON...]

Starts `MLC lsp`, initializes it, opens FILE and prints the diagnostics the
server publishes. With --change it then replaces the document's text by
FILE2's (one didChange, as editors send while typing) and prints the new
diagnostics. Then it runs every request marked in the current text: a line
comment holding `^` and a request names the position of the `^` on the
nearest line above that is not itself a marker line:

    optimizer = adamw(lr = 1e-3)
    //          ^ hover

Requests: hover, definition, completion. --format asks for the document's
formatting and prints the new text. --raw sends each message body as is
before initializing, --after-init once FILE is open, and prints each reply (for
malformed input). Finally it shuts the server down
and prints its exit code. Output lines, one per result:

    diagnostics: <n>
    diagnostic <line>:<col> <severity> <code>: <message>
    hover <line>:<col>: <markdown, newlines as ' | '>
    definition <line>:<col>: <file name>:<line>:<col>
    completion <line>:<col>: <labels, comma-separated>
    exit: <code>
Lines and columns are 1-based here (LSP's are 0-based).
"""
import json
import os
import re
import subprocess
import sys

MARKER = re.compile(r"//\s*(\^)\s*(hover|definition|completion)\b")


class Client:
    def __init__(self, mlc):
        self.proc = subprocess.Popen([mlc, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, message):
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send_raw(self, body):
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def read(self):
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit("the server closed its output")
            line = line.strip()
            if not line:
                if length is not None:
                    break
                continue
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            m = self.read()
            if m.get("id") == self.next_id:
                return m

    def notification(self, method):
        while True:
            m = self.read()
            if m.get("method") == method:
                return m["params"]


def print_diagnostics(params):
    diags = params["diagnostics"]
    print(f"diagnostics: {len(diags)}")
    for d in diags:
        start = d["range"]["start"]
        severity = {1: "error", 2: "warning"}.get(d["severity"], str(d["severity"]))
        message = d["message"].replace("\n", " | ")
        print(f"diagnostic {start['line'] + 1}:{start['character'] + 1} {severity} {d['code']}: {message}")


def markers(text):
    lines = text.split("\n")
    target = None
    for i, line in enumerate(lines):
        m = MARKER.search(line)
        if not m:
            target = i
            continue
        if target is not None:
            yield m.group(2), target, m.start(1)


def main():
    args = sys.argv[1:]
    mlc, path = args[0], os.path.abspath(args[1])
    change = args[args.index("--change") + 1] if "--change" in args else None
    raw = args[args.index("--raw") + 1:] if "--raw" in args else []
    after_init = args[args.index("--after-init") + 1:] if "--after-init" in args else []
    client = Client(mlc)
    for body in raw:
        client.send_raw(body.encode())
        print("reply:", json.dumps(client.read(), sort_keys=True))
    client.request("initialize", {"processId": os.getpid(), "rootUri": None, "capabilities": {}})
    client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    uri = "file://" + path
    text = open(path, encoding="utf-8").read()
    client.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                 "params": {"textDocument": {"uri": uri, "languageId": "mlp", "version": 1, "text": text}}})
    print_diagnostics(client.notification("textDocument/publishDiagnostics"))
    for body in after_init:
        client.send_raw(body.encode())
        print("reply:", json.dumps(client.read(), sort_keys=True))
    if change:
        text = open(change, encoding="utf-8").read()
        client.send({"jsonrpc": "2.0", "method": "textDocument/didChange",
                     "params": {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text}]}})
        print_diagnostics(client.notification("textDocument/publishDiagnostics"))
    for kind, line, col in markers(text):
        params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": col}}
        where = f"{line + 1}:{col + 1}"
        result = client.request("textDocument/" + kind, params).get("result")
        if kind == "hover":
            value = result["contents"]["value"].replace("\n", " | ") if result else "none"
            print(f"hover {where}: {value}")
        elif kind == "definition":
            if result:
                start = result["range"]["start"]
                name = os.path.basename(result["uri"])
                print(f"definition {where}: {name}:{start['line'] + 1}:{start['character'] + 1}")
            else:
                print(f"definition {where}: none")
        else:
            print(f"completion {where}: " + ", ".join(item["label"] for item in result))
    if "--format" in args:
        result = client.request("textDocument/formatting",
                                {"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}})
        edits = result.get("result")
        if not edits:
            print("format: no edits" if edits == [] else "format: none")
        else:
            print("format:")
            sys.stdout.write(edits[0]["newText"])
    client.request("shutdown", None)
    client.send({"jsonrpc": "2.0", "method": "exit"})
    print(f"exit: {client.proc.wait(timeout=10)}")


if __name__ == "__main__":
    main()

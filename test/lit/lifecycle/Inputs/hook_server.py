#!/usr/bin/env python3
"""A webhook endpoint for tests: an HTTP server on 127.0.0.1 that stores
every POST body.

  hook_server.py DIR COUNT

Binds a free port, prints it and returns at once, leaving the server in a
child process that writes the Nth POST's body to DIR/N.json (and its
Content-Type to DIR/N.type) before answering 200, and exits after COUNT
POSTs or 60 s, whichever comes first.
"""

import http.server
import os
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received += 1
        name = os.path.join(self.server.directory, str(self.server.received))
        with open(name + ".json.tmp", "wb") as f:
            f.write(body)
        os.rename(name + ".json.tmp", name + ".json")
        with open(name + ".type", "w") as f:
            f.write(self.headers.get("Content-Type", "") + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    directory, count = sys.argv[1], int(sys.argv[2])
    os.makedirs(directory, exist_ok=True)
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    server.directory, server.received = directory, 0
    server.timeout = 0.5
    print(server.server_address[1], flush=True)
    if os.fork():
        os._exit(0)
    # The child: out of the caller's way (its stdout may be a pipe it reads to the end).
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    deadline = time.monotonic() + 60
    while server.received < count and time.monotonic() < deadline:
        server.handle_request()
    os._exit(0)


if __name__ == "__main__":
    main()

"""A partner's webhook endpoint for tests: a real HTTP server that records each POST and checks signatures the
way a partner would."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hallmark.testing import free_port


class Receiver:
    """A partner's endpoint: records each POST (headers, raw body) and answers `status`."""

    def __init__(self, port: int | None = None, status: int = 200):
        self.port, self.status, self.calls = port or free_port(), status, []
        self.server = None

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), raw))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def events(self, secret: str) -> list[dict]:
        """The bodies of every call, each after checking its signature the way a partner would."""
        out = []
        for headers, raw in self.calls:
            timestamp = headers["Hallmark-Timestamp"]
            expected = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["Hallmark-Signature"], "v1=" + expected)
            assert abs(time.time() - int(timestamp)) < 300
            body = json.loads(raw)
            assert headers["Hallmark-Event-Id"] == body["id"] and headers["Hallmark-Event-Type"] == body["type"]
            out.append(body)
        return out

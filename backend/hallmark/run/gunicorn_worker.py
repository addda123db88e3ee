"""gunicorn's gthread worker, except that the answers gunicorn writes itself (a request line longer than
limit_request_line: 414; headers too large: 431; a malformed request: 400), before the app sees the request, are
JSON {code, status, message} like every other error of the API (/openapi.json's Error), not an HTML page."""
from __future__ import annotations

import json

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker as GThreadWorker


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    body = json.dumps({"code": status_int, "status": reason, "message": mesg or reason}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


class ThreadWorker(GThreadWorker):
    def init_process(self):
        # the worker answers its own errors through gunicorn.util.write_error (in this worker process only)
        util.write_error = write_json_error
        super().init_process()

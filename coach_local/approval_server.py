"""The approval pages on 127.0.0.1: each HTTP request becomes the API Gateway event the approval Lambda gets."""

from __future__ import annotations

import base64
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from coach.approvals.pages import STOP, result_page

from coach_local.dispatch import FunctionRegistry

MAX_BODY = 64 * 1024
SOCKET_TIMEOUT_SECONDS = 30
NOTHING = "Nothing was recorded. Please open the link from your email again."
REFUSALS = {
    400: "This request cannot be read",
    405: "This method is not supported",
    408: "The request took too long",
    413: "The request is too large",
    414: "The address is too long",
    431: "The request headers are too large",
}


def api_event(method: str, path: str, headers: dict[str, str], body: bytes, source_ip: str) -> dict:
    """An API Gateway REST API (payload v1) proxy event, the shape the deployed endpoint sends."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return {
        "resource": "/a/{link_id}",
        "path": path,
        "httpMethod": method,
        "headers": lowered,
        "multiValueHeaders": {k: [v] for k, v in lowered.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "prod",
            "httpMethod": method,
            "path": path,
            "identity": {"sourceIp": source_ip, "userAgent": lowered.get("user-agent", "")},
            "http": {
                "method": method,
                "path": path,
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
                "protocol": "HTTP/1.1",
            },
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


class ApprovalServer:
    def __init__(self, registry: FunctionRegistry, host: str = "127.0.0.1", port: int = 0) -> None:
        registry_ref = registry

        class Handler(BaseHTTPRequestHandler):
            server_version = "coach-approvals"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:  # no request lines (they hold link ids)
                return

            # a client that sends half a request (or a Content-Length it never fills) frees its thread after this
            timeout = SOCKET_TIMEOUT_SECONDS

            def _write(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if getattr(self, "command", None) != "HEAD":
                    self.wfile.write(data)

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                """Every refusal the server makes itself (a malformed request, an unsupported method, a bad or
                too large body) is a 4xx page with the pages' security headers, and ends the connection."""
                status = 405 if code == HTTPStatus.NOT_IMPLEMENTED else code
                page = result_page(
                    status, REFUSALS.get(status, "This request cannot be completed"), NOTHING, accent=STOP
                )
                headers = {**page.headers, "Connection": "close"}
                if status == 405:
                    headers["Allow"] = "GET, HEAD, POST"
                self.close_connection = True
                self._write(status, headers, page.html.encode())

            def _body(self) -> bytes | None:
                raw = self.headers.get("Content-Length")
                if raw is None:
                    return b""
                if not raw.strip().isdigit():  # negative, text, or several values: never read "until EOF"
                    self.send_error(400)
                    return None
                length = int(raw)
                if length > MAX_BODY:
                    self.send_error(413)
                    return None
                body = self.rfile.read(length) if length else b""
                if len(body) < length:  # the client closed before sending what it announced
                    self.send_error(400)
                    return None
                return body

            def _serve(self, method: str) -> None:
                body = self._body()
                if body is None:
                    return
                path = self.path.partition("?")[0]  # query strings are ignored, never logged
                event = api_event(method, path, dict(self.headers.items()), body, self.client_address[0])
                response = registry_ref.invoke("approval_api", event)
                headers = dict(response.get("headers") or {})
                for name, values in (response.get("multiValueHeaders") or {}).items():
                    headers.setdefault(name, values[0] if values else "")
                payload = response.get("body") or ""
                data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
                self._write(int(response.get("statusCode", 500)), headers, data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_HEAD(self) -> None:
                self._serve("HEAD")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            # it looks for a stop request this often: stopping the runtime waited up to half a second (the default)
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="approval-server",
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address (typeshed also allows bytes)
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

"""A small JSON-RPC forwarding proxy for keeper fault tests.

    with RpcProxy(chain.provider.uri) as proxy:      # listens on 127.0.0.1:<free port>
        keeper = KeeperProcess(proxy.url, ...)
        proxy.counts["eth_call"]                     # JSON-RPC calls by method (batch elements each)
        proxy.refuse("close")                        # the endpoint is gone: connections are refused
        proxy.refuse("reset")                        # connections are accepted, then reset (RST)
        proxy.resume()

Each HTTP request is forwarded to the upstream node as it is, and answered with HTTP/1.0
semantics (one request per connection), so no keep-alive connection outlives a switch to
refusing. Bounded: at most `max_connections` requests are served at once (more are reset), a
request body may be at most `max_body` bytes, and client and upstream sockets time out. `stop()`
closes the listening socket and waits (boundedly) for the requests in progress.
"""

from __future__ import annotations

import http.server
import json
import socket
import socketserver
import struct
import threading
import time
from collections import Counter

import urllib3


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True  # rebind the same port after a "close" outage
    request_queue_size = 64

    def __init__(self, proxy: "RpcProxy", address):
        self.proxy = proxy
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        proxy = self.proxy
        if proxy.mode == "reset" or not proxy._slots.acquire(timeout=5):
            proxy._note_refused()
            _reset(request)
            return
        try:
            super().process_request(request, client_address)  # starts the handler thread
        except Exception:
            proxy._slots.release()
            raise

    def handle_error(self, request, client_address):
        # A connection reset on purpose (or by an impatient client) fails the handler's last
        # flush: count it instead of printing a traceback.
        with self.proxy._lock:
            self.proxy.handler_errors += 1

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.proxy._slots.release()


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP reset instead of an orderly end."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    timeout = 30  # seconds a client may take to send its request

    def log_message(self, format, *args):  # quiet
        pass

    def do_POST(self):
        proxy: RpcProxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        if length > proxy.max_body:
            self.send_error(413, "request too large")
            return
        body = self.rfile.read(length)
        proxy._count(body)
        if proxy.mode == "reset":  # switched while this request was on its way
            proxy._note_refused()
            self.close_connection = True
            _reset(self.connection)
            return
        try:
            upstream = proxy._pool.request(
                "POST", proxy.upstream, body=body, headers={"Content-Type": "application/json"},
                timeout=urllib3.Timeout(connect=5, read=proxy.upstream_timeout), retries=False,
            )
        except Exception as exc:  # upstream down: answer like a gateway would
            proxy._note_upstream_error()
            self.send_error(502, f"upstream unavailable: {type(exc).__name__}")
            return
        self.send_response(upstream.status)
        self.send_header("Content-Type", upstream.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(upstream.data)))
        self.end_headers()
        self.wfile.write(upstream.data)

    def do_GET(self):
        self.send_error(405, "JSON-RPC takes POST")


class RpcProxy:
    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0, max_connections: int = 32,
                 max_body: int = 16 * 2**20, upstream_timeout: float = 30.0):
        self.upstream = upstream
        self.host = host
        self.port = port
        self.max_body = max_body
        self.upstream_timeout = upstream_timeout
        self.mode = "forward"  # "forward" | "close" | "reset"
        self.counts: Counter = Counter()  # JSON-RPC method -> calls
        self.requests = 0  # HTTP requests forwarded or refused after reading
        self.refused = 0  # connections reset while refusing (or over the connection bound)
        self.upstream_errors = 0
        self.handler_errors = 0
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._max_connections = max_connections
        self._pool = urllib3.PoolManager(maxsize=max_connections, block=False)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---
    def start(self) -> "RpcProxy":
        self._listen()
        return self

    def _listen(self) -> None:
        self._server = _Server(self, (self.host, self.port))
        self.port = self._server.server_address[1]  # the free port, kept across outages
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"rpc-proxy:{self.port}", daemon=True)
        self._thread.start()

    def _unlisten(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()  # stops serve_forever (waits for its loop to end)
        self._server.server_close()  # closes the listening socket: new connections are refused
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening and wait (at most `timeout` s) for requests in progress to finish."""
        self._unlisten()
        end = time.time() + timeout
        taken = 0
        while taken < self._max_connections and time.time() < end:  # every slot back = nothing in flight
            if self._slots.acquire(timeout=max(0.0, end - time.time())):
                taken += 1
        for _ in range(taken):
            self._slots.release()
        self._pool.clear()
        self.mode = "stopped"

    def __enter__(self) -> "RpcProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- faults ---
    def refuse(self, mode: str = "close") -> None:
        """"close": stop listening, so connecting fails (ECONNREFUSED); "reset": accept, then reset."""
        if mode not in ("close", "reset"):
            raise ValueError(f"mode {mode!r}: use 'close' or 'reset'")
        if mode == "close":
            self._unlisten()
        elif self._server is None:
            self._listen()
        self.mode = mode

    def resume(self) -> None:
        self.mode = "forward"
        if self._server is None:
            self._listen()

    # --- counting ---
    def _count(self, body: bytes) -> None:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        calls = payload if isinstance(payload, list) else [payload]
        with self._lock:
            self.requests += 1
            for call in calls:
                method = call.get("method") if isinstance(call, dict) else None
                self.counts[method if isinstance(method, str) else "<invalid>"] += 1

    def _note_refused(self) -> None:
        with self._lock:
            self.refused += 1

    def _note_upstream_error(self) -> None:
        with self._lock:
            self.upstream_errors += 1

    @property
    def calls(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def snapshot(self) -> Counter:
        with self._lock:
            return Counter(self.counts)

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.requests = self.refused = self.upstream_errors = 0

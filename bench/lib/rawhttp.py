"""A small HTTP/1.1 client on raw sockets (stdlib only), for what wrk cannot measure: time to
first byte / first event / last byte of streamed answers, N requests fired at once, and
connections held open. One thread, selectors (epoll): the client's own overhead is the same
whichever server it talks to, so differences between systems are the servers'."""
import http.client
import json
import selectors
import socket
import ssl
import time

DEFAULT_HEADERS = {
    "Content-Type": "application/json",
    "Authorization": "Bearer sk-bench-0000000000000000",
}


def chat_body(question, stream=False):
    s = ',"stream":true' if stream else ""
    return ('{"model":"deepseek-chat","messages":[{"role":"system","content":"You are a helpful assistant."},'
            '{"role":"user","content":"' + question + '"}],"temperature":0' + s + '}').encode()


def encode_request(path, body, extra_headers=None, method="POST"):
    headers = dict(DEFAULT_HEADERS)
    headers.update(extra_headers or {})
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def simple_request(port, method, path, body=None, headers=None, timeout=30, tls=False):
    """One blocking request: (status, lowercased headers, body). tls: HTTPS without verifying
    the certificate (the bench's own mock, on loopback)."""
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        all_headers = dict(DEFAULT_HEADERS) if body is not None else {}
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def mock_request_count(port):
    _, _, data = simple_request(port, "GET", "/_mock/stats")
    return int(json.loads(data)["requests"])


def exchange(sock, request):
    """Sends one encoded request on a kept-alive socket and reads its whole answer: the parser."""
    sock.sendall(request)
    parser = ResponseParser()
    while not parser.done:
        data = sock.recv(65536)
        if not data:
            raise SystemExit("the connection closed before the answer ended")
        parser.feed(data)
    return parser


class ResponseParser:
    """Incremental parse of one response: head, then a chunked or Content-Length body."""

    def __init__(self):
        self.buf = b""
        self.status = None
        self.headers = {}
        self.head_done = False
        self.chunked = False
        self.remaining = None   # Content-Length body bytes still expected
        self.chunk_left = None  # bytes left in the current chunk (+2 for its CRLF)
        self.body_bytes = 0
        self.done = False

    def feed(self, data):
        """Returns how many body bytes this data carried."""
        self.buf += data
        body_before = self.body_bytes
        if not self.head_done:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return 0
            head = self.buf[:end].decode("latin-1").split("\r\n")
            self.buf = self.buf[end + 4:]
            self.status = int(head[0].split()[1])
            for line in head[1:]:
                k, _, v = line.partition(":")
                self.headers[k.strip().lower()] = v.strip()
            self.head_done = True
            if "chunked" in self.headers.get("transfer-encoding", "").lower():
                self.chunked = True
            else:
                self.remaining = int(self.headers.get("content-length", "0"))
        if self.chunked:
            self._feed_chunked()
        else:
            take = min(self.remaining, len(self.buf))
            self.body_bytes += take
            self.remaining -= take
            self.buf = self.buf[take:]
            if self.remaining == 0:
                self.done = True
        return self.body_bytes - body_before

    def _feed_chunked(self):
        while not self.done:
            if self.chunk_left is None:
                end = self.buf.find(b"\r\n")
                if end < 0:
                    return
                size = int(self.buf[:end].split(b";")[0], 16)
                self.buf = self.buf[end + 2:]
                if size == 0:
                    self.chunk_left = -1  # waiting for the final CRLF (no trailers expected)
                else:
                    self.chunk_left = size + 2
            if self.chunk_left == -1:
                if len(self.buf) >= 2:
                    self.buf = self.buf[2:]
                    self.done = True
                return
            take = min(self.chunk_left, len(self.buf))
            if take == 0:
                return
            data_part = min(take, max(self.chunk_left - 2, 0))
            self.body_bytes += data_part
            self.chunk_left -= take
            self.buf = self.buf[take:]
            if self.chunk_left == 0:
                self.chunk_left = None


class Timing:
    __slots__ = ("status", "x_cache", "first_byte", "first_body", "last_byte")

    def __init__(self):
        self.status = None
        self.x_cache = None
        self.first_byte = None   # seconds from the request's send to the response's first byte
        self.first_body = None   # ... to the first body byte (the first SSE event of a stream)
        self.last_byte = None    # ... to the end of the body


class _Connection:
    def __init__(self, sock):
        self.sock = sock
        self.parser = None
        self.timing = None
        self.sent_at = 0.0
        self.pending = b""


def _connect(port, count):
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        socks.append(s)
    return socks


def run_closed_loop(port, make_request, concurrency, total, timeout=120.0):
    """`concurrency` keep-alive connections, each sending its next request when the previous
    answer ended, until `total` requests were answered. make_request(i) -> bytes.
    Returns a list of Timing (in completion order)."""
    sel = selectors.DefaultSelector()
    conns = [_Connection(s) for s in _connect(port, min(concurrency, total))]
    issued = 0
    results = []

    def send_next(conn):
        nonlocal issued
        conn.parser = ResponseParser()
        conn.timing = Timing()
        conn.sent_at = time.perf_counter()
        conn.pending = make_request(issued)
        issued += 1
        _flush(conn)

    def _flush(conn):
        try:
            n = conn.sock.send(conn.pending)
            conn.pending = conn.pending[n:]
        except BlockingIOError:
            pass
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.pending else 0)
        try:
            sel.modify(conn.sock, events, conn)
        except KeyError:
            sel.register(conn.sock, events, conn)

    for conn in conns:
        send_next(conn)
    deadline = time.monotonic() + timeout
    open_conns = len(conns)
    try:
        while len(results) < total and open_conns:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(results)} of {total} answers after {timeout}s")
            for key, mask in sel.select(timeout=1.0):
                conn = key.data
                if mask & selectors.EVENT_WRITE and conn.pending:
                    _flush(conn)
                if not mask & selectors.EVENT_READ:
                    continue
                try:
                    data = conn.sock.recv(262144)
                except BlockingIOError:
                    continue
                now = time.perf_counter() - conn.sent_at
                if not data:
                    sel.unregister(conn.sock)
                    conn.sock.close()
                    open_conns -= 1
                    continue
                t = conn.timing
                if t.first_byte is None:
                    t.first_byte = now
                if conn.parser.feed(data) and t.first_body is None:
                    t.first_body = now
                if conn.parser.done:
                    t.last_byte = now
                    t.status = conn.parser.status
                    t.x_cache = conn.parser.headers.get("x-cache")
                    results.append(t)
                    if issued < total:
                        send_next(conn)
    finally:
        for conn in conns:
            try:
                sel.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
            conn.sock.close()
        sel.close()
    return results


def open_streams(port, requests, timeout=120.0):
    """Sends each request on its own connection and waits until every response's head arrived.
    Returns the open sockets (the caller closes them) and how many answered with 200."""
    socks = _connect(port, len(requests))
    sel = selectors.DefaultSelector()
    pending = {}
    for s, req in zip(socks, requests):
        s.setblocking(True)
        s.sendall(req)
        s.setblocking(False)
        pending[s] = ResponseParser()
        sel.register(s, selectors.EVENT_READ)
    ok = 0
    deadline = time.monotonic() + timeout
    try:
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1.0):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                parser = pending.get(s)
                if parser is None:
                    continue
                if not data:
                    del pending[s]
                    sel.unregister(s)
                    continue
                parser.feed(data)
                if parser.head_done:
                    ok += parser.status == 200
                    del pending[s]
                    sel.unregister(s)
    finally:
        sel.close()
    return socks, ok, len(pending)


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100.0 * (len(ordered) - 1)))))
    return ordered[index]

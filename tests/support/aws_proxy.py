"""A counting, fault-injecting loopback reverse proxy for AWS API calls.

``AwsProxy`` sits between the code under test (boto3 / ansible modules, via
``endpoint_url`` / ``AWS_URL``) and an upstream AWS emulator (moto).  It

* forwards every request (method, path, headers, body) and relays the answer
  with an exact ``Content-Length`` (HTTP/1.1 keep-alive works);
* counts API calls by op and keeps an ordered call log (service, op, region
  from the SigV4 credential scope, secret id, status, fault, timing);
* injects seeded, reproducible faults (throttling, 500s, connections dropped
  before or after the service did the work, latency);
* imitates Secrets Manager's request quotas and a round-trip latency
  (``set_quotas``);
* runs custom rules that script real-AWS behaviour moto lacks (eventual
  consistency of ListSecrets, AccessDenied on one secret, a secret scheduled
  for deletion, ...).

In-process use (pytest, the benchmark)::

    with AwsProxy(moto.url) as proxy:
        client = boto3.client("secretsmanager", endpoint_url=proxy.url, ...)
        proxy.set_faults(rate=0.2, seed=1234, kinds=("throttle",))
        ...
        assert proxy.write_count() == 0

Molecule runs it in the launcher's process (``python -m tests.support.moto start --proxy``) and reads the counters
over HTTP (never forwarded upstream)::

    GET    /__proxy__/stats    -> JSON: ops (calls by op), write_count

What a client sees for the fault kinds (botocore 1.4x, urllib3 2.x):

* ``throttle``    -> HTTP 400 ``ThrottlingException`` (botocore retries it as a throttle);
* ``internal``    -> HTTP 500 ``InternalServiceError`` (retried as a transient error);
* ``drop_before`` / ``drop_after`` -> the TCP connection is closed cleanly (FIN)
  without any response bytes; botocore raises
  ``botocore.exceptions.ConnectionClosedError`` ("Connection was closed before
  we received a valid response from endpoint URL") and its retry handlers
  treat it as retryable.  With ``drop_after`` the upstream has already
  performed the call.
"""

from __future__ import annotations

import collections
import dataclasses
import http.client
import json
import random
import re
import socket
import socketserver
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable

__all__ = [
    "AwsProxy",
    "AWS_QUOTAS",
    "FAULT_KINDS",
    "WRITE_OPERATIONS",
    "READ_OPERATIONS",
    "SECRETSMANAGER_OPERATIONS",
    "error_response",
    "json_response",
    "secret_matches",
    "eventual_consistency_hide_new",
    "access_denied_for",
    "scheduled_for_deletion",
]

CONTROL_PREFIX = "/__proxy__/"
UPSTREAM_TIMEOUT_SECONDS = 120.0

WRITE_OPERATIONS = frozenset({
    "CreateSecret",
    "UpdateSecret",
    "PutSecretValue",
    "DeleteSecret",
    "RestoreSecret",
    "TagResource",
    "UntagResource",
    "PutResourcePolicy",
    "DeleteResourcePolicy",
    "RotateSecret",
    "CancelRotateSecret",
    "ReplicateSecretToRegions",
    "RemoveRegionsFromReplication",
    "StopReplicationToReplica",
    "UpdateSecretVersionStage",
    # Newer mutating operations of the Secrets Manager API (botocore >= 1.40).
    "AssociateCrossAccountReplica",
    "DisassociateCrossAccountReplica",
})

READ_OPERATIONS = frozenset({
    "BatchGetSecretValue",
    "DescribeSecret",
    "GetRandomPassword",
    "GetResourcePolicy",
    "GetSecretValue",
    "ListResourcePolicies",
    "ListSecretVersionIds",
    "ListSecrets",
    "ValidateResourcePolicy",
})

SECRETSMANAGER_OPERATIONS = WRITE_OPERATIONS | READ_OPERATIONS

FAULT_KINDS = ("throttle", "internal", "drop_before", "drop_after")

# Secrets Manager's per-region request quotas as AWS publishes them (requests per second, not
# adjustable), by API class: the service side of what the module's client-side rate limiter expects.
AWS_QUOTAS: dict[str, tuple[float, frozenset]] = {
    "CreateSecret": (50, frozenset({"CreateSecret"})),
    "DeleteSecret": (50, frozenset({"DeleteSecret"})),
    "GetRandomPassword": (50, frozenset({"GetRandomPassword"})),
    "RestoreSecret": (50, frozenset({"RestoreSecret"})),
    "versions": (50, frozenset({"PutSecretValue", "UpdateSecret", "UpdateSecretVersionStage",
                                "RemoveRegionsFromReplication", "ReplicateSecretToRegions",
                                "StopReplicationToReplica"})),
    "rotation": (50, frozenset({"RotateSecret", "CancelRotateSecret"})),
    "tags": (50, frozenset({"TagResource", "UntagResource"})),
    "policies": (50, frozenset({"PutResourcePolicy", "DeleteResourcePolicy", "GetResourcePolicy",
                                "ValidateResourcePolicy"})),
    "ListSecrets": (100, frozenset({"ListSecrets"})),
    "BatchGetSecretValue": (100, frozenset({"BatchGetSecretValue"})),
}


class _QuotaBuckets:
    """AWS's token buckets: each class refills at its rate and holds ``burst_seconds`` of it."""

    def __init__(self, quotas: dict[str, tuple[float, Iterable[str]]], burst_seconds: float):
        self._class_of = {op: name for name, (_rate, ops) in quotas.items() for op in ops}
        self._rate = {name: float(rate) for name, (rate, _ops) in quotas.items()}
        self._capacity = {name: float(rate) * burst_seconds for name, (rate, _ops) in quotas.items()}
        self._tokens = dict(self._capacity)
        self._stamp = {name: time.monotonic() for name in quotas}
        self.burst_seconds = burst_seconds
        self.throttled: collections.Counter = collections.Counter()
        self._lock = threading.Lock()

    def admit(self, op: str | None) -> bool:
        """Take a token for ``op``; False (throttle it) when its class has none left."""
        name = self._class_of.get(op)
        if name is None:
            return True
        with self._lock:
            now = time.monotonic()
            refill = (now - self._stamp[name]) * self._rate[name]
            self._tokens[name] = min(self._capacity[name], self._tokens[name] + refill)
            self._stamp[name] = now
            if self._tokens[name] >= 1.0:
                self._tokens[name] -= 1.0
                return True
            self.throttled[op] += 1
            return False

    def describe(self) -> dict:
        with self._lock:
            return {"rates": dict(self._rate), "burst_seconds": self.burst_seconds,
                    "throttled": dict(self.throttled)}


MARKED_FOR_DELETION_MESSAGE = (
    "You can't perform this operation on the secret because it was marked for deletion."
)

# Hop-by-hop headers (RFC 9110 7.6.1) plus the ones we recompute ourselves.
_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "content-length", "expect",
})

_SCOPE_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")


Response = tuple  # (status:int, headers:dict|list[tuple], body:bytes)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _request_id() -> str:
    return str(uuid.uuid4())


def json_response(status: int, payload: Any, headers: dict | None = None) -> Response:
    """Build an AWS JSON-protocol response tuple."""
    hdrs = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": _request_id()}
    hdrs.update(headers or {})
    return status, hdrs, json.dumps(payload).encode()


def error_response(code: str, message: str, status: int = 400, protocol: str = "json") -> Response:
    """Build an AWS error response tuple for the JSON (default) or query protocol."""
    if protocol == "query":
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{_xml_escape(code)}</Code>"
            f"<Message>{_xml_escape(message)}</Message></Error>"
            f"<RequestId>{_request_id()}</RequestId></ErrorResponse>"
        ).encode()
        return status, {"Content-Type": "text/xml", "x-amzn-RequestId": _request_id()}, body
    return json_response(status, {"__type": code, "message": message}, {"x-amzn-ErrorType": code})


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _arn_name_parts(value: str) -> set[str]:
    """Names a secret id may stand for: itself, plus for an ARN its name with and without suffix."""
    out = {value}
    if value.startswith("arn:") and ":secret:" in value:
        name = value.split(":secret:", 1)[1]
        out.add(name)
        match = re.fullmatch(r"(.+)-[A-Za-z0-9]{6}", name)
        if match:
            out.add(match.group(1))
    return out


def secret_matches(secret_id: Any, name: str) -> bool:
    """True if ``secret_id`` (a name, full or partial ARN) designates the secret ``name``.

    ``name`` itself may be a plain name or an ARN.
    """
    if not isinstance(secret_id, str) or not secret_id or not name:
        return False
    if secret_id == name:
        return True
    return bool(_arn_name_parts(secret_id) & _arn_name_parts(name))


def _json_or_none(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None


def _secret_ids(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    ids = [body[k] for k in ("SecretId", "Name") if isinstance(body.get(k), str)]
    if isinstance(body.get("SecretIdList"), list):
        ids.extend(x for x in body["SecretIdList"] if isinstance(x, str))
    return ids


# ---------------------------------------------------------------------------
# call model
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class ApiCall:
    """One request that reached the proxy (not the control plane)."""

    index: int
    service: str | None
    op: str | None
    region: str | None
    secret_id: str | None
    protocol: str  # "json" | "query" | "rest"
    body: Any  # parsed JSON (json), dict of form fields (query), raw bytes (rest)
    started: float
    status: int | None = None  # what the client received; None if dropped
    fault: str | None = None  # injected fault kind, "quota", "rule" or None
    duration: float | None = None

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "service": self.service,
            "op": self.op,
            "region": self.region,
            "secret_id": self.secret_id,
            "status": self.status,
            "fault": self.fault,
            "started": self.started,
            "duration": self.duration,
        }


@dataclasses.dataclass
class _FaultConfig:
    rate: float
    seed: int
    ops: frozenset | None
    kinds: tuple
    latency: tuple | None
    rng: random.Random


def _parse_call(method: str, path: str, headers, body: bytes) -> tuple[str | None, str | None, str | None, str, Any]:
    """Return ``(service, op, region, protocol, parsed_body)`` of a request."""
    service = region = None
    auth = headers.get("Authorization", "") or ""
    match = _SCOPE_RE.search(auth)
    if not match:
        query = urllib.parse.urlsplit(path).query
        cred = urllib.parse.parse_qs(query).get("X-Amz-Credential", [""])[0]
        match = _SCOPE_RE.search("Credential=" + cred) if cred else None
    if match:
        region, service = match.group(3), match.group(4)

    target = headers.get("X-Amz-Target")
    if target:
        prefix, _dot, op = target.partition(".")
        if not op:
            prefix, op = "", target
        if not service and prefix:
            service = prefix.lower()
        return service, op, region, "json", _json_or_none(body)

    ctype = (headers.get("Content-Type") or "").lower()
    form: dict[str, str] = {}
    if "application/x-www-form-urlencoded" in ctype and body:
        fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        form.update({k: v[0] for k, v in fields.items()})
    query = urllib.parse.urlsplit(path).query
    if query:
        for key, vals in urllib.parse.parse_qs(query, keep_blank_values=True).items():
            form.setdefault(key, vals[0])
    if "Action" in form:
        return service, form["Action"], region, "query", form

    bare_path = urllib.parse.urlsplit(path).path
    return service, f"{method} {bare_path}", region, "rest", body


# ---------------------------------------------------------------------------
# the proxy
# ---------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # don't join idle keep-alive handler threads on close
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, proxy: "AwsProxy"):
        self.proxy = proxy
        self._conns: set = set()
        self._conns_lock = threading.Lock()
        super().__init__(addr, handler)

    def server_bind(self):
        # HTTPServer.server_bind() calls socket.getfqdn(), i.e. a reverse DNS
        # lookup; skip it, we only ever bind loopback.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def process_request(self, request, client_address):
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self):
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "envops-aws-proxy"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are closed after this many seconds

    # -- plumbing --------------------------------------------------------
    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY the
        # second one waits for the peer's delayed ACK (~40 ms per call).
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        pass  # no access log

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until an empty line
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_raw(self, status: int, headers, body: bytes, *, head: bool = False) -> None:
        items = headers.items() if isinstance(headers, dict) else list(headers or [])
        self.send_response_only(status)
        upstream_length = None
        for key, value in items:
            lk = key.lower()
            if lk == "content-length":
                upstream_length = value
            if lk in _HOP_BY_HOP:
                continue
            self.send_header(key, value)
        if head:
            self.send_header("Content-Length", upstream_length or str(len(body)))
        else:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and not head and status not in (204, 304):
            self.wfile.write(body)
        self.wfile.flush()

    def drop(self) -> None:
        """Close the client connection cleanly without sending a single byte."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _dispatch(self):
        proxy = self.server.proxy
        try:
            body = self._read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        try:
            if self.path.startswith(CONTROL_PREFIX):
                proxy._control(self, body)
            else:
                proxy._proxy(self, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # never let a harness bug hang the client
            proxy._record_error(f"{self.command} {self.path}: {exc!r}\n{traceback.format_exc()}")
            try:
                self.close_connection = True
                self.send_raw(*error_response("ProxyError", f"aws_proxy internal error: {exc!r}", 502))
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


class AwsProxy:
    """Counting, fault-injecting reverse proxy bound to 127.0.0.1.

    :param upstream: base URL of the upstream (e.g. ``MotoServer.url``).
    :param port: port to listen on (``0`` = pick a free one).
    """

    def __init__(self, upstream: str, port: int = 0, *, host: str = "127.0.0.1"):
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or not parsed.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream!r}")
        if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("AwsProxy only forwards to a loopback upstream")
        self.upstream = upstream.rstrip("/")
        self._up_host = parsed.hostname
        self._up_port = parsed.port or 80
        self._up_prefix = parsed.path.rstrip("/")
        self._host = host
        self._port = port
        self._lock = threading.RLock()
        self._calls: list[ApiCall] = []
        self._errors: list[str] = []
        self._next_index = 0
        self._faults: _FaultConfig | None = None
        self._quotas: _QuotaBuckets | None = None
        self._latency = 0.0
        self._request_rules: list[tuple[Any, Callable]] = []
        self._response_hooks: list[tuple[Any, Callable]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------
    def start(self) -> "AwsProxy":
        if self._server is not None:
            return self
        self._server = _Server((self._host, self._port), _Handler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"aws-proxy-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_all_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> "AwsProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("AwsProxy is not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def __repr__(self) -> str:
        where = self.url if self._server else "stopped"
        return f"<AwsProxy {where} -> {self.upstream}>"

    # -- counters ------------------------------------------------------
    def calls(self, op: str | None = None, *, service: str | None = None) -> list[dict]:
        """The ordered call log as dicts ``{index, service, op, region, secret_id, status, ...}``."""
        with self._lock:
            return [c.as_dict() for c in self._calls
                    if (op is None or c.op == op) and (service is None or c.service == service)]

    def counts(self) -> collections.Counter:
        """``Counter`` of op names (``{"CreateSecret": 1, "ListSecrets": 2}``)."""
        with self._lock:
            return collections.Counter(c.op for c in self._calls)

    def write_count(self) -> int:
        """Number of calls whose op is in :data:`WRITE_OPERATIONS`: every attempt, retried or faulted ones too."""
        with self._lock:
            return sum(1 for c in self._calls if c.op in WRITE_OPERATIONS)

    def errors(self) -> list[str]:
        """Internal proxy errors (exceptions in rules, upstream unreachable...)."""
        with self._lock:
            return list(self._errors)

    def reset(self) -> None:
        """Clear counters, the call log and recorded errors (faults and rules stay)."""
        with self._lock:
            self._calls.clear()
            self._errors.clear()
            self._next_index = 0

    def stats(self) -> dict:
        """What ``GET /__proxy__/stats`` returns (Molecule's verify steps read it)."""
        with self._lock:
            return {"ops": dict(self.counts()), "write_count": self.write_count()}

    def _record_error(self, text: str) -> None:
        with self._lock:
            self._errors.append(text)
        sys.stderr.write(f"aws_proxy error: {text}\n")

    # -- faults --------------------------------------------------------
    def set_faults(self, rate: float = 0.2, seed: int = 1234, ops: Iterable[str] | None = None,
                   kinds: Iterable[str] = FAULT_KINDS,
                   latency: tuple[float, float] | None = None) -> None:
        """Inject faults into matching calls from now on.

        Every matching call (``ops`` = op names, or ``None`` for all) draws from
        ``random.Random(seed)``: with probability ``rate`` it gets a fault whose
        kind is drawn uniformly from ``kinds``; if ``latency=(min_s, max_s)`` it
        is also delayed by a uniform draw.  The same seed and the same sequence
        of calls always give the same faults.
        """
        kinds = tuple(kinds)
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        if rate > 0 and not kinds:
            raise ValueError("kinds must not be empty when rate > 0")
        if not 0 <= rate <= 1:
            raise ValueError("rate must be within [0, 1]")
        if latency is not None:
            lo, hi = latency
            if lo < 0 or hi < lo:
                raise ValueError("latency must be (min_s, max_s) with 0 <= min_s <= max_s")
            latency = (float(lo), float(hi))
        with self._lock:
            self._faults = _FaultConfig(
                rate=float(rate), seed=seed, ops=frozenset(ops) if ops is not None else None,
                kinds=kinds, latency=latency, rng=random.Random(seed),
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = None

    # -- real-AWS pacing -----------------------------------------------
    def set_quotas(self, quotas: dict | None = None, *, latency: float = 0.0, burst_seconds: float = 1.0) -> None:
        """Answer ThrottlingException over AWS's per-class rates, and delay every call by ``latency`` s.

        ``quotas`` maps a class name to ``(rate per second, operations)``; ``None`` means AWS_QUOTAS.
        The buckets start full, as an idle account's do.
        """
        if latency < 0 or burst_seconds <= 0:
            raise ValueError("latency must be >= 0 and burst_seconds > 0")
        buckets = _QuotaBuckets(AWS_QUOTAS if quotas is None else quotas, burst_seconds)
        with self._lock:
            self._quotas = buckets
            self._latency = float(latency)

    def clear_quotas(self) -> None:
        with self._lock:
            self._quotas = None
            self._latency = 0.0

    def quota_stats(self) -> dict | None:
        with self._lock:
            quotas = self._quotas
            latency = self._latency
        return dict(quotas.describe(), latency=latency) if quotas else None

    def _draw_fault(self, call: ApiCall) -> tuple[str | None, float]:
        with self._lock:
            cfg = self._faults
            if cfg is None:
                return None, 0.0
            if cfg.ops is not None and call.op not in cfg.ops:
                return None, 0.0
            kind = None
            if cfg.rate > 0 and cfg.rng.random() < cfg.rate:
                kind = cfg.rng.choice(cfg.kinds)
            delay = cfg.rng.uniform(*cfg.latency) if cfg.latency else 0.0
            return kind, delay

    # -- rules ---------------------------------------------------------
    def add_rule(self, rule: Any) -> Any:
        """Register a rule; returns it (so ``rule = proxy.add_rule(access_denied_for("x"))``).

        A rule is either

        * a callable ``(service, op, body, call_index) -> None | (status, headers, body_bytes)``
          consulted before a call is forwarded (first non-``None`` answer wins;
          ``body`` is the parsed JSON body, the form fields dict for the query
          protocol, or raw bytes), or
        * an object with an ``on_request`` method of that signature and/or an
          ``on_response(service, op, request_body, status, response_body_bytes) -> new_body | None``
          method (``new_body``: bytes, str or a JSON-serialisable object).
        """
        added = False
        with self._lock:
            if callable(getattr(rule, "on_request", None)):
                self._request_rules.append((rule, rule.on_request))
                added = True
            if callable(getattr(rule, "on_response", None)):
                self._response_hooks.append((rule, rule.on_response))
                added = True
            if not added:
                if not callable(rule):
                    raise TypeError(f"rule {rule!r} is neither callable nor has on_request/on_response")
                self._request_rules.append((rule, rule))
        return rule

    def clear_rules(self) -> None:
        with self._lock:
            self._request_rules.clear()
            self._response_hooks.clear()

    # -- request handling ------------------------------------------------
    def _new_call(self, method: str, path: str, headers, body: bytes) -> ApiCall:
        service, op, region, protocol, parsed = _parse_call(method, path, headers, body)
        secret_id = None
        if isinstance(parsed, dict) and protocol == "json":
            for key in ("SecretId", "Name"):
                if isinstance(parsed.get(key), str):
                    secret_id = parsed[key]
                    break
        with self._lock:
            call = ApiCall(index=self._next_index, service=service, op=op, region=region,
                           secret_id=secret_id, protocol=protocol, body=parsed, started=time.monotonic())
            self._next_index += 1
            self._calls.append(call)
        return call

    def _finish(self, call: ApiCall, status: int | None) -> None:
        with self._lock:
            call.status = status
            call.duration = time.monotonic() - call.started

    def _proxy(self, handler: _Handler, body: bytes) -> None:
        call = self._new_call(handler.command, handler.path, handler.headers, body)
        head = handler.command == "HEAD"
        kind, delay = self._draw_fault(call)
        with self._lock:
            quotas, latency = self._quotas, self._latency
        if delay or latency:
            time.sleep(delay + latency)
        if kind is None and quotas is not None and not quotas.admit(call.op):
            kind = "quota"
        if kind:
            call.fault = kind
        if kind in ("throttle", "quota"):
            if call.protocol == "query":
                resp = error_response("Throttling", "Rate exceeded", 400, "query")
            else:
                resp = error_response("ThrottlingException", "Rate exceeded", 400)
            self._finish(call, resp[0])
            handler.send_raw(*resp, head=head)
            return
        if kind == "internal":
            resp = error_response(
                "InternalServiceError" if call.protocol != "query" else "InternalFailure",
                "An error occurred on the server side (injected by aws_proxy).", 500,
                "query" if call.protocol == "query" else "json")
            self._finish(call, resp[0])
            handler.send_raw(*resp, head=head)
            return
        if kind == "drop_before":
            self._finish(call, None)
            handler.drop()
            return

        drop_after = kind == "drop_after"
        with self._lock:
            rules = list(self._request_rules)
        resp = None
        for _owner, fn in rules:
            answer = fn(call.service, call.op, call.body, call.index)
            if answer is None:
                continue
            status, headers, payload = answer
            if isinstance(payload, str):
                payload = payload.encode()
            resp = (int(status), headers, payload)
            call.fault = call.fault or "rule"
            break

        if resp is None:
            resp = self._forward(handler, body, call)
            if resp is None:  # upstream failure, already answered
                return
            resp = self._apply_response_hooks(call, resp)

        if drop_after:
            self._finish(call, None)
            handler.drop()
            return
        self._finish(call, resp[0])
        handler.send_raw(*resp, head=head)

    def _forward(self, handler: _Handler, body: bytes, call: ApiCall) -> Response | None:
        conn = http.client.HTTPConnection(self._up_host, self._up_port, timeout=UPSTREAM_TIMEOUT_SECONDS)
        try:
            conn.putrequest(handler.command, self._up_prefix + handler.path,
                            skip_host=True, skip_accept_encoding=True)
            has_host = False
            for key, value in handler.headers.items():
                lk = key.lower()
                if lk in _HOP_BY_HOP:
                    continue
                if lk == "host":
                    has_host = True
                conn.putheader(key, value)
            if not has_host:
                conn.putheader("Host", f"{self._up_host}:{self._up_port}")
            if body or handler.command in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            upstream = conn.getresponse()
            payload = upstream.read()
            headers = upstream.getheaders()
            status = upstream.status
        except (OSError, http.client.HTTPException) as exc:
            self._record_error(f"upstream {self.upstream} failed for {call.op}: {exc!r}")
            resp = error_response("ProxyUpstreamError", f"aws_proxy could not reach upstream: {exc!r}", 502)
            self._finish(call, resp[0])
            handler.close_connection = True
            handler.send_raw(*resp)
            return None
        finally:
            conn.close()
        return status, headers, payload

    def _apply_response_hooks(self, call: ApiCall, resp: Response) -> Response:
        with self._lock:
            hooks = list(self._response_hooks)
        status, headers, payload = resp
        for _owner, hook in hooks:
            new = hook(call.service, call.op, call.body, status, payload)
            if new is None:
                continue
            if isinstance(new, str):
                new = new.encode()
            elif not isinstance(new, (bytes, bytearray)):
                new = json.dumps(new).encode()
            payload = bytes(new)
        return status, headers, payload

    # -- control plane -------------------------------------------------
    def _control(self, handler: _Handler, body: bytes) -> None:  # noqa: ARG002 - no endpoint takes a body
        path = urllib.parse.urlsplit(handler.path).path[len(CONTROL_PREFIX):].strip("/")
        if path == "stats" and handler.command == "GET":
            return handler.send_raw(*json_response(200, self.stats()))
        return handler.send_raw(*json_response(404, {"error": f"no control endpoint {handler.command} /{path}"}))


# ---------------------------------------------------------------------------
# ready-made rules
# ---------------------------------------------------------------------------

def _is_sm(service: str | None, op: str | None) -> bool:
    return service in (None, "secretsmanager") and op in SECRETSMANAGER_OPERATIONS


class EventualConsistencyHideNew:
    """ListSecrets omits secrets created through the proxy less than ``seconds`` ago."""

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self._created: dict[str, float] = {}  # name or ARN -> monotonic time of creation
        self._lock = threading.Lock()

    def _recent(self, *ids: Any) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(isinstance(i, str) and now - self._created.get(i, -1e18) < self.seconds for i in ids)

    def on_response(self, service, op, request_body, status, response_body):
        if not _is_sm(service, op) or status != 200:
            return None
        if op == "CreateSecret":
            now = time.monotonic()
            resp = _json_or_none(response_body) or {}
            with self._lock:
                for key in (request_body or {}).get("Name"), resp.get("Name"), resp.get("ARN"):
                    if isinstance(key, str):
                        self._created[key] = now
            return None
        if op == "ListSecrets":
            resp = _json_or_none(response_body)
            if not isinstance(resp, dict) or not isinstance(resp.get("SecretList"), list):
                return None
            kept = [s for s in resp["SecretList"] if not self._recent(s.get("Name"), s.get("ARN"))]
            if len(kept) == len(resp["SecretList"]):
                return None
            resp["SecretList"] = kept
            return resp
        return None

    def __repr__(self) -> str:
        return f"eventual_consistency_hide_new({self.seconds})"


class _SecretScopedRule:
    """Base for rules about one secret (by name or ARN)."""

    def __init__(self, secret_name: str, ops: Iterable[str] | None = None):
        self.secret_name = secret_name
        self.ops = frozenset(ops) if ops is not None else None

    def _applies(self, op: str | None) -> bool:
        return self.ops is None or op in self.ops

    def _matches(self, body: Any) -> str | None:
        for sid in _secret_ids(body):
            if secret_matches(sid, self.secret_name):
                return sid
        return None

    def _split_batch(self, response_body: bytes, code: str, message: str) -> Any:
        resp = _json_or_none(response_body)
        if not isinstance(resp, dict) or not isinstance(resp.get("SecretValues"), list):
            return None
        kept, errors = [], list(resp.get("Errors") or [])
        for value in resp["SecretValues"]:
            if secret_matches(value.get("Name"), self.secret_name) or secret_matches(value.get("ARN"), self.secret_name):
                errors.append({"SecretId": value.get("ARN") or value.get("Name"), "ErrorCode": code, "Message": message})
            else:
                kept.append(value)
        if len(kept) == len(resp["SecretValues"]):
            return None
        resp["SecretValues"], resp["Errors"] = kept, errors
        return resp


class AccessDeniedFor(_SecretScopedRule):
    """400 ``AccessDeniedException`` for calls on one secret (optionally only some ops).

    BatchGetSecretValue is not refused as a whole: the secret moves from
    ``SecretValues`` to ``Errors`` (as real AWS does for per-secret denials).
    """

    def _message(self, op: str, resource: str) -> str:
        return (f"User: arn:aws:iam::123456789012:user/envops-test is not authorized to perform: "
                f"secretsmanager:{op} on resource: {resource} because no identity-based policy "
                f"allows the secretsmanager:{op} action")

    def on_request(self, service, op, body, call_index):  # noqa: ARG002
        if not _is_sm(service, op) or not self._applies(op) or op == "BatchGetSecretValue":
            return None
        sid = self._matches(body)
        if sid is None:
            return None
        return error_response("AccessDeniedException", self._message(op, sid), 400)

    def on_response(self, service, op, request_body, status, response_body):  # noqa: ARG002
        if op != "BatchGetSecretValue" or status != 200 or not _is_sm(service, op) or not self._applies(op):
            return None
        return self._split_batch(response_body, "AccessDeniedException",
                                 self._message("GetSecretValue", self.secret_name))

    def __repr__(self) -> str:
        return f"access_denied_for({self.secret_name!r}, ops={sorted(self.ops) if self.ops else None})"


class ScheduledForDeletion(_SecretScopedRule):
    """Make one secret look scheduled for deletion.

    * every op on it except RestoreSecret, DescribeSecret and List* gets
      400 ``InvalidRequestException`` (CreateSecret of that name gets AWS's
      "already scheduled for deletion" wording);
    * DescribeSecret shows a ``DeletedDate``; ListSecrets hides it unless
      ``IncludePlannedDeletion`` is true (then it carries ``DeletedDate``);
    * BatchGetSecretValue reports it in ``Errors``;
    * once a RestoreSecret for it succeeds upstream, the rule switches itself off
      (``active`` becomes False), as the secret would be restored in AWS.
    """

    EXEMPT = frozenset({"RestoreSecret", "DescribeSecret"})

    def __init__(self, secret_name: str):
        super().__init__(secret_name)
        self.active = True
        self.deleted_date = time.time() - 3600

    def on_request(self, service, op, body, call_index):  # noqa: ARG002
        if not self.active or not _is_sm(service, op):
            return None
        if op in self.EXEMPT or op.startswith("List") or op == "BatchGetSecretValue":
            return None
        if self._matches(body) is None:
            return None
        if op == "CreateSecret":
            return error_response(
                "InvalidRequestException",
                "You can't create this secret because a secret with this name is already scheduled for deletion.")
        return error_response("InvalidRequestException", MARKED_FOR_DELETION_MESSAGE)

    def on_response(self, service, op, request_body, status, response_body):
        if not self.active or not _is_sm(service, op) or status != 200:
            return None
        if op == "RestoreSecret":
            if self._matches(request_body) is not None:
                self.active = False
            return None
        if op == "DescribeSecret":
            if self._matches(request_body) is None:
                return None
            resp = _json_or_none(response_body)
            if isinstance(resp, dict):
                if not resp.get("DeletedDate"):
                    resp["DeletedDate"] = self.deleted_date
                return resp
            return None
        if op == "ListSecrets":
            resp = _json_or_none(response_body)
            if not isinstance(resp, dict) or not isinstance(resp.get("SecretList"), list):
                return None
            include = bool((request_body or {}).get("IncludePlannedDeletion"))
            out = []
            for entry in resp["SecretList"]:
                if secret_matches(entry.get("Name"), self.secret_name) or secret_matches(entry.get("ARN"), self.secret_name):
                    if not include:
                        continue
                    entry = dict(entry, DeletedDate=entry.get("DeletedDate") or self.deleted_date)
                out.append(entry)
            resp["SecretList"] = out
            return resp
        if op == "BatchGetSecretValue":
            return self._split_batch(response_body, "InvalidRequestException", MARKED_FOR_DELETION_MESSAGE)
        return None

    def __repr__(self) -> str:
        return f"scheduled_for_deletion({self.secret_name!r}, active={self.active})"


def eventual_consistency_hide_new(seconds: float) -> EventualConsistencyHideNew:
    """Rule: ListSecrets omits secrets whose CreateSecret passed through the proxy < ``seconds`` ago."""
    return EventualConsistencyHideNew(seconds)


def access_denied_for(secret_name: str, ops: Iterable[str] | None = None) -> AccessDeniedFor:
    """Rule: 400 AccessDeniedException for calls (of ``ops``, default all) on that secret name/ARN."""
    return AccessDeniedFor(secret_name, ops)


def scheduled_for_deletion(secret_name: str) -> ScheduledForDeletion:
    """Rule: the secret behaves as if scheduled for deletion (see :class:`ScheduledForDeletion`)."""
    return ScheduledForDeletion(secret_name)

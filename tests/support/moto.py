"""Run a real ``moto_server`` subprocess on a free loopback port.

Usage from Python::

    with MotoServer() as moto:
        client = boto3.client("secretsmanager", endpoint_url=moto.url, ...)
        ...
        moto.reset()

``MotoServer`` serves pytest (tests/integration/conftest.py) and the benchmark (tests/benchmarks), which own
moto for as long as they run. Molecule's create/destroy playbooks and the demo need a moto that outlives the
command that started it, so the same class runs behind a detached process::

    python -m tests.support.moto start --state-dir DIR [--proxy]   moto (and the counting proxy) in the background;
                                                                  prints and writes DIR/moto.json (URLs, PID)
    python -m tests.support.moto stop --state-dir DIR              stops them (by the PID in DIR/moto.json)

A ``moto_server`` process rather than moto's in-process ``ThreadedMotoServer``: moto's work stays out of the
interpreter that runs the proxy and the benchmark's clock (no GIL shared with them), and it can outlive
``ansible-playbook`` runs and Molecule's create/destroy steps.

Only the standard library is used here; all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["MotoServer", "MotoServerError", "find_moto_server", "free_port", "http_request", "start", "stop"]

HOST = "127.0.0.1"

# An opener that never consults *_proxy environment variables: every request
# made by the harness goes straight to 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MotoServerError(RuntimeError):
    """moto_server could not be started (or died)."""


def free_port(host: str = HOST) -> int:
    """Return a TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def find_moto_server() -> str:
    """Locate the ``moto_server`` executable.

    Prefer the one next to ``sys.executable`` (the venv running the tests),
    fall back to ``$PATH``.
    """
    candidate = Path(sys.executable).parent / "moto_server"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which("moto_server")
    if found:
        return found
    raise MotoServerError(
        f"moto_server not found next to {sys.executable} nor on PATH; "
        "install moto[server] into the test venv"
    )


def http_request(method: str, url: str, data: bytes | None = None, timeout: float = 10.0,
                 headers: dict | None = None) -> tuple[int, bytes]:
    """Tiny proxy-free HTTP helper: returns ``(status, body)``; never raises on HTTP errors."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class MotoServer:
    """A ``moto_server`` subprocess bound to 127.0.0.1 on a free port.

    :param port: port to bind; ``0`` (default) picks a free one.
    :param startup_timeout: seconds to wait for ``GET /moto-api/`` to answer.
    :param log_path: file receiving moto's stdout+stderr (default: a temp file,
        removed on :meth:`stop`).
    """

    def __init__(self, port: int = 0, *, host: str = HOST, startup_timeout: float = 30.0,
                 log_path: str | os.PathLike | None = None, env: dict | None = None):
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("MotoServer only binds to loopback")
        self.host = host
        self.requested_port = int(port)
        self.port: int | None = None
        self.startup_timeout = startup_timeout
        self._log_path = Path(log_path) if log_path else None
        self._own_log = log_path is None
        self._log_file = None
        self._env = env
        self.proc: subprocess.Popen | None = None

    # -- lifecycle -----------------------------------------------------
    @property
    def url(self) -> str:
        if self.port is None:
            raise MotoServerError("MotoServer is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> "MotoServer":
        if self.running:
            return self
        binary = find_moto_server()
        # A port picked by free_port() may be grabbed by somebody else before
        # moto binds it; retry a couple of times with a new port in that case.
        attempts = 1 if self.requested_port else 3
        last_error: Exception | None = None
        for _attempt in range(attempts):
            port = self.requested_port or free_port(self.host)
            try:
                self._spawn(binary, port)
                self._wait_ready()
                return self
            except MotoServerError as exc:
                last_error = exc
                self._kill()
        raise last_error  # type: ignore[misc]

    def _spawn(self, binary: str, port: int) -> None:
        if self._own_log:
            fd, name = tempfile.mkstemp(prefix="moto-server-", suffix=".log")
            os.close(fd)
            self._log_path = Path(name)
        self._log_file = open(self._log_path, "ab")  # noqa: SIM115 - closed in _kill()
        env = dict(os.environ if self._env is None else self._env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.port = port
        self.proc = subprocess.Popen(
            [binary, "-H", self.host, "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise MotoServerError(
                    f"moto_server exited with rc={self.proc.returncode} before answering on {self.url}\n"
                    f"--- moto output ---\n{self.log_text()}"
                )
            try:
                status = http_request("GET", f"{self.url}/moto-api/", timeout=2)[0]
                if status == 200:
                    return
                last = f"HTTP {status}"
            except OSError as exc:  # connection refused while booting
                last = repr(exc)
            time.sleep(0.1)
        raise MotoServerError(
            f"moto_server did not answer GET {self.url}/moto-api/ within {self.startup_timeout:.0f}s "
            f"(last: {last})\n--- moto output ---\n{self.log_text()}"
        )

    def log_text(self, limit: int = 20000) -> str:
        """moto's stdout+stderr so far (the last ``limit`` characters)."""
        if not self._log_path or not self._log_path.exists():
            return ""
        if self._log_file:
            try:
                self._log_file.flush()
            except ValueError:
                pass
        return self._log_path.read_text(errors="replace")[-limit:]

    def reset(self) -> None:
        """Wipe all moto state (``POST /moto-api/reset``)."""
        status, body = http_request("POST", f"{self.url}/moto-api/reset", data=b"")
        if status != 200:
            raise MotoServerError(f"moto reset failed: HTTP {status}: {body[:500]!r}")

    def stop(self) -> None:
        """Terminate moto (SIGTERM, wait, then SIGKILL)."""
        self._kill()
        if self._own_log and self._log_path:
            try:
                self._log_path.unlink()
            except OSError:
                pass

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> "MotoServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<MotoServer {self.url if self.port else '-'} {state}>"


def _write_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (a reader never sees half a file)."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, sort_keys=True) + "\n")
    os.replace(tmp, path)


def wait_for_signal(alive=None) -> bool:
    """Block the main thread until SIGTERM or SIGINT (True), or until ``alive()`` turns false (False)."""
    stop = threading.Event()

    def _handler(signum, frame):  # noqa: ARG001
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    while not stop.wait(0.5):
        if alive is not None and not alive():
            return False
    return True


# ---------------------------------------------------------------------------
# The launcher of the callers that outlive one process: Molecule's create/destroy playbooks and the demo.
# `start` detaches a `serve` process (a session of its own, so it survives the playbook or shell that started it)
# which runs moto_server as its child and, with --proxy, the counting proxy in a thread; `stop` ends that session.
# ---------------------------------------------------------------------------

STATE_FILE = "moto.json"


def serve(state_dir: Path, *, proxy: bool = False) -> int:
    """Run moto (and the proxy) until SIGTERM; ``state_dir/moto.json`` says where, once they answer."""
    with MotoServer(log_path=state_dir / "moto.log") as moto:
        state = {"pid": os.getpid(), "moto_url": moto.url, "endpoint": moto.url}
        counting_proxy = None
        if proxy:
            from tests.support.aws_proxy import AwsProxy

            counting_proxy = AwsProxy(moto.url).start()
            state.update(proxy_url=counting_proxy.url, endpoint=counting_proxy.url)
        try:
            _write_json(state_dir / STATE_FILE, state)
            if not wait_for_signal(lambda: moto.running):
                print(f"error: moto_server died\n{moto.log_text()}", file=sys.stderr)
                return 1
        finally:
            if counting_proxy is not None:
                counting_proxy.stop()
    return 0


def start(state_dir: Path, *, proxy: bool = False, timeout: float = 60.0) -> dict:
    """Start a detached ``serve`` (stopping the one ``state_dir`` names, if any) and return its state."""
    state_dir.mkdir(parents=True, exist_ok=True)
    stop(state_dir)
    repo_root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "tests.support.moto", "serve", "--state-dir", str(state_dir)]
    with open(state_dir / "serve.log", "ab") as log:
        process = subprocess.Popen(command + (["--proxy"] if proxy else []), cwd=repo_root, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    state_file = state_dir / STATE_FILE
    deadline = time.monotonic() + timeout
    while not state_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            _end_session(process.pid)
            raise MotoServerError(f"moto did not start (rc={process.poll()}); see {state_dir / 'serve.log'}")
        time.sleep(0.1)
    return json.loads(state_file.read_text())


def stop(state_dir: Path) -> dict:
    """Stop what ``start`` started in ``state_dir`` (by the PID it recorded); ``{"stopped": [pid]}`` or ``[]``."""
    state_file = state_dir / STATE_FILE
    if not state_file.exists():
        return {"stopped": []}
    pid = json.loads(state_file.read_text())["pid"]
    stopped = [pid] if _end_session(pid) else []
    state_file.unlink()
    return {"stopped": stopped}


def _session_alive(pid: int) -> bool:
    try:  # reap it if it is our child (a zombie still counts as a member of its group)
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _end_session(pid: int, timeout: float = 15.0) -> bool:
    """SIGTERM the ``serve`` process (it stops moto and the proxy), then SIGKILL whatever of its session is left."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while _session_alive(pid):
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            break
        time.sleep(0.1)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.moto", description=__doc__.split("\n", maxsplit=1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "serve", "stop"):
        command = commands.add_parser(name)
        command.add_argument("--state-dir", type=Path, required=True, help=f"holds {STATE_FILE} and the logs")
        if name != "stop":
            command.add_argument("--proxy", action="store_true", help="put the counting proxy in front of moto")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.state_dir, proxy=args.proxy)
    try:
        result = start(args.state_dir, proxy=args.proxy) if args.command == "start" else stop(args.state_dir)
    except MotoServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

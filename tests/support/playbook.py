"""Run ``ansible-playbook`` as a subprocess and inspect what it did and printed.

``run_playbook()`` returns a :class:`PlaybookRun` holding the return code, the
human output (default stdout callback), the per-task results captured by the
``result_dump`` callback (``tests/support/callback_plugins``) and the ansible
log, plus ``assert_no_leak()`` to prove that no secret, in any usual encoding,
was printed anywhere.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

__all__ = ["PlaybookRun", "PlaybookTimeout", "run_playbook", "leak_forms", "CALLBACK_DIR", "ansible_bin"]

CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"


class PlaybookTimeout(AssertionError):
    """ansible-playbook did not finish within the timeout (it was killed)."""


def ansible_bin(name: str = "ansible-playbook") -> str:
    """Path of an ansible CLI from the venv of ``sys.executable`` (fallback: ``$PATH``)."""
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


# ---------------------------------------------------------------------------
# leak detection
# ---------------------------------------------------------------------------

_HEX_FORMS = ("sha256", "md5", "sha1")


def leak_forms(secret: str | bytes, *, unique: bool = False) -> dict[str, str]:
    """All encodings of ``secret`` that ``assert_no_leak`` looks for, ``{form_name: text}``.

    With ``unique=True`` forms whose text equals an earlier one (a plain ASCII
    secret's ``json`` form is its ``raw`` form...) are left out.
    """
    if isinstance(secret, bytes):
        raw_bytes = secret
        text = secret.decode("utf-8", "replace")
    elif isinstance(secret, str):
        text = secret
        raw_bytes = secret.encode("utf-8")
    else:
        raise TypeError(f"secrets must be str or bytes, not {type(secret).__name__}")
    forms: dict[str, str] = {"raw": text}
    forms["json"] = json.dumps(text)[1:-1]
    forms["json-unicode"] = json.dumps(text, ensure_ascii=False)[1:-1]
    forms["repr"] = repr(text)[1:-1]
    std = base64.b64encode(raw_bytes).decode()
    url = base64.urlsafe_b64encode(raw_bytes).decode()
    forms["base64"] = std
    forms["base64-nopad"] = std.rstrip("=")
    forms["base64url"] = url
    forms["base64url-nopad"] = url.rstrip("=")
    for algo in _HEX_FORMS:
        forms[algo] = hashlib.new(algo, raw_bytes).hexdigest()
    if not unique:
        return forms
    seen: dict[str, str] = {}
    for name, value in forms.items():
        if value and value not in seen.values():
            seen[name] = value
    return seen


def _form_regex(name: str, value: str) -> re.Pattern:
    flags = re.IGNORECASE if name in _HEX_FORMS else 0
    return re.compile(re.escape(value), flags)


# ---------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class PlaybookRun:
    """Outcome of one ``ansible-playbook`` run."""

    rc: int
    stdout: str = dataclasses.field(default="", repr=False)
    stderr: str = dataclasses.field(default="", repr=False)
    dump_text: str = dataclasses.field(default="", repr=False)
    log_text: str = dataclasses.field(default="", repr=False)
    results: list = dataclasses.field(default_factory=list, repr=False)
    cmd: list = dataclasses.field(default_factory=list)
    duration: float = 0.0
    playbook_path: str | None = None

    # -- views ---------------------------------------------------------
    @property
    def sources(self) -> dict[str, str]:
        """Every text the run produced, by name (what ``output`` concatenates)."""
        return {"stdout": self.stdout, "stderr": self.stderr,
                "result_dump": self.dump_text, "ansible_log": self.log_text}

    @property
    def output(self) -> str:
        """stdout + stderr + result_dump file + ansible log (this run's part)."""
        return "\n".join(self.sources.values())

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def task_names(self) -> list[str]:
        names: list[str] = []
        for entry in self.results:
            if entry.get("task") not in names:
                names.append(entry.get("task"))
        return names

    def entries(self, task_name: str | None = None, *, status: str | None = None) -> list[dict]:
        """Raw dump entries (``{task, host, status, result, ...}``), optionally filtered."""
        return [e for e in self.results
                if (task_name is None or e.get("task") == task_name)
                and (status is None or e.get("status") == status)]

    def result(self, task_name: str) -> dict:
        """The ``result`` dict of the last dump entry for ``task_name``."""
        matches = self.entries(task_name)
        if not matches:
            raise AssertionError(
                f"no result for task {task_name!r}; tasks with results: {self.task_names()!r} "
                f"(rc={self.rc})"
            )
        return matches[-1]["result"]

    def status(self, task_name: str) -> str:
        """``ok``/``changed``/``failed``/``skipped``/``unreachable`` of the last entry for ``task_name``."""
        self.result(task_name)  # raises with the list of tasks if missing
        return self.entries(task_name)[-1]["status"]

    def assert_rc(self, expected: int = 0) -> "PlaybookRun":
        """Fail with the tail of the output unless ``rc == expected``."""
        if self.rc != expected:
            tail = (self.stdout[-6000:] + "\n--- stderr ---\n" + self.stderr[-3000:])
            raise AssertionError(f"ansible-playbook rc={self.rc}, expected {expected}\n{tail}")
        return self

    def assert_ok(self) -> "PlaybookRun":
        return self.assert_rc(0)

    # -- leak detection ------------------------------------------------
    def find_leaks(self, *secrets: str | bytes) -> list[dict]:
        """Occurrences of any form of any secret: ``[{secret, form, source, line, count, context}]``.

        ``secret`` is the 1-based position of the secret in the arguments; the
        context has every form of every secret replaced by ``<CANARY...>``.
        """
        all_forms: list[tuple[int, str, str]] = []
        for idx, secret in enumerate(secrets, 1):
            if secret is None or len(secret) < 4:
                raise ValueError(f"secret #{idx} is too short to be searched for meaningfully (<4 chars)")
            all_forms.extend((idx, name, value) for name, value in leak_forms(secret, unique=True).items())
        # longest first, so a form containing another is redacted as a whole
        all_forms.sort(key=lambda item: len(item[2]), reverse=True)

        leaks: list[dict] = []
        for source, text in self.sources.items():
            if not text:
                continue
            # Redact everything once (to build safe contexts), then locate placeholders.
            redacted = text
            found: list[tuple[int, str]] = []
            for idx, name, value in all_forms:
                placeholder = "<CANARY>" if name == "raw" else f"<CANARY:{name}>"
                pattern = _form_regex(name, value)
                if pattern.search(redacted):
                    found.append((idx, name))
                    redacted = pattern.sub(lambda _m, _p=placeholder: _p, redacted)
            for idx, name in found:
                placeholder = "<CANARY>" if name == "raw" else f"<CANARY:{name}>"
                positions = [m.start() for m in re.finditer(re.escape(placeholder), redacted)]
                if not positions:
                    continue
                first = positions[0]
                line = redacted.count("\n", 0, first) + 1
                start = max(0, first - 60)
                end = min(len(redacted), first + len(placeholder) + 60)
                context = redacted[start:end].replace("\n", "\\n")
                leaks.append({"secret": idx, "form": name, "source": source, "line": line,
                              "count": len(positions), "context": context})
        order = list(self.sources)
        leaks.sort(key=lambda leak: (order.index(leak["source"]), leak["line"], leak["secret"], leak["form"]))
        return leaks

    def assert_no_leak(self, *secrets: str | bytes) -> None:
        """Fail if any secret appears in the output raw, JSON-escaped, repr-escaped,
        base64 (std/urlsafe, padded or not) or as a sha256/md5/sha1 hex digest.

        The failure message names the form and where it was found, with a short
        context in which the secret is replaced by ``<CANARY>``; it never
        contains the secret itself.
        """
        leaks = self.find_leaks(*secrets)
        if not leaks:
            return
        lines = [f"{len(leaks)} leak(s) of secret material in the ansible-playbook output:"]
        for leak in leaks:
            lines.append(
                f"  secret #{leak['secret']} as {leak['form']} in {leak['source']} line {leak['line']} "
                f"({leak['count']}x): ...{leak['context']}..."
            )
        raise AssertionError("\n".join(lines))


# ---------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------

def _is_yaml_text(playbook: Any) -> bool:
    if isinstance(playbook, os.PathLike):
        return False
    if not isinstance(playbook, str):
        raise TypeError("playbook must be a path or a YAML string")
    if "\n" in playbook:
        return True
    if os.path.exists(playbook) or playbook.endswith((".yml", ".yaml")):
        return False
    return True


def _prepend_path(existing: str | None, new: str) -> str:
    parts = [new] + [p for p in (existing or "").split(os.pathsep) if p and p != new]
    return os.pathsep.join(parts)


def _append_list(existing: str | None, item: str) -> str:
    parts = [p.strip() for p in (existing or "").split(",") if p.strip()]
    if item not in parts:
        parts.append(item)
    return ",".join(parts)


def _kill_group(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def run_playbook(
    playbook: str | os.PathLike,
    *,
    env: Mapping[str, str] | None,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
    extra_vars: Mapping[str, Any] | None = None,
    inventory: str | os.PathLike | None = None,
    timeout: float = 600,
    cwd: str | os.PathLike | None = None,
    extra_args: Iterable[str] = (),
    connection: str | None = "local",
    tmpdir: str | os.PathLike | None = None,
) -> PlaybookRun:
    """Run ``ansible-playbook`` and return a :class:`PlaybookRun`.

    :param playbook: a path, or YAML text (written to a temp file first).
    :param env: complete environment of the subprocess (``None``: ``os.environ``);
        the harness adds the python interpreter, no-color and result_dump settings.
    :param inventory: default ``localhost,``; a path, an ``-i`` string, or INI/YAML
        inventory text (contains a newline; written to a temp file).
    :param extra_vars: passed as ``-e @<tempfile>.json``.
    :param extra_args: more command-line arguments (``--tags``, ``--limit``...).
    :param connection: ``-c`` value (default ``local``; ``None`` to omit).
    :param tmpdir: where to write temp files (kept); default a fresh temp dir
        that is removed afterwards.
    :raises PlaybookTimeout: after killing the process group on timeout.
    """
    own_tmp = tmpdir is None
    work = Path(tempfile.mkdtemp(prefix="envops-playbook-")) if own_tmp else Path(tmpdir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        is_text = _is_yaml_text(playbook)
        if is_text:
            fd, name = tempfile.mkstemp(prefix="playbook-", suffix=".yml", dir=work)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(playbook)
            playbook_path = name
        else:
            playbook_path = os.fspath(playbook)

        fd, dump_path = tempfile.mkstemp(prefix="result-dump-", suffix=".jsonl", dir=work)
        os.close(fd)

        cmd = [ansible_bin("ansible-playbook")]
        if inventory is None:
            cmd += ["-i", "localhost,"]
        elif isinstance(inventory, str) and "\n" in inventory:
            fd, inv_path = tempfile.mkstemp(prefix="inventory-", suffix=".ini", dir=work)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(inventory)
            cmd += ["-i", inv_path]
        else:
            cmd += ["-i", os.fspath(inventory)]
        if connection:
            cmd += ["-c", connection]
        if extra_vars:
            fd, vars_path = tempfile.mkstemp(prefix="extra-vars-", suffix=".json", dir=work)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(extra_vars, handle)
            cmd += ["-e", "@" + vars_path]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * int(verbosity))
        cmd += list(extra_args)
        cmd.append(playbook_path)

        run_env = dict(os.environ if env is None else env)
        run_env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
        run_env["ANSIBLE_NOCOLOR"] = "1"
        run_env["ANSIBLE_FORCE_COLOR"] = "0"
        run_env["ANSIBLE_CALLBACK_PLUGINS"] = _prepend_path(run_env.get("ANSIBLE_CALLBACK_PLUGINS"), str(CALLBACK_DIR))
        run_env["ANSIBLE_CALLBACKS_ENABLED"] = _append_list(run_env.get("ANSIBLE_CALLBACKS_ENABLED"), "result_dump")
        run_env["RESULT_DUMP_PATH"] = dump_path
        run_env.setdefault("PYTHONUNBUFFERED", "1")

        log_path = run_env.get("ANSIBLE_LOG_PATH")
        log_offset = 0
        if log_path and os.path.exists(log_path):
            log_offset = os.path.getsize(log_path)

        started = time.monotonic()
        proc = subprocess.Popen(
            cmd, env=run_env, cwd=os.fspath(cwd) if cwd else None,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,  # lets us kill ansible and all its forks on timeout
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            raise PlaybookTimeout(
                f"ansible-playbook did not finish within {timeout}s and was killed: {' '.join(cmd)}\n"
                f"--- stdout (tail) ---\n{out.decode('utf-8', 'replace')[-4000:]}\n"
                f"--- stderr (tail) ---\n{err.decode('utf-8', 'replace')[-2000:]}"
            ) from None
        duration = time.monotonic() - started

        dump_text = Path(dump_path).read_text(encoding="utf-8", errors="replace")
        results = []
        for lineno, line in enumerate(dump_text.splitlines(), 1):
            if line.strip():
                try:
                    results.append(json.loads(line))
                except ValueError as exc:
                    raise AssertionError(f"result_dump line {lineno} is not JSON: {exc}") from None

        log_text = ""
        if log_path and os.path.exists(log_path):
            with open(log_path, "rb") as handle:
                handle.seek(log_offset)
                log_text = handle.read().decode("utf-8", "replace")

        return PlaybookRun(
            rc=proc.returncode,
            stdout=out.decode("utf-8", "replace"),
            stderr=err.decode("utf-8", "replace"),
            dump_text=dump_text,
            log_text=log_text,
            results=results,
            cmd=cmd,
            duration=duration,
            playbook_path=None if (own_tmp and is_text) else playbook_path,
        )
    finally:
        if own_tmp:
            shutil.rmtree(work, ignore_errors=True)


# -- isolated environment for ansible subprocesses -----------------------------

GALAXY_BLACKHOLE = "http://127.0.0.1:9"  # any accidental Galaxy call fails fast
_STRIP_PREFIXES = ("AWS_", "ANSIBLE_", "BOTO_")
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}


def clean_environ() -> dict:
    """os.environ minus inherited AWS_*/ANSIBLE_*/BOTO_* and *_proxy variables."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(_STRIP_PREFIXES) and k.lower() not in _PROXY_VARS}


def isolated_ansible_env(collections_path, aws_url: str, work_dir) -> dict:
    """Environment for ansible subprocesses: clean, its own scratch dirs, fake creds, AWS endpoint = aws_url.

    Besides the documented ``AWS_URL`` (what amazon.aws modules read), ``AWS_ENDPOINT_URL`` is set too as a
    safety net, so that no boto3 client in a subprocess can ever reach real AWS.
    """
    work_dir = Path(work_dir)
    for name in ("ansible-home", "ansible-local-tmp"):
        (work_dir / name).mkdir(parents=True, exist_ok=True)
    env = clean_environ()
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
        "ANSIBLE_HOME": str(work_dir / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(work_dir / "ansible-local-tmp"),
        "ANSIBLE_REMOTE_TEMP": str(work_dir / "ansible-remote-tmp"),
        "ANSIBLE_GALAXY_SERVER": GALAXY_BLACKHOLE,
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_URL": aws_url,
        "AWS_ENDPOINT_URL": aws_url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(work_dir / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(work_dir / "no-aws-credentials"),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    return env

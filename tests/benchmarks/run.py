"""Benchmark of envops.aws_secrets.aws_secrets_manager_set (issue 6): ``make bench``.

Starts a moto server on loopback and the counting proxy in front of it, then compares, in the
same run and on the same machine:

* ``module``: this collection's ``aws_secrets_manager_set``, one task for all N secrets;
* ``loop``: ``community.aws.secretsmanager_secret`` in a ``loop`` (only up to N=100 unless ``--full``);
* ``floor``: ``tests/benchmarks/floor.py``, raw boto3 making the same API calls serially.

Scenarios, each at N = 10, 100, 1,000, 4,000 and 10,000: ``create`` (fresh moto), ``rerun`` (nothing to change,
overwrite false), ``rerun_overwrite`` (nothing to change, overwrite true with the values),
``update`` (10% of the values differ, overwrite true) and ``check`` (check mode on a fresh set); then
``create_quota``: N=1,000 creates under AWS's request quotas with 25 ms latency on every call.

For every run index, every N and every contender (in that nesting) one "lifecycle" runs the five
scenarios in that order (moto reset before ``create`` and before ``check``), so each scenario meets
the state it needs, and the contenders and the runs of each N are spread over the session, which
spreads the machine's noise over all of them. Figures: wall time
(median of the runs), API calls by operation (counted by the proxy), calls per secret, write
calls, and the peak RSS of the module process (see ``rss_wrapper.py``).

Outputs: ``results.json``, ``time_vs_n.png`` and ``README.md`` in ``docs/benchmarks/`` (a full
run), or in ``build/benchmarks/`` with ``--quick`` unless ``--out-dir`` is given.

    make bench                                  # full: 1 run, N = 10 ... 10,000, quota scenario (~30 min)
    make bench BENCH_ARGS=--quick               # 1 run, N = 10, 100; loop at N=10 only
    make bench BENCH_ARGS="--full"              # also the loop at N=1000 (adds ~1.5 h)
    python tests/benchmarks/run.py --help       # after `make install`
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.aws_proxy import WRITE_OPERATIONS, AwsProxy  # noqa: E402
from tests.support.moto import MotoServer  # noqa: E402
from tests.support.playbook import isolated_ansible_env, run_playbook  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
MODULE = "envops.aws_secrets.aws_secrets_manager_set"
LOOP_MODULE = "community.aws.secretsmanager_secret"
PREFIX = "bench/"
TASK = "Manage secrets"

CONTENDERS = ("module", "loop", "floor")
SCENARIOS = ("create", "rerun", "rerun_overwrite", "update", "check")
SCENARIO_TITLES = {
    "create": "create (fresh)",
    "rerun": "rerun, nothing to change, overwrite=false",
    "rerun_overwrite": "rerun, nothing to change, overwrite=true",
    "update": "update 10% of the values (overwrite=true)",
    "check": "check mode on a fresh set",
}
SHORT_TITLES = {
    "create": "create", "rerun": "rerun (overwrite false)", "rerun_overwrite": "rerun (overwrite true)",
    "update": "update 10%", "check": "check mode, fresh",
}
OVERWRITE = {"create": False, "rerun": False, "rerun_overwrite": True, "update": True, "check": False}
STYLES = {
    "module": {"color": "#1f77b4", "label": "envops aws_secrets_manager_set (1 task)"},
    "loop": {"color": "#d62728", "label": "community.aws.secretsmanager_secret (loop)"},
    "floor": {"color": "#2ca02c", "label": "raw boto3, serial (floor)"},
}
LOOP_MAX_N = 100
# The quota scenario: N creates under AWS's per-class quotas (CreateSecret 50/s, one-second burst),
# each call delayed by a round trip, as the proxy imitates them (tests/support/aws_proxy.py AWS_QUOTAS).
QUOTA_SCENARIO = "create_quota"
QUOTA_LATENCY_S = 0.025
CREATE_QUOTA_PER_S = 50
# The scenarios whose CPU per secret must stay linear from N=1000 to the largest N.
LINEAR_SCENARIOS = ("create", "rerun", "rerun_overwrite", "check")
TARGET_RSS_MB = 150.0  # decimal megabytes, as in the issue


def log(message: str) -> None:
    print("[bench {0}] {1}".format(time.strftime("%H:%M:%S"), message), flush=True)


# ---------------------------------------------------------------------------- declarations

def declared_secrets(n: int, scenario: str) -> list:
    """N secrets with deterministic 40-character values; ``update`` changes every tenth one."""
    secrets = []
    for index in range(n):
        generation = 1 if scenario == "update" and index % 10 == 0 else 0
        secrets.append({"name": "s-{0:04d}".format(index),
                        "value": "bench-value-{0:04d}-gen{1}-{2}".format(index, generation, "x" * 16)})
    return secrets


def expected_writes(n: int, scenario: str) -> int:
    return {"create": n, "update": n // 10}.get(scenario, 0)


def module_play(wrapper: str) -> str:
    play = [{
        "name": "Benchmark: one task", "hosts": "localhost", "gather_facts": False,
        "vars": {"ansible_python_interpreter": wrapper},
        "tasks": [{
            "name": TASK,
            MODULE: {"prefix": "{{ bench_prefix }}", "secrets": "{{ bench_secrets }}",
                     "overwrite": "{{ bench_overwrite }}"},
            "register": "managed",
        }],
    }]
    return json.dumps(play, indent=1)


def loop_play(wrapper: str) -> str:
    play = [{
        "name": "Benchmark: one task per secret", "hosts": "localhost", "gather_facts": False,
        "vars": {"ansible_python_interpreter": wrapper},
        "tasks": [{
            "name": TASK,
            LOOP_MODULE: {"name": "{{ bench_prefix }}{{ item.name }}", "secret": "{{ item.value }}",
                          "overwrite": "{{ bench_overwrite }}"},
            "loop": "{{ bench_secrets }}",
            "loop_control": {"label": "{{ item.name }}"},
            "register": "managed",
        }],
    }]
    return json.dumps(play, indent=1)


# ---------------------------------------------------------------------------- the bench

def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Bench:
    def __init__(self, args, work: Path):
        self.args = args
        self.work = work
        self.python = sys.executable
        self.rss_log = work / "rss.jsonl"
        self.wrapper = work / "python-rss-wrapper"
        source = (BENCH_DIR / "rss_wrapper.py").read_text(encoding="utf-8")
        source = source.replace("@REAL_PYTHON@", self.python).replace("@LOG_PATH@", str(self.rss_log))
        self.wrapper.write_text("#!{0} -IS\n".format(self.python) + source, encoding="utf-8")
        self.wrapper.chmod(0o755)
        self.moto = None
        self.proxy = None
        self.env = None
        self.playbooks = {"module": work / "module.yml", "loop": work / "loop.yml"}
        self.playbooks["module"].write_text(module_play(str(self.wrapper)), encoding="utf-8")
        self.playbooks["loop"].write_text(loop_play(str(self.wrapper)), encoding="utf-8")
        self.records = []

    # -- setup -----------------------------------------------------------
    def start(self, collections_path: Path) -> None:
        self.moto = MotoServer(log_path=self.work / "moto.log").start()
        self.proxy = AwsProxy(self.moto.url).start()
        log("moto {0}, counting proxy {1}".format(self.moto.url, self.proxy.url))
        env = isolated_ansible_env(collections_path, self.proxy.url, self.work)
        self.env = env

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        if self.moto is not None:
            self.moto.stop()

    # -- one measured run ------------------------------------------------
    def _read_rss_log(self) -> list:
        if not self.rss_log.exists():
            return []
        return [json.loads(line) for line in self.rss_log.read_text(encoding="utf-8").splitlines() if line.strip()]

    def run_one(self, contender: str, scenario: str, n: int) -> dict:
        secrets = declared_secrets(n, scenario)
        self.proxy.reset()
        self.rss_log.write_text("", encoding="utf-8")
        record = {"contender": contender, "scenario": scenario, "n": n}
        # CPU of the measured process tree (ansible-playbook and its module, or floor.py): children's
        # usage of this process, which runs moto as a child it reaps only at the end, and the proxy in threads.
        cpu_before = _children_cpu()
        if contender == "floor":
            secrets_file = self.work / "floor-secrets.json"
            secrets_file.write_text(json.dumps(secrets), encoding="utf-8")
            started = time.monotonic()
            proc = subprocess.run(
                [self.python, str(BENCH_DIR / "floor.py"), "--endpoint", self.proxy.url, "--scenario", scenario,
                 "--prefix", PREFIX, "--secrets", str(secrets_file)],
                env=self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=3600, check=False,
            )
            record["wall_s"] = time.monotonic() - started
            record["rc"] = proc.returncode
            if proc.returncode == 0:
                answer = json.loads(proc.stdout.strip().splitlines()[-1])
                record["inner_s"] = answer["calls_s"]
                record["reported_calls"] = answer["calls"]
            else:
                record["error"] = (proc.stdout + proc.stderr)[-2000:]
        else:
            extra_vars = {"bench_prefix": PREFIX, "bench_secrets": secrets, "bench_overwrite": OVERWRITE[scenario]}
            run = run_playbook(self.playbooks[contender], env=self.env, check=scenario == "check",
                               extra_vars=extra_vars, timeout=600 + 5 * n, cwd=self.work,
                               tmpdir=self.work / "playbook")
            record["wall_s"] = run.duration
            record["rc"] = run.rc
            if run.rc != 0:
                record["error"] = (run.stdout[-3000:] + run.stderr[-1000:])
            modules = self._read_rss_log()
            # The wrapper's own interpreter is not part of what it measures: ru_maxrss covers the child.
            record["module_processes"] = len(modules)
            record["inner_s"] = sum(entry["wall_s"] for entry in modules)
            record["module_cpu_s"] = round(sum(entry.get("cpu_s", 0.0) for entry in modules), 3)
            record["rss_kib"] = max((entry["maxrss_kib"] for entry in modules), default=None)
            try:
                result = run.result(TASK)
            except AssertionError:
                result = {}
            if contender == "module":
                record["summary"] = result.get("summary")
                record["reported_calls"] = result.get("api_calls")
            else:
                items = result.get("results") or []
                record["summary"] = {"items": len(items),
                                     "changed": sum(1 for item in items if item.get("changed")),
                                     "failed": sum(1 for item in items if item.get("failed"))}
        record["cpu_s"] = round(_children_cpu() - cpu_before, 3)
        # moto 5.2.5 answers HTTP 500 now and then under concurrent CreateSecret calls (its secrets
        # store is not thread-safe), and botocore retries those. "calls" leaves such attempts out, so
        # it is what the code under test asked for; they are in "server_errors", and "writes" (the
        # figure for check mode) counts every write attempt the proxy saw.
        calls = self.proxy.calls()
        record["throttled"] = dict(Counter(call["op"] for call in calls if call.get("fault") == "quota"))
        calls = [call for call in calls if call.get("fault") != "quota"]
        answered = Counter(call["op"] for call in calls if (call.get("status") or 0) < 500)
        failed = Counter(call["op"] for call in calls if (call.get("status") or 0) >= 500)
        record["calls"] = dict(sorted(answered.items()))
        record["total_calls"] = sum(answered.values())
        record["server_errors"] = dict(failed)
        record["writes_ok"] = sum(count for op, count in answered.items() if op in WRITE_OPERATIONS)
        record["writes"] = record["writes_ok"] + sum(count for op, count in failed.items() if op in WRITE_OPERATIONS)
        record["expected_writes"] = expected_writes(n, scenario)
        record["ok"] = record["rc"] == 0 and record["writes_ok"] == record["expected_writes"]
        errors = self.proxy.errors()
        if errors:
            record["proxy_errors"] = errors[:3]
        return record

    def lifecycle(self, contender: str, n: int, run_index: int, scenarios) -> None:
        for scenario in SCENARIOS:
            if scenario in ("create", "check"):
                self.moto.reset()
            if scenario not in scenarios:
                if scenario == "create" and any(s in scenarios for s in ("rerun", "rerun_overwrite", "update")):
                    self.run_one(contender, "create", n)  # the later scenarios need the secrets; not recorded
                continue
            record = self.run_one(contender, scenario, n)
            record["run"] = run_index
            self.records.append(record)
            extra = ""
            if record["server_errors"]:
                extra += ", {0} moto 500(s) retried".format(sum(record["server_errors"].values()))
            if record.get("rss_kib"):
                extra += ", module RSS {0:.0f} MiB".format(record["rss_kib"] / 1024.0)
            log("N={0:<5} run {1} {2:<6} {3:<16} {4:7.2f} s, cpu {9:.2f} s, {5} calls ({6} writes){7}{8}".format(
                n, run_index + 1, contender, scenario, record["wall_s"], record["total_calls"], record["writes_ok"],
                extra, "" if record["ok"] else "  <-- NOT OK: " + (record.get("error") or "unexpected writes")[-300:],
                record["cpu_s"]))

    def quota_run(self, n: int) -> None:
        """N module creates under AWS's quotas and a round-trip latency on every call."""
        self.moto.reset()
        self.proxy.set_quotas(latency=QUOTA_LATENCY_S)
        try:
            record = self.run_one("module", "create", n)
            creates = [call for call in self.proxy.calls() if call["op"] == "CreateSecret"]
        finally:
            self.proxy.clear_quotas()
        record.update(scenario=QUOTA_SCENARIO, run=0)
        record["create_span_s"] = round(max(call["started"] + (call["duration"] or 0) for call in creates)
                                        - min(call["started"] for call in creates), 3) if creates else None
        self.records.append(record)
        log("N={0:<5} quota  module {1:<16} {2:7.2f} s, creates over {3} s, {4} throttled attempts, summary {5}".format(
            n, QUOTA_SCENARIO, record["wall_s"], record["create_span_s"], sum(record["throttled"].values()),
            record.get("summary")))

    def warm_up(self, contenders) -> None:
        """One small untimed run per contender: pyc caches, page cache, moto's first-call costs."""
        self.moto.reset()
        for contender in contenders:
            self.run_one(contender, "create", 10)
            self.moto.reset()

    # -- calibration -----------------------------------------------------
    def calibrate_rss(self) -> dict:
        """Run the wrapper on programs of known size, to show that its figure is the child's RSS."""
        programs = {
            "python -c pass": "pass",
            "python -c 'import boto3; boto3.client(...)'":
                "import boto3; boto3.client('secretsmanager', region_name='us-east-1')",
            "python allocating and touching 200 MiB": "b = b'\\x01' * (200 * 1024 * 1024)",
        }
        out = {}
        for label, code in programs.items():
            self.rss_log.write_text("", encoding="utf-8")
            started = time.monotonic()
            subprocess.run([str(self.wrapper), "-c", code], check=True, env=self.env)
            wrapped = time.monotonic() - started
            entry = self._read_rss_log()[-1]
            out[label] = {"maxrss_mib": round(entry["maxrss_kib"] / 1024.0, 1), "wrapped_wall_s": round(wrapped, 3)}
        # The wrapper's own cost per module process: wrapped vs direct start of an empty program.
        direct = []
        wrapped = []
        for _attempt in range(5):
            started = time.monotonic()
            subprocess.run([self.python, "-c", "pass"], check=True)
            direct.append(time.monotonic() - started)
            started = time.monotonic()
            subprocess.run([str(self.wrapper), "-c", "pass"], check=True)
            wrapped.append(time.monotonic() - started)
        out["wrapper_overhead_ms"] = round((statistics.median(wrapped) - statistics.median(direct)) * 1000, 1)
        return out


# ---------------------------------------------------------------------------- aggregation

def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def aggregate(records: list) -> dict:
    """{(scenario, n, contender): figures} over the runs."""
    groups = {}
    for record in records:
        groups.setdefault((record["scenario"], record["n"], record["contender"]), []).append(record)
    out = {}
    for key, runs in groups.items():
        ok_runs = [run for run in runs if run["ok"]]
        calls = [run["calls"] for run in runs]
        n = key[1]
        first = runs[0]
        out[key] = {
            "scenario": key[0], "n": n, "contender": key[2],
            "runs": len(runs), "ok_runs": len(ok_runs),
            "wall_s": [round(run["wall_s"], 3) for run in runs],
            "median_wall_s": round(median([run["wall_s"] for run in runs]), 3),
            "min_wall_s": round(min(run["wall_s"] for run in runs), 3),
            "max_wall_s": round(max(run["wall_s"] for run in runs), 3),
            "median_inner_s": round(median([run.get("inner_s") for run in runs]) or 0, 3),
            "median_cpu_s": round(median([run.get("cpu_s") for run in runs]) or 0, 3),
            "median_module_cpu_s": round(median([run.get("module_cpu_s") for run in runs]) or 0, 3),
            "throttled": dict(sum((Counter(run.get("throttled") or {}) for run in runs), Counter())),
            "create_span_s": median([run.get("create_span_s") for run in runs]),
            "calls": first["calls"],
            "calls_same_every_run": all(c == calls[0] for c in calls),
            "total_calls": first["total_calls"],
            "calls_per_secret": round(first["total_calls"] / float(n), 3),
            "writes": max(run["writes"] for run in runs),
            "writes_ok": max(run["writes_ok"] for run in runs),
            "server_errors_all_runs": dict(sum((Counter(run["server_errors"]) for run in runs), Counter())),
            "expected_writes": first["expected_writes"],
            "rss_mib": (round(max(run["rss_kib"] for run in runs if run.get("rss_kib")) / 1024.0, 1)
                        if any(run.get("rss_kib") for run in runs) else None),
            "module_processes": first.get("module_processes"),
            "summary": first.get("summary"),
            "reported_calls": first.get("reported_calls"),
        }
    return out


def ratio(numerator, denominator):
    if numerator is None or denominator in (None, 0):
        return None
    return numerator / denominator


def quota_n(figures: dict):
    return next((key[1] for key in figures if key[0] == QUOTA_SCENARIO), None)


def evaluate_targets(figures: dict, sizes) -> list:
    def get(scenario, n, contender, field="median_wall_s"):
        entry = figures.get((scenario, n, contender))
        return entry[field] if entry else None

    targets = []

    def add(name, target, measured, met, detail):
        targets.append({"target": name, "wanted": target, "measured": measured,
                        "status": "not measured" if met is None else ("met" if met else "MISSED"),
                        "detail": detail})

    speedup = ratio(get("create", 100, "loop"), get("create", 100, "module"))
    add("N=100 create vs the per-secret loop", "≥ 20× faster",
        None if speedup is None else "{0:.1f}×".format(speedup),
        None if speedup is None else speedup >= 20,
        "loop {0} s / module {1} s (medians)".format(
            fmt_s(get("create", 100, "loop")), fmt_s(get("create", 100, "module"))))

    calls = get("rerun", 100, "module", "total_calls")
    loop_calls = get("rerun", 100, "loop", "total_calls")
    add("N=100 rerun, overwrite=false: API calls", "≤ 2 (loop: ~400)",
        None if calls is None else "{0} (loop: {1})".format(calls, loop_calls),
        None if calls is None else calls <= 2, "module: " + fmt_calls(get("rerun", 100, "module", "calls")))

    calls = get("rerun_overwrite", 100, "module", "total_calls")
    loop_calls = get("rerun_overwrite", 100, "loop", "total_calls")
    add("N=100 rerun, overwrite=true: API calls", "≤ 8",
        None if calls is None else "{0} (loop: {1})".format(calls, loop_calls),
        None if calls is None else calls <= 8, "module: " + fmt_calls(get("rerun_overwrite", 100, "module", "calls")))

    floor_ratio = ratio(get("create", 1000, "module"), get("create", 1000, "floor"))
    add("N=1000 create vs the raw boto3 floor", "≤ 1.5× the floor",
        None if floor_ratio is None else "{0:.2f}×".format(floor_ratio),
        None if floor_ratio is None else floor_ratio <= 1.5,
        "module {0} s / floor {1} s (medians, end-to-end wall)".format(
            fmt_s(get("create", 1000, "module")), fmt_s(get("create", 1000, "floor"))))

    t100, t1000 = get("create", 100, "module"), get("create", 1000, "module")
    marginal = None if t100 is None or t1000 is None else (t1000 - t100) / 900.0 * 1000
    add("Marginal cost per extra secret (create, N=1000 vs N=100)", "≤ 10 ms",
        None if marginal is None else "{0:.2f} ms".format(marginal),
        None if marginal is None else marginal <= 10,
        "(module {0} s - {1} s) / 900".format(fmt_s(t1000), fmt_s(t100)))

    checks = [(n, get("check", n, "module", "writes")) for n in sizes]
    measured = [(n, writes) for n, writes in checks if writes is not None]
    add("Check mode: write calls at every N", "0",
        ", ".join("N={0}: {1}".format(n, writes) for n, writes in measured) or None,
        all(writes == 0 for _n, writes in measured) if measured else None, "counted by the proxy")

    largest = max(sizes)
    for scenario in LINEAR_SCENARIOS:
        cpu_1000 = get(scenario, 1000, "module", "median_cpu_s")
        cpu_large = get(scenario, largest, "module", "median_cpu_s")
        if largest <= 1000 or not cpu_1000 or not cpu_large:
            add("CPU linear in N, {0}".format(SHORT_TITLES[scenario]), "marginal ≤ 1.25× per-secret at N=1000",
                None, None, "needs N=1000 and a larger N")
            continue
        per_secret = cpu_1000 / 1000.0
        marginal = (cpu_large - cpu_1000) / float(largest - 1000)
        add("CPU linear in N, {0}".format(SHORT_TITLES[scenario]), "marginal ≤ 1.25× per-secret at N=1000",
            "{0:.2f}×".format(marginal / per_secret), marginal <= 1.25 * per_secret,
            "ansible-playbook + module CPU: {0:.2f} s at N=1000 ({1:.2f} ms a secret), {2:.2f} s at N={3} "
            "({4:.2f} ms a secret more)".format(cpu_1000, per_secret * 1000, cpu_large, largest, marginal * 1000))

    quota = figures.get((QUOTA_SCENARIO, quota_n(figures), "module"))
    if quota:
        n = quota["n"]
        startup = get("create", 10, "module")
        floor_s = n / float(CREATE_QUOTA_PER_S)
        wall = quota["median_wall_s"]
        throttled = sum(quota["throttled"].values())
        failed = (quota.get("summary") or {}).get("failed")
        one_version = quota["calls"].get("CreateSecret") == n and not quota["calls"].get("PutSecretValue")
        bound = 1.15 * floor_s + (startup or 0)
        add("Quota: N={0} creates at {1:.0f} ms latency".format(n, QUOTA_LATENCY_S * 1000),
            "≤ 1.15 × N/50 s + start-up; no failure; one version each; throttled ≤ 10% of writes",
            "{0} s (bound {1:.1f} s); {2} throttled; failed {3}".format(fmt_s(wall), bound, throttled, failed),
            None if startup is None else (wall <= bound and failed == 0 and one_version and throttled <= n // 10),
            "creates spanned {0} s against a floor of {1:.0f} s; start-up = module create at N=10 ({2} s); "
            "{3} CreateSecret admitted, {4} PutSecretValue".format(
                quota["create_span_s"], floor_s, fmt_s(startup), quota["calls"].get("CreateSecret"),
                quota["calls"].get("PutSecretValue", 0)))

    rss = [get(scenario, 1000, "module", "rss_mib") for scenario in SCENARIOS]
    rss = [value for value in rss if value is not None]
    peak = max(rss) if rss else None
    add("Peak RSS of the module process at N=1000", "≤ 150 MB",
        None if peak is None else "{0:.1f} MiB = {1:.1f} MB".format(peak, peak * 1.048576),
        None if peak is None else peak * 1.048576 <= TARGET_RSS_MB, "max over the five scenarios")
    return targets


# ---------------------------------------------------------------------------- reporting

def fmt_s(value):
    if value is None:
        return "–"
    return "{0:.2f}".format(value) if value < 100 else "{0:.0f}".format(value)


def fmt_ratio(value):
    return "–" if value is None else ("{0:.1f}×".format(value) if value >= 10 else "{0:.2f}×".format(value))


def fmt_calls(calls):
    if not calls:
        return "–"
    return ", ".join("{0} {1}".format(op, count) for op, count in sorted(calls.items(), key=lambda kv: -kv[1]))


def cpu_rows(figures: dict, sizes) -> list:
    rows = []
    for scenario in SCENARIOS:
        for n in sizes:
            module, floor = figures.get((scenario, n, "module")), figures.get((scenario, n, "floor"))
            if not module:
                continue
            rows.append("| {0} | {1} | {2} | {3} | {4:.2f} | {5} |".format(
                SHORT_TITLES[scenario], n, fmt_s(module["median_cpu_s"]), fmt_s(module["median_module_cpu_s"]),
                module["median_cpu_s"] / n * 1000, fmt_s(floor["median_cpu_s"]) if floor else "–"))
    return rows


def markdown(meta: dict, figures: dict, targets: list, sizes) -> str:
    lines = [
        "# Benchmarks",
        "",
        "`make bench` (`tests/benchmarks/run.py`) compares, in one run on one machine, against moto on loopback",
        "with a counting proxy in front:",
        "",
        "* **module**: `envops.aws_secrets.aws_secrets_manager_set`, one task for all N secrets (concurrency 8);",
        "* **loop**: `community.aws.secretsmanager_secret` in a `loop`, one module run per secret"
        + (" (up to N={0}; `--full` for more)".format(LOOP_MAX_N) if not meta["full"] else "") + ";",
        "* **floor**: `tests/benchmarks/floor.py`, raw boto3 making the module's API calls serially.",
        "",
        "Wall time is end to end: the `ansible-playbook` process for module and loop, the `python floor.py`",
        "process for the floor, median of {0} run(s). API calls are counted by the proxy in front of moto.".format(
            meta["runs"]),
        "RSS is the peak resident set of the module process (the largest one, for the loop), measured by",
        "an interpreter wrapper with `getrusage(RUSAGE_CHILDREN)`, not that of `ansible-playbook`.",
        "",
        "Generated {0} on {1} ({2} CPUs, load average {3} at start, {4} at end) from commit {5}{6}; ".format(
            meta["finished"], meta["machine"], meta["cpus"], meta["loadavg_start"], meta["loadavg_end"],
            meta.get("git_commit"), " with uncommitted changes in plugins/" if meta.get("plugins_uncommitted") else "")
        + "ansible-core {0}, boto3 {1}, moto {2}, Python {3}. The machine is shared and noisy: compare ratios "
          "measured in the same run, not absolute times across runs.".format(
              meta["ansible_core"], meta["boto3"], meta["moto"], meta["python"]),
        "",
        "![wall time versus N](time_vs_n.png)",
        "",
        "## Targets",
        "",
        "| Target | Wanted | Measured | Status | Detail |",
        "|---|---|---|---|---|",
    ]
    for target in targets:
        lines.append("| {target} | {wanted} | {measured} | **{status}** | {detail} |".format(
            **dict(target, measured=target["measured"] or "–")))
    lines += [
        "",
        "## Wall time (median, seconds) and ratios",
        "",
        "| Scenario | N | module | loop | floor | loop / module | module / floor | module process only |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in SCENARIOS:
        for n in sizes:
            row = {c: figures.get((scenario, n, c)) for c in CONTENDERS}
            if not any(row.values()):
                continue
            med = {c: (row[c]["median_wall_s"] if row[c] else None) for c in CONTENDERS}
            inner = row["module"]["median_inner_s"] if row["module"] else None
            lines.append("| {0} | {1} | {2} | {3} | {4} | {5} | {6} | {7} |".format(
                SHORT_TITLES[scenario], n, fmt_s(med["module"]), fmt_s(med["loop"]), fmt_s(med["floor"]),
                fmt_ratio(ratio(med["loop"], med["module"])), fmt_ratio(ratio(med["module"], med["floor"])),
                fmt_s(inner)))
    lines += [
        "",
        "\"module process only\" is the wall time of the module's own process (interpreter start to exit),",
        "without `ansible-playbook`'s start-up and templating; the floor's figure includes its interpreter",
        "start and `import boto3`.",
        "",
        "## CPU (median, seconds): what the module costs, moto excluded",
        "",
        "CPU is user + system time of the measured process tree: `ansible-playbook` with its module (or",
        "`floor.py`), from `getrusage(RUSAGE_CHILDREN)` of the bench process, which keeps moto as a child it",
        "reaps only at the end and runs the proxy in threads. \"module process\" is the module alone.",
        "",
        "| Scenario | N | module tree | module process | ms a secret | floor |",
        "|---|---:|---:|---:|---:|---:|",
    ] + cpu_rows(figures, sizes) + [
        "",
        "## API calls (from the proxy)",
        "",
        "| Scenario | N | module: calls by operation | module calls/secret | loop: calls by operation | "
        "loop calls/secret | floor: calls by operation | writes (module / loop / floor) |",
        "|---|---:|---|---:|---|---:|---|---|",
    ]
    for scenario in SCENARIOS:
        for n in sizes:
            row = {c: figures.get((scenario, n, c)) for c in CONTENDERS}
            if not any(row.values()):
                continue

            def cell(contender, field, row=row):
                return row[contender][field] if row[contender] else None

            writes = " / ".join("–" if cell(c, "writes_ok") is None else str(cell(c, "writes_ok")) for c in CONTENDERS)
            lines.append("| {0} | {1} | {2} | {3} | {4} | {5} | {6} | {7} |".format(
                SHORT_TITLES[scenario], n, fmt_calls(cell("module", "calls")),
                "–" if cell("module", "calls_per_secret") is None else "{0:.2f}".format(cell("module", "calls_per_secret")),
                fmt_calls(cell("loop", "calls")),
                "–" if cell("loop", "calls_per_secret") is None else "{0:.2f}".format(cell("loop", "calls_per_secret")),
                fmt_calls(cell("floor", "calls")), writes))
    columns = [(contender, n) for contender in ("module", "loop") for n in sizes
               if any(figures.get((scenario, n, contender)) for scenario in SCENARIOS)]
    retried = []
    for entry in sorted(figures.values(), key=lambda e: (e["n"], e["scenario"], e["contender"])):
        if entry["server_errors_all_runs"]:
            retried.append("{0} {1} N={2}: {3}".format(
                entry["contender"], entry["scenario"], entry["n"], fmt_calls(entry["server_errors_all_runs"])))
    lines += [
        "",
        "Calls were the same in every run{0}. Writes are the successful write calls; the check-mode target".format(
            "" if all(entry["calls_same_every_run"] for entry in figures.values()) else " (NOT: see results.json)"),
        "counts every write attempt.",
    ]
    if retried:
        lines += [
            "",
            "moto 5.2.5's secrets store is not thread-safe: under concurrent `CreateSecret` calls it sometimes",
            "answers HTTP 500 (`RuntimeError: dictionary changed size during iteration` in",
            "`SecretsStore.__contains__`), and botocore retries the call with the same `ClientRequestToken`.",
            "Such attempts, over all runs: " + "; ".join(retried) + ". They are in the wall times, not in the",
            "call counts above. A serial client (the floor, the loop) never meets this.",
        ]
    lines += [
        "",
        "## Peak RSS of the module process (MiB)",
        "",
        "| Scenario | " + " | ".join("{0} N={1}".format(contender, n) for contender, n in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for scenario in SCENARIOS:
        cells = []
        for contender, n in columns:
            entry = figures.get((scenario, n, contender))
            cells.append("–" if not entry or entry["rss_mib"] is None else "{0:.0f}".format(entry["rss_mib"]))
        lines.append("| {0} | {1} |".format(SHORT_TITLES[scenario], " | ".join(cells)))
    calibration = meta.get("rss_calibration") or {}
    if calibration:
        lines += ["", "Wrapper check (same wrapper, programs of known size): " + "; ".join(
            "{0}: {1} MiB".format(label, value["maxrss_mib"]) for label, value in calibration.items()
            if isinstance(value, dict)) + "; the wrapper adds {0} ms per module process.".format(
                calibration.get("wrapper_overhead_ms"))]
        loop_100 = figures.get(("create", 100, "loop"))
        if loop_100 and calibration.get("wrapper_overhead_ms"):
            share = 100 * calibration["wrapper_overhead_ms"] / 1000.0 / loop_100["median_wall_s"] * 100
            lines += ["That is once for the module and N times for the loop: about {0:.0f}% of the loop's wall time "
                      "at N=100 (create), which its ratios to the module include.".format(share)]
    not_ok = list(meta.get("failed_runs", []))
    if not_ok:
        lines += ["", "Runs that failed or wrote an unexpected number of times: " + ", ".join(
            "{contender}/{scenario}/N={n}".format(**record) for record in not_ok)]
    lines += [
        "",
        "## Reproduce",
        "",
        "```",
        "make bench                      # full run, writes docs/benchmarks/ ({0:.0f} minutes for this one)".format(
            meta["duration_s"] / 60.0),
        "make bench BENCH_ARGS=--quick   # 1 run, N=10 and 100, writes build/benchmarks/",
        "make bench BENCH_ARGS=--full    # also the loop at N=1000 (slow: ~0.5-1 s a secret a scenario)",
        "python tests/benchmarks/run.py --from-json docs/benchmarks/results.json   # redraw chart + README only",
        "```",
        "",
        "The loop at N=100 takes most of a full run (five scenarios, three runs, 100 module runs each).",
        "See [profiling.md](profiling.md) for where the module's own time goes as N grows.",
        "",
        "Raw figures, every run: [`results.json`](results.json).",
        "",
    ]
    return "\n".join(lines)


def chart(path: Path, figures: dict, meta: dict) -> None:
    """Wall time versus N, one log-log panel a scenario, drawn with matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.ticker import FuncFormatter, NullFormatter

    panels = []
    for scenario in SCENARIOS:
        series = {}
        for contender in CONTENDERS:
            points = sorted((key[1], entry["median_wall_s"]) for key, entry in figures.items()
                            if key[0] == scenario and key[2] == contender)
            if points:
                series[contender] = points
        if series:
            panels.append((SCENARIO_TITLES[scenario], series))
    if not panels:
        return
    columns = min(3, len(panels))
    rows = (len(panels) + columns - 1) // columns
    figure, axes = pyplot.subplots(rows, columns, figsize=(5.2 * columns, 4.2 * rows), squeeze=False)
    for axis, (title, series) in zip(axes.flat, panels):
        for contender, points in series.items():
            axis.plot([n for n, _seconds in points], [seconds for _n, seconds in points], marker="o",
                      color=STYLES[contender]["color"], label=STYLES[contender]["label"])
        axis.set_xscale("log")
        axis.set_yscale("log")
        for scale in (axis.xaxis, axis.yaxis):
            scale.set_major_formatter(FuncFormatter(lambda value, _position: "{0:g}".format(value)))
            scale.set_minor_formatter(NullFormatter())
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("N secrets")
        axis.set_ylabel("wall time (s)")
        axis.grid(True, which="both", alpha=0.3)
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    for axis in list(axes.flat)[1:len(panels)]:
        for handle, label in zip(*axis.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9)
    figure.suptitle("Wall time versus N (log-log, median of {0} run(s), end to end)\n"
                    "moto {1} on loopback behind a counting proxy; {2} CPUs; ansible-core {3}; {4}".format(
                        meta["runs"], meta["moto"], meta["cpus"], meta["ansible_core"], meta["finished"]),
                    fontsize=10)
    figure.tight_layout(rect=(0, 0.06, 1, 0.93))
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


# ---------------------------------------------------------------------------- main

def versions() -> dict:
    code = ("import json, ansible, boto3, botocore, moto; "
            "print(json.dumps({'ansible_core': ansible.__version__, 'boto3': boto3.__version__, "
            "'botocore': botocore.__version__, 'moto': moto.__version__}))")
    return json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                     text=True).stdout)


def collections_path() -> Path:
    given = os.environ.get("ENVOPS_COLLECTIONS_PATH")
    path = Path(given) if given else REPO_ROOT / "build" / "collections"
    if not path.is_absolute():
        path = (REPO_ROOT / path).resolve()
    if not (path / "ansible_collections" / "envops" / "aws_secrets" / "MANIFEST.json").is_file():
        sys.exit("error: no installed envops.aws_secrets under {0}; run `make bench` (it builds and installs "
                 "the collection first) or `make install`".format(path))
    return path


def has_community_aws() -> bool:
    code = "import ansible_collections.community.aws.plugins.modules.secretsmanager_secret"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, check=False).returncode == 0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="tests/benchmarks/run.py", description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="development run: 1 run, N = 10 and 100, loop at N=10 only; writes build/benchmarks/")
    parser.add_argument("--full", action="store_true", help="run the community.aws loop at every N (slow)")
    parser.add_argument("--runs", type=int, help="runs per figure (default 1)")
    parser.add_argument("--sizes", help="comma-separated N values (default 10,100,1000,4000,10000; 10,100 with "
                                        "--quick)")
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="subset of module,loop,floor")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="subset of " + ",".join(SCENARIOS))
    parser.add_argument("--quota-n", type=int,
                        help="N for the quota scenario (default 1000; 100 with --quick; 0 leaves it out)")
    parser.add_argument("--out-dir", help="where results.json, time_vs_n.png and README.md go")
    parser.add_argument("--keep-work", action="store_true", help="keep the temporary work directory")
    parser.add_argument("--from-json", metavar="RESULTS_JSON",
                        help="measure nothing: rebuild the chart and README from a results.json (next to it, "
                             "or in --out-dir)")
    args = parser.parse_args(argv)
    args.runs = args.runs or 1
    args.sizes = [int(n) for n in (args.sizes or ("10,100" if args.quick else "10,100,1000,4000,10000")).split(",")]
    args.quota_n = (100 if args.quick else 1000) if args.quota_n is None else args.quota_n
    args.contenders = [c for c in args.contenders.split(",") if c]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    for contender in args.contenders:
        if contender not in CONTENDERS:
            parser.error("unknown contender {0!r}".format(contender))
    for scenario in args.scenarios:
        if scenario not in SCENARIOS:
            parser.error("unknown scenario {0!r}".format(scenario))
    args.loop_max_n = max(args.sizes) if args.full else (10 if args.quick else LOOP_MAX_N)
    if args.from_json:
        return args
    default_out = REPO_ROOT / ("build/benchmarks" if args.quick else "docs/benchmarks")
    args.out_dir = Path(args.out_dir) if args.out_dir else default_out
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.from_json:
        # Only redraw the chart and rewrite the README (and the JSON's derived parts) from stored runs.
        stored = json.loads(Path(args.from_json).read_text(encoding="utf-8"))
        return write_outputs(stored["meta"], stored["runs"],
                             Path(args.out_dir) if args.out_dir else Path(args.from_json).resolve().parent)
    path = collections_path()
    contenders = list(args.contenders)
    if "loop" in contenders and not has_community_aws():
        log("community.aws is not importable from {0}: the loop contender is skipped".format(sys.executable))
        contenders.remove("loop")
    meta = {
        "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick, "full": args.full, "runs": args.runs, "sizes": args.sizes,
        "contenders": contenders, "scenarios": args.scenarios, "loop_max_n": args.loop_max_n,
        "python": platform.python_version(), "machine": platform.machine() + " " + platform.system(),
        "cpus": os.cpu_count(), "loadavg_start": "{0:.2f}".format(os.getloadavg()[0]),
        "concurrency": 8, "prefix": PREFIX,
    }
    meta.update(versions())
    try:
        meta["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, check=True,
                                            capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        meta["git_commit"] = None
    # What was measured: the installed build (make install copies the work tree, committed or not).
    manifest = json.loads((path / "ansible_collections/envops/aws_secrets/MANIFEST.json").read_text(encoding="utf-8"))
    meta["collection_version"] = manifest["collection_info"]["version"]
    meta["collection_files_sha256"] = manifest["file_manifest_file"]["chksum_sha256"]
    status = subprocess.run(["git", "status", "--porcelain", "--", "plugins"], cwd=REPO_ROOT, capture_output=True,
                            text=True, check=False).stdout.split("\n")
    meta["plugins_uncommitted"] = [line[3:] for line in status if line.strip()]
    log("runs={0} sizes={1} contenders={2} loop up to N={3}; collection from {4}".format(
        args.runs, args.sizes, contenders, args.loop_max_n, path))

    work = Path(tempfile.mkdtemp(prefix="envops-bench-"))
    bench = Bench(args, work)
    started = time.monotonic()
    try:
        bench.start(path)
        meta["rss_calibration"] = bench.calibrate_rss()
        log("RSS wrapper check: {0}".format(meta["rss_calibration"]))
        bench.warm_up([c for c in contenders if c != "floor"])
        # Run-major order: the runs of every N are spread over the whole session, so a burst of load
        # from other jobs on a shared machine lands on one run of several N, not on all runs of one N.
        for run_index in range(args.runs):
            for n in args.sizes:
                for contender in contenders:
                    if contender == "loop" and n > args.loop_max_n:
                        continue
                    bench.lifecycle(contender, n, run_index, args.scenarios)
        if args.quota_n and "module" in contenders:
            bench.quota_run(args.quota_n)
    finally:
        bench.stop()
        if args.keep_work:
            log("work directory kept: {0}".format(work))
        else:
            shutil.rmtree(work, ignore_errors=True)

    meta["duration_s"] = round(time.monotonic() - started, 1)
    meta["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta["loadavg_end"] = "{0:.2f}".format(os.getloadavg()[0])
    meta["failed_runs"] = [{k: r[k] for k in ("contender", "scenario", "n", "run")} for r in bench.records
                           if not r["ok"]]
    return write_outputs(meta, bench.records, args.out_dir)


def write_outputs(meta: dict, records: list, out_dir: Path) -> int:
    """results.json, time_vs_n.png and README.md from the runs' records."""
    figures = aggregate(records)
    targets = evaluate_targets(figures, meta["sizes"])
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {
        "meta": meta,
        "targets": targets,
        "figures": sorted(figures.values(), key=lambda f: (
            (SCENARIOS + (QUOTA_SCENARIO,)).index(f["scenario"]), f["n"], CONTENDERS.index(f["contender"]))),
        "runs": records,
    }
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    chart(out_dir / "time_vs_n.png", figures, meta)
    (out_dir / "README.md").write_text(markdown(meta, figures, targets, meta["sizes"]), encoding="utf-8")

    log("wrote {0}/results.json, time_vs_n.png, README.md (run took {1:.0f} s)".format(out_dir, meta["duration_s"]))
    for target in targets:
        log("target {0:<58} {1:<13} measured {2}".format(target["target"], target["status"], target["measured"]))
    if meta["failed_runs"]:
        log("{0} run(s) failed or wrote unexpectedly: {1}".format(len(meta["failed_runs"]), meta["failed_runs"]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

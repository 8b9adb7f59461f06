"""Profile one run of aws_secrets_manager_set at N secrets, outside Ansible's process tree.

Starts moto on loopback, brings it to the scenario's starting state (``floor.py`` creates the
secrets), runs the module once through ``ansible-playbook`` with ``ANSIBLE_KEEP_REMOTE_FILES=1`` to
capture its ``AnsiballZ_aws_secrets_manager_set.py`` (arguments included), then runs that file
again under a sampling profiler, so that only the module process is profiled:

    python tests/benchmarks/profile_module.py --n 1000 --scenario rerun --profiler py-spy
    python tests/benchmarks/profile_module.py --n 1000 --scenario create --profiler pyinstrument

``py-spy`` is looked up on PATH (``pip install py-spy`` anywhere: it is a standalone binary);
``pyinstrument`` must be importable by this interpreter (``pip install pyinstrument``, or
``PYTHONPATH=<dir>`` after ``pip install --target <dir> pyinstrument``). Neither is a dependency
of the collection or of ``make bench``. Prints the functions with the most inclusive time and
leaves the raw profile in ``--out-dir`` (default ``build/profile``).
Needs the installed collection (``make install``), like ``run.py``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.benchmarks import run as bench  # noqa: E402
from tests.support.moto import MotoServer  # noqa: E402
from tests.support.playbook import run_playbook  # noqa: E402


def summarise_py_spy(raw_path: Path, top: int) -> str:
    """Inclusive share of each function (file:line dropped) from py-spy's collapsed stacks."""
    total = 0
    inclusive = collections.Counter()
    own = collections.Counter()
    for line in raw_path.read_text(encoding="utf-8").splitlines():
        stack, _sep, count = line.rpartition(" ")
        count = int(count)
        total += count
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    lines = ["{0} samples; inclusive share, then self share:".format(total)]
    lines += ["{0:5.1f}%  {1}".format(100.0 * count / total, frame) for frame, count in inclusive.most_common(top)]
    lines += ["---"] + ["{0:5.1f}%  {1}".format(100.0 * count / total, frame) for frame, count in own.most_common(10)]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--scenario", default="rerun", choices=bench.SCENARIOS)
    parser.add_argument("--profiler", default="py-spy", choices=("py-spy", "pyinstrument"))
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out-dir", default=str(REPO_ROOT / "build" / "profile"))
    args = parser.parse_args(argv)
    collections_path = bench.collections_path()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy")
    if args.profiler == "py-spy" and not py_spy:
        sys.exit("error: py-spy is not on PATH (pip install py-spy)")

    work = Path(tempfile.mkdtemp(prefix="envops-profile-"))
    moto = MotoServer(log_path=work / "moto.log").start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_", "BOTO_"))}
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path), "ANSIBLE_HOME": str(work / "home"),
            "ANSIBLE_REMOTE_TEMP": str(work / "remote"), "ANSIBLE_KEEP_REMOTE_FILES": "1",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_URL": moto.url, "AWS_ENDPOINT_URL": moto.url,
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": str(work / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(work / "none"), "NO_PROXY": "127.0.0.1,localhost",
        })
        secrets_file = work / "secrets.json"
        if args.scenario not in ("create", "check"):
            secrets_file.write_text(json.dumps(bench.declared_secrets(args.n, "create")), encoding="utf-8")
            subprocess.run([sys.executable, str(bench.BENCH_DIR / "floor.py"), "--endpoint", moto.url, "--scenario",
                            "create", "--prefix", bench.PREFIX, "--secrets", str(secrets_file)],
                           env=env, check=True, capture_output=True)
        playbook = work / "play.yml"
        playbook.write_text(bench.module_play(sys.executable), encoding="utf-8")
        extra_vars = {"bench_prefix": bench.PREFIX, "bench_secrets": bench.declared_secrets(args.n, args.scenario),
                      "bench_overwrite": bench.OVERWRITE[args.scenario]}
        # The capture run: the update scenario is applied here already, so the profiled rerun of it
        # finds nothing to update (same reads, no writes).
        run = run_playbook(playbook, env=env, check=args.scenario == "check", extra_vars=extra_vars,
                           timeout=3600, tmpdir=work / "playbook")
        run.assert_ok()
        ansiballz = sorted((work / "remote").glob("*/AnsiballZ_aws_secrets_manager_set.py"))[-1]
        if args.scenario == "create":
            moto.reset()
        print("capture run: {0:.2f} s end to end; profiling {1}".format(run.duration, ansiballz))

        started = time.monotonic()
        if args.profiler == "py-spy":
            raw = out_dir / "py-spy-{0}-{1}.txt".format(args.scenario, args.n)
            subprocess.run([py_spy, "record", "--rate", str(args.rate), "--format", "raw", "--output", str(raw),
                            "--", sys.executable, str(ansiballz)],
                           env=env, check=True, stdout=subprocess.DEVNULL)
            report = summarise_py_spy(raw, args.top)
        else:
            raw = out_dir / "pyinstrument-{0}-{1}.txt".format(args.scenario, args.n)
            subprocess.run([sys.executable, "-m", "pyinstrument", "--renderer", "text", "--outfile", str(raw),
                            str(ansiballz)], env=dict(env, PYTHONPATH=os.environ.get("PYTHONPATH", "")),
                           check=True, stdout=subprocess.DEVNULL)
            report = raw.read_text(encoding="utf-8")
        print("profiled run: {0:.2f} s (profiler overhead included)".format(time.monotonic() - started))
        print(report)
        print("raw profile: {0}".format(raw))
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

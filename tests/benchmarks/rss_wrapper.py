"""Interpreter wrapper that records the peak RSS and wall time of each module process.

``run.py`` copies this file into its work directory with a first line
``#!<venv python> -IS`` and sets ``ansible_python_interpreter`` to the copy, so Ansible starts
every module as ``<copy> AnsiballZ_<module>.py``. The wrapper forks, execs the real interpreter
(``REAL_PYTHON``) with the same arguments, waits for it, and appends one JSON line to ``LOG_PATH``:

    {"maxrss_kib": ..., "wall_s": ..., "rc": ..., "cpu_s": ..., "module": "AnsiballZ_....py"}

``maxrss_kib`` is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` (KiB on Linux): the peak resident set
of the module process (and of anything it waited for), not of ``ansible-playbook``; ``cpu_s`` is its
user + system CPU time from the same call. stdin, stdout
and stderr are inherited, and the exit status is passed on, so Ansible sees the module as usual.
Standard library only, started with ``-I -S`` to keep its own cost to a few milliseconds.
"""

import json
import os
import resource
import sys
import time

REAL_PYTHON = "@REAL_PYTHON@"
LOG_PATH = "@LOG_PATH@"


def main():
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(REAL_PYTHON, [REAL_PYTHON] + sys.argv[1:])
        finally:
            os._exit(127)
    status = os.waitpid(pid, 0)[1]
    wall = time.monotonic() - started
    rc = os.waitstatus_to_exitcode(status)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    module = os.path.basename(sys.argv[1]) if len(sys.argv) > 1 else ""
    with open(LOG_PATH, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"maxrss_kib": usage.ru_maxrss, "wall_s": round(wall, 4), "rc": rc,
                                 "cpu_s": round(usage.ru_utime + usage.ru_stime, 4), "module": module}) + "\n")
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main())

"""scripts/find_python.sh: which interpreter `make` picks for PYTHON=... and for the matrix venvs."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "find_python.sh"
RUNNING = "{0}.{1}".format(*sys.version_info[:2])


def find(*wanted):
    return subprocess.run(["bash", str(SCRIPT), *wanted], capture_output=True, text=True, check=False, timeout=60)


def version_of(interpreter):
    return subprocess.run([interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True, check=True, timeout=60).stdout.strip()


@pytest.mark.parametrize("wanted", [RUNNING, "python" + RUNNING, sys.executable])
def test_a_version_a_command_or_a_path_finds_that_version(wanted):
    found = find(wanted)
    assert found.returncode == 0, found.stderr
    assert version_of(found.stdout.strip()) == RUNNING


def test_the_first_version_that_exists_wins():
    found = find("2.1", RUNNING)
    assert found.returncode == 0 and version_of(found.stdout.strip()) == RUNNING


def test_nothing_found_exits_1_and_prints_nothing():
    found = find("2.1", "python2.1", "/nonexistent/python")
    assert found.returncode == 1 and found.stdout == ""

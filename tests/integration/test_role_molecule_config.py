"""The molecule scenarios carry the shared settings of extensions/molecule/config.yml.

`make molecule` runs `molecule test --all` from extensions/, where molecule does not read
extensions/molecule/config.yml (it does only when started from the collection root), so each scenario's
molecule.yml repeats those settings. This keeps the copies from drifting apart, and checks the settings that keep
molecule away from Galaxy and on the installed build.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

MOLECULE_DIR = Path(__file__).resolve().parents[2] / "extensions" / "molecule"
SHARED = yaml.safe_load((MOLECULE_DIR / "config.yml").read_text())
SCENARIOS = sorted(path.parent.name for path in MOLECULE_DIR.glob("*/molecule.yml"))


def missing_from(shared, scenario, path="") -> list[str]:
    """Keys/values of `shared` that `scenario` lacks or sets differently (dicts compared recursively)."""
    if isinstance(shared, dict):
        if not isinstance(scenario, dict):
            return [f"{path or '/'}: not a mapping"]
        problems = []
        for key, value in shared.items():
            if key not in scenario:
                problems.append(f"{path}/{key}: missing")
            else:
                problems += missing_from(value, scenario[key], f"{path}/{key}")
        return problems
    return [] if shared == scenario else [f"{path}: {scenario!r} != shared {shared!r}"]


def test_every_scenario_is_there():
    assert SCENARIOS == ["bad_input", "credentials", "default", "dry_run", "multi_env"]


def test_shared_settings_never_reach_galaxy_and_use_the_installed_build():
    assert SHARED["prerun"] is False
    assert SHARED["dependency"]["enabled"] is False
    assert SHARED["driver"]["name"] == "default"
    env = SHARED["ansible"]["env"]
    assert env["ANSIBLE_COLLECTIONS_PATH"] == "${MOLECULE_SCENARIO_DIRECTORY}/../../../build/collections"
    assert env["ANSIBLE_GALAXY_SERVER"].startswith("http://127.0.0.1:")
    assert env["AWS_URL"].startswith("http://127.0.0.1:")
    assert SHARED["provisioner"]["inventory"]["group_vars"]["all"]["ansible_connection"] == "local"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_repeats_the_shared_settings(scenario):
    config = yaml.safe_load((MOLECULE_DIR / scenario / "molecule.yml").read_text())
    assert missing_from(SHARED, config) == []
    assert "destroy" == config["scenario"]["test_sequence"][-1]

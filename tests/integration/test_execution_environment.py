"""The execution environment definition (execution-environment.yml) makes a sound build context.

``ansible-builder create`` writes the context (Containerfile, requirement files, scripts, the bundled collection
tarball) without any container runtime, so it can run here. The collection's runtime requirements
(requirements.txt) are what both the definition and ansible-builder's introspection (run for every collection
installed in an EE, with paths relative to the collection root) read; that reader is exercised on the installed
collection.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
EE_FILE = REPO_ROOT / "execution-environment.yml"
RUNTIME_REQUIREMENTS = REPO_ROOT / "requirements.txt"
GALAXY = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
TARBALL_NAME = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"


def _tool(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.is_file():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found next to {sys.executable} nor on PATH (make venv installs it)", pytrace=False)
    return found


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AWS_"))}
    env["ANSIBLE_GALAXY_SERVER"] = "http://127.0.0.1:9"  # never Galaxy
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
                          check=False, **kwargs)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> Path:
    """The collection tarball that the EE bundles: build/<tarball> from `make build`, else a fresh build."""
    built = REPO_ROOT / "build" / TARBALL_NAME
    if built.is_file():
        return built
    out = tmp_path_factory.mktemp("dist")
    _run([_tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(out)], cwd=REPO_ROOT)
    return out / TARBALL_NAME


@pytest.fixture(scope="module")
def context(tmp_path_factory, tarball) -> Path:
    """`ansible-builder create` of execution-environment.yml, in the repository's layout (requirements.txt, build/)."""
    tree = tmp_path_factory.mktemp("ee-tree")
    for name in (EE_FILE.name, RUNTIME_REQUIREMENTS.name):
        shutil.copy2(REPO_ROOT / name, tree / name)
    (tree / "build").mkdir()
    shutil.copy2(tarball, tree / "build" / TARBALL_NAME)
    out = tree / "context"
    _run([_tool("ansible-builder"), "create", "-f", str(tree / EE_FILE.name),
          "-c", str(out), "--output-filename", "Containerfile", "-v", "3"])
    return out


def test_definition_is_v3_with_python_requirements():
    definition = yaml.safe_load(EE_FILE.read_text())
    assert definition["version"] == 3
    deps = definition["dependencies"]
    assert deps["python_interpreter"]["python_path"].startswith("/usr/bin/python3")
    assert "ansible-core" in deps["ansible_core"]["package_pip"]
    assert "ansible-runner" in deps["ansible_runner"]["package_pip"]
    assert [c["name"] for c in deps["galaxy"]["collections"]] == ["amazon.aws"]


def test_one_runtime_requirements_file_serves_both_readers():
    """The definition and introspection read the same requirements.txt, with no copy of it.

    ansible-builder resolves `dependencies.python` next to the definition (the repository root here); introspection
    reads <collection root>/requirements.txt when the collection has no meta/execution-environment.yml (a definition
    there would make the same path mean meta/... to the builder, which is what needed the meta/meta copy).
    """
    definition = yaml.safe_load(EE_FILE.read_text())
    assert (EE_FILE.parent / definition["dependencies"]["python"]).resolve() == RUNTIME_REQUIREMENTS
    assert not list((REPO_ROOT / "meta").glob("execution-environment.y*ml"))
    assert not list((REPO_ROOT / "meta").rglob("*requirements*.txt"))
    lines = [line for line in RUNTIME_REQUIREMENTS.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert {re.split(r"[<>=!~ ]", line, maxsplit=1)[0].lower() for line in lines} == {"boto3", "botocore"}
    assert not [line for line in lines if "==" in line], "runtime requirements are ranges; pins go to requirements-dev"


def test_build_context(context):
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert re.search(r'ARG ANSIBLE_INSTALL_REFS="ansible-core[^"]* ansible-runner[^"]*"', containerfile)
    # stages in order: base, galaxy (amazon.aws from requirements.yml, then this collection's tarball), builder
    # (introspection + the user's pip requirements), final
    stages = re.findall(r"^FROM \S+ AS (\w+)$", containerfile, flags=re.M)
    assert stages == ["base", "galaxy", "builder", "final"]
    galaxy_stage = containerfile.split("FROM base AS galaxy", 1)[1].split("FROM base AS builder", 1)[0]
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in galaxy_stage
    assert ("ansible-galaxy collection install --no-deps --collections-path /usr/share/ansible/collections "
            "/build/collections/envops-aws_secrets-*.tar.gz") in galaxy_stage
    assert "introspect.py introspect --user-pip=requirements.txt" in containerfile
    assert "LABEL ansible-execution-environment=true" in containerfile

    build = context / "_build"
    pip = (build / "requirements.txt").read_text()
    assert re.search(r"^boto3>=", pip, flags=re.M) and re.search(r"^botocore>=", pip, flags=re.M)
    assert yaml.safe_load((build / "requirements.yml").read_text()) == {
        "collections": [{"name": "amazon.aws", "version": ">=9.0.0"}]}
    assert (build / "collections" / TARBALL_NAME).is_file()
    assert not (build / "bindep.txt").exists()
    for script in ("assemble", "introspect.py", "check_ansible", "check_galaxy", "install-from-bindep"):
        assert (build / "scripts" / script).is_file(), script


def test_introspection_of_the_installed_collection(context, collection_path):
    """What the builder stage runs on /usr/share/ansible/collections, run on the installed collection."""
    proc = _run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                 str(collection_path)])
    data = yaml.safe_load(proc.stdout)
    assert sorted(data["python"]) == ["boto3>=1.34.0  # from collection envops.aws_secrets",
                                      "botocore>=1.34.0  # from collection envops.aws_secrets"]
    assert data["system"] == []

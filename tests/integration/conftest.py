"""Fixtures for the integration tests: moto, the counting/fault proxy, the
installed collection and ``ansible-playbook`` runs against them.

Fixtures
--------
``moto_server`` (session)   a real ``moto_server`` subprocess (``MotoServer``).
``aws_proxy``               a fresh ``AwsProxy`` in front of moto; moto is reset first.
``collection_path`` (session) dir holding ``ansible_collections/envops/aws_secrets`` (installed build).
``ansible_env``             env dict for ansible subprocesses (fake creds, ``AWS_URL`` = proxy).
``playbook``                ``playbook(yaml_or_path, **run_playbook_kwargs) -> PlaybookRun``.
``sm``                      boto3 secretsmanager client DIRECTLY on moto (us-east-1), not counted.
``sm_client``               factory ``sm_client(region="us-east-1")`` of such clients.
``aws_client``              factory ``aws_client(service="secretsmanager", region="us-east-1", *,
                            via_proxy=False, total_max_attempts=None)``.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # make ``tests.support`` importable however pytest is started
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.aws_proxy import AwsProxy  # noqa: E402
from tests.support.clients import aws_client as _aws_client  # noqa: E402
from tests.support.moto import MotoServer  # noqa: E402
from tests.support.playbook import GALAXY_BLACKHOLE  # noqa: E402
from tests.support.playbook import ansible_bin  # noqa: E402
from tests.support.playbook import clean_environ  # noqa: E402
from tests.support.playbook import isolated_ansible_env  # noqa: E402
from tests.support.playbook import run_playbook  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running integration test (deselect with -m 'not slow')")


# ---------------------------------------------------------------------------
# AWS side
# ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def moto_server():
    """A moto_server subprocess on a free 127.0.0.1 port for the whole session."""
    with MotoServer() as server:
        yield server


@pytest.fixture
def _fresh_moto(moto_server):
    """moto with all state wiped, once per test (shared by aws_proxy and sm)."""
    moto_server.reset()
    return moto_server


@pytest.fixture
def aws_proxy(_fresh_moto):
    """A fresh counting / fault-injecting proxy in front of a freshly reset moto."""
    proxy = AwsProxy(_fresh_moto.url).start()
    try:
        yield proxy
    finally:
        errors = proxy.errors()
        proxy.stop()
        if errors:
            warnings.warn(f"aws_proxy recorded {len(errors)} internal error(s): {errors[0][:2000]}",
                          stacklevel=1)


@pytest.fixture
def sm_client(_fresh_moto):
    """Factory of boto3 secretsmanager clients pointed directly at moto (not counted)."""

    def factory(region: str = "us-east-1", **kwargs):
        return _aws_client("secretsmanager", _fresh_moto.url, region, **kwargs)

    return factory


@pytest.fixture
def sm(sm_client):
    """boto3 secretsmanager client, us-east-1, directly on moto -- for arranging and asserting."""
    return sm_client("us-east-1")


@pytest.fixture
def aws_client(_fresh_moto, request):
    """Factory ``aws_client(service="secretsmanager", region="us-east-1", *, via_proxy=False, ...)``.

    ``via_proxy=True`` goes through the ``aws_proxy`` fixture (so it is counted).
    """

    def factory(service: str = "secretsmanager", region: str = "us-east-1", *, via_proxy: bool = False, **kwargs):
        url = request.getfixturevalue("aws_proxy").url if via_proxy else _fresh_moto.url
        return _aws_client(service, url, region, **kwargs)

    return factory


# ---------------------------------------------------------------------------
# Ansible side
# ---------------------------------------------------------------------------

def _build_env(home: Path) -> dict:
    env = clean_environ()
    env.update({
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_GALAXY_SERVER": GALAXY_BLACKHOLE,
        "ANSIBLE_NOCOLOR": "1",
    })
    return env


def _run_checked(cmd: list[str], *, cwd: Path, env: dict) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=600, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}",
                    pytrace=False)
    return proc.stdout


@pytest.fixture(scope="session")
def collection_path(tmp_path_factory) -> Path:
    """Directory containing ``ansible_collections/envops/aws_secrets`` as installed from a build.

    ``$ENVOPS_COLLECTIONS_PATH`` (set by ``make install``) wins; otherwise the
    collection is built from the repo and installed into a session temp dir.
    """
    given = os.environ.get("ENVOPS_COLLECTIONS_PATH")
    if given:
        path = Path(given)
        if not path.is_absolute():
            path = (REPO_ROOT / path).resolve()
    else:
        base = tmp_path_factory.mktemp("collection")
        env = _build_env(base / "ansible-home")
        galaxy = ansible_bin("ansible-galaxy")
        _run_checked([galaxy, "collection", "build", "--force", "--output-path", str(base / "dist")],
                     cwd=REPO_ROOT, env=env)
        tarballs = sorted((base / "dist").glob("envops-aws_secrets-*.tar.gz"))
        if len(tarballs) != 1:
            pytest.fail(f"expected exactly one built tarball in {base / 'dist'}, found {tarballs}", pytrace=False)
        path = base / "collections"
        _run_checked([galaxy, "collection", "install", "--no-deps", "--force", "-p", str(path), str(tarballs[0])],
                     cwd=base, env=env)
    manifest = path / "ansible_collections" / "envops" / "aws_secrets" / "MANIFEST.json"
    assert manifest.is_file(), f"no installed envops.aws_secrets under {path} (missing {manifest})"
    return path


@pytest.fixture
def ansible_env(collection_path, aws_proxy, tmp_path) -> dict:
    """Environment for ansible subprocesses: clean, fake creds, AWS endpoint = the proxy.

    Besides the documented ``AWS_URL`` (what amazon.aws modules read),
    ``AWS_ENDPOINT_URL`` is set to the proxy too as a safety net so that no
    boto3 client in a subprocess can ever reach real AWS; pop it (e.g.
    ``playbook(..., env={"AWS_ENDPOINT_URL": None})``) to check that code
    honours ``AWS_URL`` on its own.
    """
    return isolated_ansible_env(collection_path, aws_proxy.url, tmp_path)


@pytest.fixture
def playbook(ansible_env, tmp_path):
    """``playbook(yaml_or_path, **kw) -> PlaybookRun``: ``run_playbook`` with ``env=ansible_env``.

    ``env={...}`` in ``kw`` is merged over ``ansible_env`` (a ``None`` value
    removes the variable).  Temp files go to ``tmp_path/playbook-N`` (kept for
    debugging) and the working directory defaults to ``tmp_path``.
    """
    counter = itertools.count(1)

    def _run(playbook_, **kw):
        env = dict(ansible_env)
        for key, value in (kw.pop("env", None) or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)
        kw.setdefault("tmpdir", tmp_path / f"playbook-{next(counter)}")
        kw.setdefault("cwd", tmp_path)
        return run_playbook(playbook_, env=env, **kw)

    return _run

"""The playbooks run as an AWX / Automation Controller job runs them: through ansible-runner.

Each test lays out a private data dir the way AWX does -- project/ (the installed collection's playbooks/, as with
the collection's repository as the AWX project),
inventory/hosts (several environments), env/envvars (what AWX's "Amazon Web Services" credential injects, plus what
the custom credential type of extensions/awx/credential_type.yml injects, rendered from its injectors), env/extravars
-- and calls ``ansible_runner.run()``. AWS is moto behind a loopback proxy that records the security token of every
call; the collection is the installed build.

Not asserted: runner's own ``artifacts/<ident>/command`` file holds the job's whole environment (AWS keys
included) by design of ansible-runner; AWX keeps the private data dir only for the job's lifetime. Everything else in
the artifacts (job events, stdout) must hold no secret value and no AWS secret key or token.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from pathlib import Path

import ansible_runner
import jinja2
import jinja2.sandbox
import pytest
import yaml

from tests.support.aws_proxy import AwsProxy
from tests.support.clients import aws_client
from tests.support.playbook import leak_forms

REPO_ROOT = Path(__file__).resolve().parents[2]
AWX_DIR = REPO_ROOT / "extensions" / "awx"
MODULE_TASK = "Bring the environment's secrets to the declared state"
SUMMARY_TASK = "Summarize the environment"
ACCOUNT = "210987654321"
CANARY = "awx-canary-Secret-7c1e9b44f0"


class TokenRecordingProxy(AwsProxy):
    """The harness proxy, also recording the X-Amz-Security-Token header of every AWS call."""

    def __init__(self, upstream: str):
        super().__init__(upstream)
        self.tokens: list[tuple[str | None, str | None]] = []
        self._tokens_lock = threading.Lock()

    def _new_call(self, method, path, headers, body):
        call = super()._new_call(method, path, headers, body)
        with self._tokens_lock:
            self.tokens.append((call.op, headers.get("X-Amz-Security-Token")))
        return call


@pytest.fixture
def proxy(moto_server, sm):  # noqa: ARG001 - sm: moto is reset for this test
    with TokenRecordingProxy(moto_server.url) as started:
        yield started


@pytest.fixture
def job_credentials(moto_server):
    """Temporary credentials in account ACCOUNT, as AWX's AWS credential would hold them (key, secret, STS token)."""
    sts = aws_client("sts", moto_server.url)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/awx-job", RoleSessionName="awx-job")["Credentials"]
    return {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SECURITY_TOKEN": creds["SessionToken"]}


@pytest.fixture
def account_sm(moto_server, job_credentials):
    """secretsmanager client in ACCOUNT, directly on moto (not through the proxy)."""
    import boto3

    return boto3.client("secretsmanager", endpoint_url=moto_server.url, region_name="us-east-1",
                        aws_access_key_id=job_credentials["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=job_credentials["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=job_credentials["AWS_SECURITY_TOKEN"])


def render_custom_credential(inputs: dict) -> tuple[dict, dict]:
    """(env, extra_vars) that AWX injects for a credential of extensions/awx/credential_type.yml."""
    definition = yaml.safe_load((AWX_DIR / "credential_type.yml").read_text())
    fields = {field["id"] for field in definition["inputs"]["fields"]}
    assert set(inputs) <= fields, f"unknown inputs {set(inputs) - fields}"
    values = {field: inputs.get(field, "") for field in fields}
    env_ = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    render = {section: {key: env_.from_string(template).render(**values)
                        for key, template in definition["injectors"].get(section, {}).items()}
              for section in ("env", "extra_vars")}
    return render["env"], render["extra_vars"]


class AwxJob:
    """A private data dir laid out like AWX's, and ansible_runner.run() on it."""

    def __init__(self, root: Path, collection_path: Path, proxy_url: str):
        self.root = root
        self.collection_path = collection_path
        self.proxy_url = proxy_url

    def run(self, playbook: str, *, inventory: dict, aws_env: dict, credential_inputs: dict,
            extravars: dict | None = None, ident: str = "job"):
        pdd = self.root / ident
        installed = self.collection_path / "ansible_collections" / "envops" / "aws_secrets"
        shutil.copytree(installed / "playbooks", pdd / "project" / "playbooks")
        (pdd / "inventory").mkdir(parents=True)
        (pdd / "inventory" / "hosts").write_text(yaml.safe_dump(inventory))
        injected_env, injected_extra = render_custom_credential(credential_inputs)
        home = pdd / "home"
        home.mkdir()
        envvars = {
            # AWX's "Amazon Web Services" credential
            **aws_env,
            # the custom credential type
            **injected_env,
            # the job's environment: the EE would have these; here the venv and the installed build
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "ANSIBLE_COLLECTIONS_PATH": str(self.collection_path),
            "ANSIBLE_HOME": str(home / ".ansible"),
            "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
            "ANSIBLE_GALAXY_SERVER": "http://127.0.0.1:9",
            "AWS_URL": self.proxy_url,
            "AWS_ENDPOINT_URL": self.proxy_url,
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
            "NO_PROXY": "127.0.0.1,localhost",
        }
        (pdd / "env").mkdir()
        (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
        (pdd / "env" / "extravars").write_text(yaml.safe_dump({**injected_extra, **(extravars or {})}))
        result = ansible_runner.run(private_data_dir=str(pdd), playbook=playbook, ident=ident, quiet=True,
                                    suppress_env_files=True, timeout=600)
        return result, pdd / "artifacts" / ident


@pytest.fixture
def awx_job(tmp_path, collection_path, proxy, monkeypatch):
    # ansible-runner starts from os.environ: keep the test runner's own AWS/Ansible settings out of the job.
    for key in list(os.environ):
        if key.startswith(("AWS_", "ANSIBLE_", "BOTO_")) or key.lower().endswith("_proxy"):
            monkeypatch.delenv(key)
    return AwxJob(tmp_path, collection_path, proxy.url)


def events_of(result, event: str, task: str) -> list[dict]:
    return [e["event_data"] for e in result.events
            if e.get("event") == event and e.get("event_data", {}).get("task") == task]


def assert_no_secret_material(artifacts: Path, secrets: dict[str, str], *, skip=("command",)) -> None:
    """No form (raw, JSON-escaped, base64, digests) of any secret in any artifact file but `skip`."""
    checked = 0
    for path in sorted(artifacts.rglob("*")):
        if not path.is_file() or path.relative_to(artifacts).as_posix() in skip:
            continue
        text = path.read_text(errors="replace")
        checked += 1
        for label, secret in secrets.items():
            for form, value in leak_forms(secret, unique=True).items():
                assert value.lower() not in text.lower(), f"{label} as {form} in {path.relative_to(artifacts)}"
    assert checked > 10, f"only {checked} artifact files found under {artifacts}"


INVENTORY = {
    "environments": {
        "hosts": {
            # alpha: the environment comes from the custom credential (ENVIRONMENT_INFO)
            "alpha": {},
            # beta: host variables win over the injected environment variables
            "beta": {
                "environment_secrets_environment_info": {
                    "name": "beta", "region": "us-east-1", "account_id": ACCOUNT,
                    "tags": {"environment": "beta"},
                },
                "environment_secrets_names": ["beta-only"],
            },
        },
        "vars": {"ansible_connection": "local"},
    }
}

READER = f"arn:aws:iam::{ACCOUNT}:role/alpha-app"
CREDENTIAL_INPUTS = {
    # The environment declares its readers through the credential alone.
    "environment_info": json.dumps({"name": "alpha", "account_id": ACCOUNT, "tags": {"environment": "alpha"},
                                    "readers": [READER]}),
    "stack_job_settings": json.dumps({"concurrency": 4, "overwrite": True, "tags": {"job": "awx"}}),
    "secret_names": "api-key, session-key",
}


def test_awx_job_converges_every_environment_without_leaking(awx_job, proxy, job_credentials, account_sm):
    extravars = {"environment_secrets_hosts": "environments",
                 "environment_secrets_secrets": [{"name": "canary", "value": CANARY}]}
    result, artifacts = awx_job.run("playbooks/manage_secrets.yml", inventory=INVENTORY,
                                    aws_env=job_credentials, credential_inputs=CREDENTIAL_INPUTS,
                                    extravars=extravars, ident="apply")
    assert (result.status, result.rc) == ("successful", 0), result.stdout.read()[-5000:]

    # job events: the module task ran once per environment (runner_on_ok), its result censored by no_log
    module_events = events_of(result, "runner_on_ok", MODULE_TASK)
    assert sorted(e["host"] for e in module_events) == ["alpha", "beta"]
    assert all(e["res"].get("censored") for e in module_events)
    summaries = {e["host"]: e["res"]["msg"] for e in events_of(result, "runner_on_ok", SUMMARY_TASK)}
    assert summaries["alpha"][0].startswith(f"Environment alpha: region us-east-1, prefix alpha/, "
                                            f"the default AWS credential chain, account {ACCOUNT}")
    assert "Secrets: 3 total; created: 3," in summaries["alpha"][2]
    assert "Secrets: 2 total; created: 2," in summaries["beta"][2]
    assert not events_of(result, "runner_on_failed", MODULE_TASK)

    # moto: each environment's secrets, in the account of the job's credentials, with merged tags
    listed = {s["Name"]: {t["Key"]: t["Value"] for t in s.get("Tags", [])}
              for s in account_sm.list_secrets()["SecretList"]}
    owner = {"envops:managed-by": "envops.aws_secrets"}  # the ownership tag on every secret the module creates
    assert listed == {
        "alpha/api-key": dict(owner, environment="alpha", job="awx"),
        "alpha/session-key": dict(owner, environment="alpha", job="awx"),
        "alpha/canary": dict(owner, environment="alpha", job="awx"),
        "beta/beta-only": dict(owner, environment="beta", job="awx"),
        "beta/canary": dict(owner, environment="beta", job="awx"),
    }
    assert account_sm.get_secret_value(SecretId="beta/canary")["SecretString"] == CANARY
    for name in ("alpha/api-key", "alpha/session-key", "alpha/canary"):
        policy = json.loads(account_sm.get_resource_policy(SecretId=name)["ResourcePolicy"])
        (readers,) = [s for s in policy["Statement"] if s.get("Sid") == "EnvopsAwsSecretsReaders"]
        assert readers["Principal"]["AWS"] in (READER, [READER]), name
    assert "ResourcePolicy" not in account_sm.get_resource_policy(SecretId="beta/canary")

    # AWX's AWS_SECURITY_TOKEN reached every call (the role passes it on; amazon.aws alone reads only
    # AWS_SESSION_TOKEN)
    assert proxy.tokens, "no AWS call went through the proxy"
    assert {token for _op, token in proxy.tokens} == {job_credentials["AWS_SECURITY_TOKEN"]}, proxy.tokens

    assert_no_secret_material(artifacts, {
        "the canary value": CANARY,
        "the AWS secret key": job_credentials["AWS_SECRET_ACCESS_KEY"],
        "the AWS security token": job_credentials["AWS_SECURITY_TOKEN"],
    })

    # a second job changes nothing, and a dry run of a change writes nothing
    proxy.reset()
    again, _again_artifacts = awx_job.run("playbooks/manage_secrets.yml", inventory=INVENTORY,
                                          aws_env=job_credentials, credential_inputs=CREDENTIAL_INPUTS,
                                          extravars=extravars, ident="again")
    assert (again.status, again.rc) == ("successful", 0)
    # (no_log censors the module's result in job events, changed flag included; the summary tells)
    assert sorted(e["host"] for e in events_of(again, "runner_on_ok", MODULE_TASK)) == ["alpha", "beta"]
    again_summaries = {e["host"]: e["res"]["msg"] for e in events_of(again, "runner_on_ok", SUMMARY_TASK)}
    assert again_summaries["alpha"][2:4] == ["Secrets: 3 total; created: 0, updated: 0, unchanged: 3, deleted: 0, "
                                             "restored: 0, absent: 0, skipped: 0, failed: 0", "Changed: none"]
    assert again_summaries["beta"][3] == "Changed: none"

    dry_inputs = dict(CREDENTIAL_INPUTS, stack_job_settings=json.dumps(
        {"dry_run": True, "overwrite": True, "prune": True, "tags": {"job": "awx-2"}}))
    proxy.reset()
    dry, dry_artifacts = awx_job.run(
        "playbooks/manage_secrets.yml", inventory=INVENTORY, aws_env=job_credentials, credential_inputs=dry_inputs,
        extravars={**extravars, "environment_secrets_secrets": [{"name": "canary", "value": CANARY + "-new"}]},
        ident="dry")
    assert (dry.status, dry.rc) == ("successful", 0)
    assert proxy.write_count() == 0, proxy.counts()
    dry_summaries = {e["host"]: e["res"]["msg"] for e in events_of(dry, "runner_on_ok", SUMMARY_TASK)}
    assert dry_summaries["alpha"][1] == "Mode: apply (dry run: check mode, nothing written)"
    assert dry_summaries["alpha"][2].startswith("Secrets: 3 total; created: 0, updated: 3,")
    assert dry_summaries["beta"][3] == "Changed: beta/beta-only, beta/canary"
    assert account_sm.get_secret_value(SecretId="alpha/canary")["SecretString"] == CANARY
    assert_no_secret_material(dry_artifacts, {"the canary value": CANARY, "the new canary value": CANARY + "-new"})


def test_awx_drift_job_reports_missing_and_extra(awx_job, proxy, job_credentials, account_sm):
    account_sm.create_secret(Name="alpha/api-key", SecretString="x-value-1")
    account_sm.create_secret(Name="alpha/retired", SecretString="x-value-2")
    account_sm.create_secret(Name="beta/beta-only", SecretString="x-value-3")

    result, _drift_artifacts = awx_job.run("playbooks/report_drift.yml", inventory=INVENTORY,
                                           aws_env=job_credentials, credential_inputs=CREDENTIAL_INPUTS,
                                           extravars={"environment_secrets_hosts": "environments"}, ident="drift")
    assert (result.status, result.rc) == ("successful", 0), result.stdout.read()[-5000:]
    assert proxy.write_count() == 0
    assert "BatchGetSecretValue" not in proxy.counts() and "GetSecretValue" not in proxy.counts()
    (report,) = events_of(result, "runner_on_ok", "Show the drift across environments")
    assert report["res"]["msg"] == [
        "alpha (alpha, alpha/): DRIFT, missing: alpha/session-key; extra: alpha/retired",
        "beta (beta, beta/): in sync",
    ]


def test_awx_job_with_malformed_injected_json_fails_before_any_aws_call(awx_job, proxy, job_credentials):
    inputs = dict(CREDENTIAL_INPUTS, environment_info='{"name": "alpha", "note": "' + CANARY + '"',
                  stack_job_settings='{"overwrite": true, "bogus": 1}')
    result, artifacts = awx_job.run("playbooks/manage_secrets.yml",
                                    inventory={"environments": {"hosts": {"alpha": {}}}},
                                    aws_env=job_credentials, credential_inputs=inputs,
                                    extravars={"environment_secrets_hosts": "environments"}, ident="bad")
    assert (result.status, result.rc) == ("failed", 2)
    (failed,) = events_of(result, "runner_on_failed", "Fail on bad input, naming every problem")
    assert failed["res"]["msg"].startswith("Bad input for envops.aws_secrets.environment_secrets (2 problems): "
                                           "ENVIRONMENT_INFO is not valid JSON: Expecting ',' delimiter")
    assert "STACK_JOB_SETTINGS has unknown key(s) bogus" in failed["res"]["msg"]
    assert proxy.calls() == []
    assert_no_secret_material(artifacts, {"the canary": CANARY})

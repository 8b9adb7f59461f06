"""Tests of the integration harness itself (moto, proxy, callback, playbook runner).

They do not need the collection's modules; only the callback tests run
ansible-playbook (with ansible.builtin tasks).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import botocore.exceptions
import botocore.session
import pytest

from tests.support import aws_proxy as proxy_mod
from tests.support.aws_proxy import (
    READ_OPERATIONS,
    WRITE_OPERATIONS,
    AwsProxy,
    access_denied_for,
    eventual_consistency_hide_new,
    scheduled_for_deletion,
    secret_matches,
)
from tests.support.moto import MotoServer, http_request
from tests.support.playbook import PlaybookRun, leak_forms, run_playbook

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(aws_client):
    """secretsmanager client THROUGH the proxy, with retries really disabled."""
    return aws_client(via_proxy=True, total_max_attempts=1)


def _error_code(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


# ---------------------------------------------------------------------------
# counting
# ---------------------------------------------------------------------------

def test_proxy_counts_calls(aws_proxy, client, aws_client, sm):
    client.create_secret(Name="app/db", SecretString="s3cr3t-value")
    client.list_secrets()
    client.describe_secret(SecretId="app/db")
    aws_client(region="eu-west-1", via_proxy=True).list_secrets()

    assert aws_proxy.counts() == {"CreateSecret": 1, "ListSecrets": 2, "DescribeSecret": 1}
    assert aws_proxy.write_count() == 1

    calls = aws_proxy.calls()
    assert [c["op"] for c in calls] == ["CreateSecret", "ListSecrets", "DescribeSecret", "ListSecrets"]
    first = calls[0]
    assert {k: first[k] for k in ("service", "op", "region", "secret_id", "status")} == {
        "service": "secretsmanager", "op": "CreateSecret", "region": "us-east-1",
        "secret_id": "app/db", "status": 200,
    }
    assert calls[2]["secret_id"] == "app/db"
    assert calls[3]["region"] == "eu-west-1"

    # the direct client is not counted, and it sees what went through the proxy
    assert sm.get_secret_value(SecretId="app/db")["SecretString"] == "s3cr3t-value"
    assert len(aws_proxy.calls()) == 4

    aws_proxy.reset()
    assert aws_proxy.counts() == {} and aws_proxy.write_count() == 0 and aws_proxy.calls() == []
    client.list_secrets()
    assert aws_proxy.calls()[0]["index"] == 0


def test_operation_sets_cover_the_secretsmanager_api():
    model_ops = set(botocore.session.get_session().get_service_model("secretsmanager").operation_names)
    assert not WRITE_OPERATIONS & READ_OPERATIONS
    assert WRITE_OPERATIONS | READ_OPERATIONS == model_ops


def test_query_protocol_is_counted_by_action(aws_proxy, aws_client):
    aws_client("sts", via_proxy=True).get_caller_identity()
    (call,) = aws_proxy.calls()
    assert (call["service"], call["op"], call["region"], call["status"]) == ("sts", "GetCallerIdentity", "us-east-1", 200)
    assert aws_proxy.write_count() == 0


def test_keep_alive_and_content_length(aws_proxy):
    body = json.dumps({}).encode()
    headers = {
        "X-Amz-Target": "secretsmanager.ListSecrets",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/secretsmanager/aws4_request, "
                         "SignedHeaders=host, Signature=0",
    }
    conn = http.client.HTTPConnection("127.0.0.1", aws_proxy.port, timeout=10)
    try:
        for _attempt in range(3):  # same TCP connection three times
            conn.request("POST", "/", body=body, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            assert resp.status == 200
            assert int(resp.getheader("Content-Length")) == len(payload)
            assert resp.getheader("Transfer-Encoding") is None
            assert "SecretList" in json.loads(payload)
            assert not resp.will_close
    finally:
        conn.close()
    assert aws_proxy.counts() == {"ListSecrets": 3}


# ---------------------------------------------------------------------------
# faults
# ---------------------------------------------------------------------------

def test_fault_throttle(aws_proxy, client):
    aws_proxy.set_faults(rate=1.0, kinds=("throttle",))
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        client.list_secrets()
    assert _error_code(exc) == "ThrottlingException"
    meta = exc.value.response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 400
    assert meta["HTTPHeaders"]["x-amzn-errortype"] == "ThrottlingException"
    assert exc.value.response["Error"]["Message"] == "Rate exceeded"
    assert aws_proxy.calls()[0]["fault"] == "throttle"


def test_fault_internal(aws_proxy, client, sm):
    aws_proxy.set_faults(rate=1.0, kinds=("internal",))
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        client.create_secret(Name="never", SecretString="x-value")
    assert _error_code(exc) == "InternalServiceError"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert sm.list_secrets()["SecretList"] == []


def test_fault_drop_before_never_reaches_the_service(aws_proxy, client, sm):
    aws_proxy.set_faults(rate=1.0, kinds=("drop_before",))
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        client.create_secret(Name="dropped", SecretString="x-value")
    assert time.monotonic() - started < 5, "a drop must be a clean close, not a hang"
    assert sm.list_secrets()["SecretList"] == []
    (call,) = aws_proxy.calls()
    assert (call["fault"], call["status"]) == ("drop_before", None)
    assert aws_proxy.write_count() == 1

    aws_proxy.clear_faults()  # the same client recovers on a new connection
    client.create_secret(Name="dropped", SecretString="x-value")


def test_fault_drop_after_performs_the_write(aws_proxy, client, sm):
    aws_proxy.set_faults(rate=1.0, kinds=("drop_after",))
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        client.create_secret(Name="ghost", SecretString="x-value")
    assert time.monotonic() - started < 5
    # the answer was lost but the write happened
    assert sm.describe_secret(SecretId="ghost")["Name"] == "ghost"
    (call,) = aws_proxy.calls()
    assert (call["fault"], call["status"]) == ("drop_after", None)

    # a client retrying the "failed" create now hits ResourceExistsException
    aws_proxy.clear_faults()
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        client.create_secret(Name="ghost", SecretString="x-value")
    assert _error_code(exc) == "ResourceExistsException"


def test_botocore_retries_dropped_connections(aws_proxy, aws_client):
    """Retrying clients treat drops as retryable: every one of the 3 attempts reaches the proxy."""
    retrying = aws_client(via_proxy=True, total_max_attempts=3)
    aws_proxy.set_faults(rate=1.0, kinds=("drop_before",))
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        retrying.list_secrets()
    assert [(c["op"], c["status"]) for c in aws_proxy.calls()] == [("ListSecrets", None)] * 3


def test_fault_ops_filter_and_latency(aws_proxy, client):
    aws_proxy.set_faults(rate=1.0, ops={"CreateSecret"}, kinds=("throttle",), latency=(0.2, 0.2))
    started = time.monotonic()
    client.list_secrets()  # not in ops: no fault, no latency
    assert time.monotonic() - started < 0.2
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ClientError):
        client.create_secret(Name="x", SecretString="x-value")
    assert time.monotonic() - started >= 0.2
    assert [c["fault"] for c in aws_proxy.calls()] == [None, "throttle"]


def _fault_sequence(proxy: AwsProxy, client, seed: int, n: int = 40) -> list:
    proxy.reset()
    proxy.set_faults(rate=0.4, seed=seed, kinds=("throttle", "internal", "drop_before", "drop_after"))
    for _call in range(n):
        try:
            client.list_secrets()
        except (botocore.exceptions.ClientError, botocore.exceptions.ConnectionClosedError):
            pass
    proxy.clear_faults()
    return [c["fault"] for c in proxy.calls()]


def test_fault_seed_determinism(aws_proxy, client):
    first = _fault_sequence(aws_proxy, client, seed=1234)
    second = _fault_sequence(aws_proxy, client, seed=1234)
    other = _fault_sequence(aws_proxy, client, seed=99)
    assert len(first) == 40
    assert first == second
    assert first != other
    assert {"throttle", "internal", "drop_before", "drop_after"} <= set(first)
    assert 5 < sum(f is not None for f in first) < 30


def test_set_faults_validates(aws_proxy):
    with pytest.raises(ValueError):
        aws_proxy.set_faults(rate=0.5, kinds=("bogus",))
    with pytest.raises(ValueError):
        aws_proxy.set_faults(rate=2)


# ---------------------------------------------------------------------------
# custom rules
# ---------------------------------------------------------------------------

def _names(resp) -> set:
    return {s["Name"] for s in resp["SecretList"]}


def test_rule_eventual_consistency_hide_new(aws_proxy, client, sm):
    sm.create_secret(Name="old", SecretString="v-old")  # not through the proxy: unaffected
    aws_proxy.add_rule(eventual_consistency_hide_new(1.0))
    client.create_secret(Name="fresh", SecretString="v-fresh")
    assert _names(client.list_secrets()) == {"old"}
    assert _names(sm.list_secrets()) == {"old", "fresh"}  # moto itself has it
    assert client.describe_secret(SecretId="fresh")["Name"] == "fresh"  # only ListSecrets lags
    time.sleep(1.1)
    assert _names(client.list_secrets()) == {"old", "fresh"}


def test_rule_access_denied_for(aws_proxy, client, sm):
    arn_a = sm.create_secret(Name="app/a", SecretString="va-value")["ARN"]
    sm.create_secret(Name="app/b", SecretString="vb-value")
    aws_proxy.add_rule(access_denied_for("app/a"))
    aws_proxy.add_rule(access_denied_for("app/b", ops={"PutSecretValue"}))

    for secret_id in ("app/a", arn_a):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            client.get_secret_value(SecretId=secret_id)
        assert _error_code(exc) == "AccessDeniedException"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert client.get_secret_value(SecretId="app/b")["SecretString"] == "vb-value"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        client.put_secret_value(SecretId="app/b", SecretString="new-value")
    assert _error_code(exc) == "AccessDeniedException"
    assert _names(client.list_secrets()) == {"app/a", "app/b"}  # listing is not per secret

    batch = client.batch_get_secret_value(SecretIdList=["app/a", "app/b"])
    assert [v["Name"] for v in batch["SecretValues"]] == ["app/b"]
    assert [(e["SecretId"], e["ErrorCode"]) for e in batch["Errors"]] == [(arn_a, "AccessDeniedException")]


def test_rule_scheduled_for_deletion(aws_proxy, client, sm):
    sm.create_secret(Name="doomed", SecretString="vd-value")
    sm.create_secret(Name="alive", SecretString="va-value")
    rule = aws_proxy.add_rule(scheduled_for_deletion("doomed"))

    for call in (lambda: client.get_secret_value(SecretId="doomed"),
                 lambda: client.put_secret_value(SecretId="doomed", SecretString="x-value"),
                 lambda: client.tag_resource(SecretId="doomed", Tags=[{"Key": "k", "Value": "v"}])):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            call()
        assert _error_code(exc) == "InvalidRequestException"
        assert exc.value.response["Error"]["Message"] == proxy_mod.MARKED_FOR_DELETION_MESSAGE
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        client.create_secret(Name="doomed", SecretString="x-value")
    assert _error_code(exc) == "InvalidRequestException"

    assert "DeletedDate" in client.describe_secret(SecretId="doomed")
    assert "DeletedDate" not in client.describe_secret(SecretId="alive")
    assert _names(client.list_secrets()) == {"alive"}
    listed = client.list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert {s["Name"]: "DeletedDate" in s for s in listed} == {"doomed": True, "alive": False}
    assert client.get_secret_value(SecretId="alive")["SecretString"] == "va-value"

    client.restore_secret(SecretId="doomed")
    assert rule.active is False
    assert client.get_secret_value(SecretId="doomed")["SecretString"] == "vd-value"
    assert [c["status"] for c in aws_proxy.calls(op="PutSecretValue")] == [400]


def test_plain_callable_rule(aws_proxy, client):
    seen = []

    def rule(service, op, body, call_index):
        seen.append((service, op, call_index))
        if op == "GetRandomPassword":
            return 200, {"Content-Type": "application/x-amz-json-1.1"}, b'{"RandomPassword": "scripted"}'
        return None

    aws_proxy.add_rule(rule)
    assert client.get_random_password()["RandomPassword"] == "scripted"
    assert client.list_secrets()["SecretList"] == []
    assert seen == [("secretsmanager", "GetRandomPassword", 0), ("secretsmanager", "ListSecrets", 1)]
    assert [c["fault"] for c in aws_proxy.calls()] == ["rule", None]
    aws_proxy.clear_rules()
    assert client.get_random_password()["RandomPassword"] != "scripted"


def test_secret_matches():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbC123"
    assert secret_matches("app/db", "app/db")
    assert secret_matches(arn, "app/db")
    assert secret_matches("app/db", arn)
    assert secret_matches("arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db", "app/db")
    assert not secret_matches("app/db2", "app/db")
    assert not secret_matches(arn.replace("app/db", "app/dbx"), "app/db")
    assert not secret_matches(None, "app/db")


# ---------------------------------------------------------------------------
# control plane and command lines
# ---------------------------------------------------------------------------

def test_stats_over_http(aws_proxy, client):
    """What Molecule's verify steps read; control paths are answered by the proxy, never forwarded."""
    client.list_secrets()
    client.create_secret(Name="app/x", SecretString="x-value")
    status, body = http_request("GET", f"{aws_proxy.url}/__proxy__/stats")
    assert status == 200
    assert json.loads(body) == {"ops": {"ListSecrets": 1, "CreateSecret": 1}, "write_count": 1}
    assert http_request("POST", f"{aws_proxy.url}/__proxy__/faults", data=b"{}")[0] == 404
    assert len(aws_proxy.calls()) == 2


def test_launcher_command_line_starts_moto_and_the_proxy_and_stops_them(tmp_path):
    """`python -m tests.support.moto start/stop`, as Molecule's create/destroy and the demo run it."""
    def launcher(*args):
        proc = subprocess.run([sys.executable, "-m", "tests.support.moto", *args, "--state-dir", str(tmp_path)],
                              cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True,
                              text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    state = launcher("start", "--proxy")
    assert state == json.loads((tmp_path / "moto.json").read_text())
    assert state["endpoint"] == state["proxy_url"] != state["moto_url"]
    assert http_request("GET", f"{state['moto_url']}/moto-api/")[0] == 200
    assert http_request("GET", f"{state['proxy_url']}/moto-api/")[0] == 200  # forwarded to moto, and counted
    stats = json.loads(http_request("GET", f"{state['proxy_url']}/__proxy__/stats")[1])
    assert stats == {"ops": {"GET /moto-api/": 1}, "write_count": 0}

    restarted = launcher("start")  # a second start replaces the first one
    assert "proxy_url" not in restarted and restarted["endpoint"] == restarted["moto_url"]
    assert restarted["pid"] != state["pid"]
    for url in (state["moto_url"], state["proxy_url"]):
        with pytest.raises(OSError):
            http_request("GET", f"{url}/moto-api/", timeout=2)

    assert launcher("stop") == {"stopped": [restarted["pid"]]}
    assert not (tmp_path / "moto.json").exists()
    with pytest.raises(OSError):
        http_request("GET", f"{restarted['moto_url']}/moto-api/", timeout=2)
    with pytest.raises(ProcessLookupError):
        os.killpg(restarted["pid"], 0)  # nothing of the launcher's session is left
    assert launcher("stop") == {"stopped": []}


def test_moto_server_context_manager():
    with MotoServer() as server:
        assert http_request("GET", f"{server.url}/moto-api/")[0] == 200
        server.reset()
        proc = server.proc
    assert proc.poll() is not None
    assert not server.running


# ---------------------------------------------------------------------------
# callback plugin and playbook runner
# ---------------------------------------------------------------------------

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: say hello
      ansible.builtin.debug:
        msg: "hello {{ who }}"

    - name: change something
      ansible.builtin.command: /bin/true
      changed_when: true
      check_mode: false

    - name: skip me
      ansible.builtin.debug:
        msg: never
      when: false

    - name: hidden
      ansible.builtin.set_fact:
        hidden_value: "{{ who }}-top-secret"
      no_log: true

    - name: fail but go on
      ansible.builtin.fail:
        msg: expected failure
      ignore_errors: true
"""


def test_result_dump_callback(playbook, aws_proxy):
    run = playbook(PLAYBOOK, extra_vars={"who": "world"})
    run.assert_ok()
    assert run.result("say hello")["msg"] == "hello world"
    assert [(e["task"], e["status"]) for e in run.results] == [
        ("say hello", "ok"), ("change something", "changed"), ("skip me", "skipped"),
        ("hidden", "ok"), ("fail but go on", "failed"),
    ]
    assert run.entries("fail but go on")[0]["ignore_errors"] is True
    assert run.result("fail but go on")["msg"] == "expected failure"
    assert "censored" in run.result("hidden")  # callbacks only ever see censored no_log results
    assert all(e["host"] == "localhost" and e["check_mode"] is False for e in run.results)
    # the human output of the default stdout callback is still there
    assert "TASK [say hello]" in run.stdout and "PLAY RECAP" in run.stdout
    assert '"msg": "hello world"' in run.stdout
    run.assert_no_leak("world-top-secret")
    with pytest.raises(AssertionError, match="nonexistent.*'say hello'"):
        run.result("nonexistent")
    assert aws_proxy.calls() == []  # nothing talked to AWS


def test_result_dump_check_mode_and_log(playbook, tmp_path):
    log = tmp_path / "ansible.log"
    path = tmp_path / "pb.yml"
    path.write_text(PLAYBOOK)
    run = playbook(path, check=True, diff=True, extra_vars={"who": "check"}, env={"ANSIBLE_LOG_PATH": log})
    run.assert_ok()
    assert run.entries("say hello")[0]["check_mode"] is True
    assert run.entries("change something")[0]["check_mode"] is False  # task-level check_mode: false
    assert "--check" in run.cmd and "--diff" in run.cmd
    assert "hello check" in run.log_text and run.log_text in run.output
    assert run.dump_text in run.output


def test_run_playbook_reports_failures(tmp_path):
    run = run_playbook("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                       "    - name: boom\n      ansible.builtin.fail:\n        msg: kaboom\n",
                       env={**os.environ, "ANSIBLE_HOME": str(tmp_path)}, timeout=120)
    assert run.rc == 2
    assert run.status("boom") == "failed"
    with pytest.raises(AssertionError, match="rc=2"):
        run.assert_ok()


# ---------------------------------------------------------------------------
# leak detection
# ---------------------------------------------------------------------------

# One canary with characters that JSON / repr escape, one whose base64 has padding and +/-.
CANARIES = ('Canary/"pa$$w0rd"+é\\x-9f3a', "~~~?>>canary-value-1")
FORM_CASES = [(canary, form) for canary in CANARIES for form in leak_forms(canary, unique=True)]


def _assert_message_is_clean(message: str, secret: str) -> None:
    for name, form in leak_forms(secret).items():
        assert form.lower() not in message.lower(), f"failure message leaks the {name} form"


@pytest.mark.parametrize(("canary", "form"), FORM_CASES, ids=[f"c{CANARIES.index(c)}-{f}" for c, f in FORM_CASES])
@pytest.mark.parametrize("source", ["stdout", "stderr", "dump_text", "log_text"])
def test_assert_no_leak_detects_each_form(canary, form, source):
    leaked = leak_forms(canary)[form]
    texts = {"stdout": "ok: [localhost]\n", source: f"line one\nvalue: {leaked} done\n"}
    run = PlaybookRun(rc=0, **texts)
    with pytest.raises(AssertionError) as exc:
        run.assert_no_leak("unrelated-secret", canary)
    message = str(exc.value)
    assert f"secret #2 as {form} in {'result_dump' if source == 'dump_text' else 'ansible_log' if source == 'log_text' else source} line 2" in message
    assert "<CANARY" in message and "value: <CANARY" in message
    _assert_message_is_clean(message, canary)


def test_assert_no_leak_forms_and_clean_output():
    secret = "hunter2-canary"
    forms = leak_forms(secret)
    raw = secret.encode()
    assert forms["raw"] == forms["json"] == forms["repr"] == secret
    assert list(leak_forms(secret, unique=True))[:2] == ["raw", "base64"]
    assert forms["base64"] == base64.b64encode(raw).decode()
    assert forms["base64url-nopad"] == base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert forms["sha256"] == hashlib.sha256(raw).hexdigest()
    assert {"md5", "sha1"} <= set(forms)
    # upper-case hex digests are found too
    run = PlaybookRun(rc=0, stdout=f"digest={hashlib.md5(raw).hexdigest().upper()}")
    with pytest.raises(AssertionError, match="as md5 in stdout"):
        run.assert_no_leak(secret)
    # clean output passes, with masked values and other secrets around
    PlaybookRun(rc=0, stdout="changed: [localhost] => secret_string: ********", dump_text='{"a": 1}').assert_no_leak(secret)
    with pytest.raises(ValueError):
        PlaybookRun(rc=0).assert_no_leak("abc")


# ---------------------------------------------------------------------------
# the whole chain: ansible module -> AWS_URL -> proxy -> moto
# ---------------------------------------------------------------------------

E2E_CANARY = "Xq9-e2e-canary-7f3c"


@pytest.mark.skipif(importlib.util.find_spec("ansible_collections.community.aws") is None,
                    reason="community.aws (shipped with the ansible package) is not installed")
def test_module_reaches_moto_through_the_proxy(playbook, aws_proxy, sm):
    # Without the AWS_ENDPOINT_URL safety net: the module must honour AWS_URL by itself.
    run = playbook(
        """
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: create secret
              community.aws.secretsmanager_secret:
                name: harness/e2e
                secret: "{{ canary }}"
                state: present
        """,
        extra_vars={"canary": E2E_CANARY},
        env={"AWS_ENDPOINT_URL": None},
    )
    run.assert_ok()
    assert run.status("create secret") == "changed"
    assert sm.get_secret_value(SecretId="harness/e2e")["SecretString"] == E2E_CANARY
    assert aws_proxy.counts()["CreateSecret"] == 1
    assert {c["region"] for c in aws_proxy.calls()} == {"us-east-1"}
    run.assert_no_leak(E2E_CANARY)

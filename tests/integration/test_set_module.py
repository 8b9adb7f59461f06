"""aws_secrets_manager_set driven by ansible-playbook, from the installed tarball, against moto.

Every API call goes through the counting proxy, so "zero writes" and "one listing" are counted,
not assumed. Tests that handle values also hunt for them in everything the run printed.
"""

import base64
import json

import boto3
import pytest
import yaml

from tests.support.aws_proxy import access_denied_for
from tests.support.aws_proxy import error_response

MODULE = "envops.aws_secrets.aws_secrets_manager_set"
TASK = "Manage secrets"
# Every secret the module creates carries this tag (prune deletes only such secrets).
OWNER = {"envops:managed-by": "envops.aws_secrets"}


def play(args, *, module=MODULE, extra_tasks=(), play_extra=None):
    tasks = [{"name": TASK, module: args, "register": "managed"}]
    tasks += list(extra_tasks)
    return yaml.safe_dump([dict({"name": "Secrets", "hosts": "localhost", "gather_facts": False, "tasks": tasks},
                                **(play_extra or {}))], sort_keys=False)


def names_in_moto(sm, prefix=""):
    paginator = sm.get_paginator("list_secrets")
    names = []
    for page in paginator.paginate(IncludePlannedDeletion=True):
        names += [entry["Name"] for entry in page["SecretList"] if entry["Name"].startswith(prefix)]
    return sorted(names)


def version_count(sm, name):
    return len(sm.list_secret_version_ids(SecretId=name)["Versions"])


def test_bulk_create_of_100_names_then_rerun_changes_nothing(playbook, aws_proxy, sm):
    args = {"prefix": "bulk/", "names": ["secret-{0:03d}".format(index) for index in range(100)],
            "tags": {"env": "bulk"}, "description": "bulk test"}
    first = playbook(play(args)).assert_ok()
    result = first.result(TASK)
    assert result["changed"] is True
    assert result["summary"]["created"] == 100 and result["summary"]["total"] == 100
    assert [entry["name"] for entry in result["secrets"]] == ["bulk/" + name for name in args["names"]]
    assert len(result["arns"]) == 100
    # The module's own count: moto's store is not thread-safe and now and then answers a concurrent
    # CreateSecret with HTTP 500, which botocore retries (same token), so the proxy may see an extra attempt.
    assert result["api_calls"] == {"list_secrets": 1, "create_secret": 100}
    assert aws_proxy.counts()["ListSecrets"] == 1
    assert len(names_in_moto(sm, "bulk/")) == 100
    tags = sm.describe_secret(SecretId="bulk/secret-042")["Tags"]
    assert tags == [{"Key": "env", "Value": "bulk"}, {"Key": "envops:managed-by", "Value": "envops.aws_secrets"}]

    aws_proxy.reset()
    second = playbook(play(args)).assert_ok()
    rerun = second.result(TASK)
    assert rerun["changed"] is False and rerun["summary"]["unchanged"] == 100
    assert aws_proxy.write_count() == 0
    assert sum(aws_proxy.counts().values()) == 1, aws_proxy.counts()
    assert "changed=0" in second.stdout


def test_check_mode_on_a_fresh_set_writes_nothing_and_matches_the_real_run(playbook, aws_proxy, sm):
    canary = "CANARY-check-7f3a9c"
    args = {"prefix": "chk/", "names": ["one", "two"], "tags": {"team": "ops"},
            "secrets": [{"name": "three", "value": canary, "description": "third"}]}
    checked = playbook(play(args), check=True, diff=True).assert_ok()
    assert aws_proxy.write_count() == 0
    assert names_in_moto(sm, "chk/") == []
    planned = checked.result(TASK)
    after = planned["diff"]["after"]
    assert set(after) == {"chk/one", "chk/two", "chk/three"}
    assert after["chk/three"] == {"state": "present", "value": "(will change)", "description": "third",
                                  "tags": dict(OWNER, team="ops")}
    assert "chk/three" in checked.stdout and "third" in checked.stdout
    checked.assert_no_leak(canary)

    real = playbook(play(args), diff=True).assert_ok()
    applied = real.result(TASK)
    real.assert_no_leak(canary)
    for key in ("changed", "summary", "diff"):
        assert planned[key] == applied[key], key
    assert [(entry["name"], entry["action"], entry["changes"]) for entry in planned["secrets"]] == [
        (entry["name"], entry["action"], entry["changes"]) for entry in applied["secrets"]
    ]


def test_overwrite_false_keeps_values_and_true_replaces_only_what_differs(playbook, aws_proxy, sm):
    old, new, json_secret = "CANARY-old-11aa", "CANARY-new-22bb", "CANARY-json-33cc"
    secrets = [{"name": "plain", "value": old}, {"name": "db", "json_value": {"user": "app", "password": json_secret}}]
    playbook(play({"prefix": "ow/", "secrets": secrets})).assert_ok()

    changed_secrets = [{"name": "plain", "value": new},
                       {"name": "db", "json_value": {"password": json_secret, "user": "app"}}]
    aws_proxy.reset()
    kept = playbook(play({"prefix": "ow/", "secrets": changed_secrets}), diff=True, verbosity=4).assert_ok()
    assert kept.result(TASK)["changed"] is False
    assert "BatchGetSecretValue" not in aws_proxy.counts() and aws_proxy.write_count() == 0
    assert sm.get_secret_value(SecretId="ow/plain")["SecretString"] == old

    args = {"prefix": "ow/", "overwrite": True, "secrets": changed_secrets}
    aws_proxy.reset()
    checked = playbook(play(args), check=True, diff=True, verbosity=4).assert_ok()
    assert aws_proxy.write_count() == 0 and aws_proxy.counts()["BatchGetSecretValue"] == 1
    aws_proxy.reset()
    replaced = playbook(play(args), diff=True, verbosity=4).assert_ok()
    entries = {entry["name"]: entry for entry in replaced.result(TASK)["secrets"]}
    assert entries["ow/plain"]["action"] == "updated" and entries["ow/plain"]["changes"] == ["value"]
    assert entries["ow/db"]["action"] == "unchanged", "JSON is compared parsed, key order does not count"
    assert aws_proxy.counts()["PutSecretValue"] == 1 and aws_proxy.write_count() == 1
    assert sm.get_secret_value(SecretId="ow/plain")["SecretString"] == new
    assert replaced.result(TASK)["diff"] == checked.result(TASK)["diff"]
    assert replaced.result(TASK)["diff"]["after"]["ow/plain"]["value"] == "(will change)"

    again = playbook(play(args), verbosity=4).assert_ok()
    assert again.result(TASK)["changed"] is False
    assert version_count(sm, "ow/plain") == 2
    for run in (kept, checked, replaced, again):
        run.assert_no_leak(old, new, json_secret, json.dumps({"user": "app", "password": json_secret}))


def test_generate_once_with_json_key_and_never_again(playbook, aws_proxy, sm):
    args = {"prefix": "gen/", "names": ["api"], "generate": {"length": 24, "json_key": "password"},
            "secrets": [{"name": "raw", "generate": {"length": 16, "exclude_punctuation": True}}]}
    first = playbook(play(args), diff=True, verbosity=4).assert_ok()
    api_value = json.loads(sm.get_secret_value(SecretId="gen/api")["SecretString"])["password"]
    raw_value = sm.get_secret_value(SecretId="gen/raw")["SecretString"]
    assert len(api_value) == 24 and len(raw_value) == 16 and raw_value.isalnum()
    assert first.result(TASK)["diff"]["after"]["gen/api"]["value"] == "(will be generated)"
    first.assert_no_leak(api_value, raw_value)

    aws_proxy.reset()
    second = playbook(play(dict(args, overwrite=True)), diff=True, verbosity=4).assert_ok()
    assert second.result(TASK)["changed"] is False
    assert "GetRandomPassword" not in aws_proxy.counts() and aws_proxy.write_count() == 0
    assert json.loads(sm.get_secret_value(SecretId="gen/api")["SecretString"])["password"] == api_value
    second.assert_no_leak(api_value, raw_value)


def test_binary_value_round_trips(playbook, sm):
    raw = b"\x00\x01CANARY-bin\xff"
    encoded = base64.b64encode(raw).decode()
    run = playbook(play({"secrets": [{"name": "bin/key", "binary_value": encoded}]}), diff=True, verbosity=4)
    run.assert_ok()
    assert sm.get_secret_value(SecretId="bin/key")["SecretBinary"] == raw
    run.assert_no_leak(raw, encoded)
    rerun = playbook(play({"overwrite": True, "secrets": [{"name": "bin/key", "binary_value": encoded}]}))
    assert rerun.assert_ok().result(TASK)["changed"] is False


def test_tags_merge_and_purge(playbook, sm):
    playbook(play({"names": ["tags/a"], "tags": {"keep": "1", "drop": "2"}})).assert_ok()
    merged = playbook(play({"tags": {"keep": "1"}, "purge_tags": False,
                            "secrets": [{"name": "tags/a", "tags": {"add": "3"}}]})).assert_ok()
    assert merged.result(TASK)["secrets"][0]["changes"] == ["tags"]
    tags = {tag["Key"]: tag["Value"] for tag in sm.describe_secret(SecretId="tags/a")["Tags"]}
    assert tags == dict(OWNER, keep="1", drop="2", add="3")

    purged = playbook(play({"names": ["tags/a"], "tags": {"keep": "1", "add": "4"}}), diff=True).assert_ok()
    diff = purged.result(TASK)["diff"]
    assert diff["before"]["tags/a"]["tags"] == dict(OWNER, keep="1", drop="2", add="3")
    assert diff["after"]["tags/a"]["tags"] == dict(OWNER, keep="1", add="4"), "purge_tags keeps the ownership tag"
    tags = {tag["Key"]: tag["Value"] for tag in sm.describe_secret(SecretId="tags/a")["Tags"]}
    assert tags == dict(OWNER, keep="1", add="4")

    untouched = playbook(play({"names": ["tags/a"]})).assert_ok()
    assert untouched.result(TASK)["changed"] is False


def test_description_and_kms_key(playbook, sm, moto_server):
    kms = boto3.client("kms", endpoint_url=moto_server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    playbook(play({"names": ["kms/a"], "description": "first"})).assert_ok()
    changed = playbook(play({"names": ["kms/a"], "description": "second", "kms_key_id": key_id})).assert_ok()
    assert changed.result(TASK)["secrets"][0]["changes"] == ["description", "kms_key_id"]
    described = sm.describe_secret(SecretId="kms/a")
    assert described["Description"] == "second" and described["KmsKeyId"].endswith(key_id)
    same = playbook(play({"names": ["kms/a"], "description": "second", "kms_key_id": key_id})).assert_ok()
    assert same.result(TASK)["changed"] is False


def test_delete_with_and_without_recovery_then_restore(playbook, aws_proxy, sm):
    playbook(play({"prefix": "del/", "names": ["soft", "hard"]})).assert_ok()
    deleted = playbook(play({"prefix": "del/", "state": "absent", "recovery_window": 7,
                             "secrets": [{"name": "soft"}, {"name": "hard", "recovery_window": 0}]}),
                       diff=True).assert_ok()
    assert [entry["action"] for entry in deleted.result(TASK)["secrets"]] == ["deleted", "deleted"]
    assert "DeletedDate" in sm.describe_secret(SecretId="del/soft")
    assert names_in_moto(sm, "del/") == ["del/soft"]

    again = playbook(play({"prefix": "del/", "state": "absent", "names": ["soft", "hard"]})).assert_ok()
    assert [entry["action"] for entry in again.result(TASK)["secrets"]] == ["absent", "absent"]
    assert again.result(TASK)["changed"] is False

    refused = playbook(play({"prefix": "del/", "names": ["soft"], "restore": False}))
    assert refused.rc != 0 and "del/soft (ScheduledForDeletion)" in refused.result(TASK)["msg"]

    aws_proxy.reset()
    checked = playbook(play({"prefix": "del/", "names": ["soft"], "tags": {"back": "yes"}}), check=True).assert_ok()
    assert checked.result(TASK)["secrets"][0]["action"] == "restored" and aws_proxy.write_count() == 0
    restored = playbook(play({"prefix": "del/", "names": ["soft"], "tags": {"back": "yes"}})).assert_ok()
    entry = restored.result(TASK)["secrets"][0]
    assert entry["action"] == "restored" and entry["changes"] == ["tags"]
    described = sm.describe_secret(SecretId="del/soft")
    assert "DeletedDate" not in described and {tag["Key"]: tag["Value"] for tag in described["Tags"]} == dict(
        OWNER, back="yes")


def test_prune_deletes_undeclared_secrets_under_the_prefix_only(playbook, sm):
    for name in ("prune/keep", "prune/extra", "Prune/other-case", "outside/x"):
        sm.create_secret(Name=name, Tags=[{"Key": "envops:managed-by", "Value": "envops.aws_secrets"}])
    checked = playbook(play({"prefix": "prune/", "names": ["keep"], "prune": True}), check=True).assert_ok()
    assert [(entry["name"], entry["action"]) for entry in checked.result(TASK)["secrets"]] == [
        ("prune/keep", "unchanged"), ("prune/extra", "deleted")]
    pruned = playbook(play({"prefix": "prune/", "names": ["keep"], "prune": True, "recovery_window": 7}))
    pruned.assert_ok()
    assert "DeletedDate" in sm.describe_secret(SecretId="prune/extra")
    assert "DeletedDate" not in sm.describe_secret(SecretId="Prune/other-case")
    rerun = playbook(play({"prefix": "prune/", "names": ["keep"], "prune": True})).assert_ok()
    assert rerun.result(TASK)["changed"] is False

    refused = playbook(play({"names": ["keep"], "prune": True}))
    assert refused.rc != 0 and "prune needs a prefix" in refused.result(TASK)["msg"]


def test_partial_failure_names_the_secret_and_a_rerun_converges(playbook, aws_proxy, sm):
    canary = "CANARY-partial-44dd"
    args = {"prefix": "part/", "names": ["a", "b", "c"], "secrets": [{"name": "d", "value": canary}]}
    aws_proxy.add_rule(access_denied_for("part/b"))
    failed = playbook(play(args), diff=True, verbosity=4)
    assert failed.rc != 0
    result = failed.result(TASK)
    assert result["msg"] == "Failed on 1 of 4 secrets: part/b (AccessDeniedException)"
    assert result["summary"]["created"] == 3 and result["summary"]["failed"] == 1
    assert result["secrets"][1]["error"]["code"] == "AccessDeniedException"
    assert names_in_moto(sm, "part/") == ["part/a", "part/c", "part/d"]
    assert "Traceback" not in failed.output
    failed.assert_no_leak(canary)

    aws_proxy.clear_rules()
    fixed = playbook(play(args)).assert_ok()
    assert fixed.result(TASK)["summary"]["created"] == 1 and fixed.result(TASK)["summary"]["unchanged"] == 3
    assert playbook(play(args)).assert_ok().result(TASK)["changed"] is False


def test_fail_fast_stops_after_the_first_failure(playbook, aws_proxy, sm):
    aws_proxy.add_rule(access_denied_for("ff/a"))
    failed = playbook(play({"prefix": "ff/", "names": ["a", "b", "c"], "fail_fast": True, "concurrency": 1}))
    codes = [entry.get("error", {}).get("code") for entry in failed.result(TASK)["secrets"]]
    assert codes == ["AccessDeniedException", "NotAttempted", "NotAttempted"]
    assert names_in_moto(sm, "ff/") == []


def test_module_defaults_group_reaches_the_module(playbook, ansible_env):
    endpoint = ansible_env["AWS_URL"]
    text = play({"names": ["grp/a"]}, play_extra={
        "module_defaults": {"group/envops.aws_secrets.aws": {"endpoint_url": endpoint, "region": "us-east-1"}}})
    run = playbook(text, env={"AWS_URL": "http://127.0.0.1:9", "AWS_REGION": "eu-west-3"}).assert_ok()
    assert run.result(TASK)["arns"]["grp/a"].startswith("arn:aws:secretsmanager:us-east-1:")


BAD_INPUTS = [
    ({"names": ["bad name"]}, "names[0] ('bad name')"),
    ({"names": ["x" * 513]}, "over the limit of 512"),
    ({"prefix": "p" * 510, "names": ["abc"]}, "over the limit of 512"),
    ({"names": ["a", "a"]}, "names[1] ('a'): duplicate of names[0]"),
    ({"names": ["a"], "secrets": [{"name": "a"}]}, "secrets[0] ('a'): duplicate of names[0]"),
    ({"secrets": [{"name": "a", "value": "long-enough", "json_value": {"k": "long-enough"}}]}, "give at most one of"),
    ({"secrets": [{"name": "a", "value": "v" * 65537}]}, "65537 bytes, over the limit of 65536"),
    ({"secrets": [{"name": "a", "binary_value": "not base64!"}]}, "binary_value is not valid base64"),
    ({"names": ["a"], "recovery_window": 5}, "recovery_window is 5"),
    ({"secrets": [{"name": "a", "recovery_window": 31}]}, "secrets[0] ('a'): recovery_window is 31"),
    ({"names": ["a"], "concurrency": 0}, "concurrency is 0"),
    ({"names": ["a"], "concurrency": 65}, "concurrency is 65"),
    ({"names": ["a"], "prune": True}, "prune needs a prefix"),
    ({"names": []}, "nothing is declared"),
    ({"names": ["a"], "tags": {"aws:owner": "x"}}, "reserved prefix 'aws:'"),
    ({"names": ["a"], "generate": {"length": 5000}}, "generate.length is 5000"),
    ({"secrets": [{"value": "v"}]}, "missing required arguments: name"),
    ({"secrets": [{"name": "a", "colour": "red"}]}, "colour"),
    ({"names": ["a"], "state": "gone"}, "value of state must be one of"),
    ({"names": ["ünïcode"]}, "names[0] ('ünïcode'): the name has characters Secrets Manager does not allow"),
    ({"names": ["a"], "concurrency": "many"}, "concurrency"),
    ({"names": ["a"], "tags": ["team", "ops"]}, "tags"),
    # ansible-core validates list elements against suboptions before the module runs, and its message for
    # a non-dict element does not name the option; pinned here so a better core message is noticed.
    ({"secrets": "just-a-string"}, "dictionary requested, could not parse JSON or key=value"),
    ({"secrets": [{"name": "a", "value": "long-enough", "current_version_id": "v1"}]},
     "secrets[0] ('a'): current_version_id picks an existing version; it cannot go with value"),
    ({"names": ["a"], "resource_policy": "{not json"}, "resource_policy is not valid JSON"),
    ({"names": ["a"], "readers": ["arn:aws:iam::1:role/x"]}, "readers are not IAM role, user or account ARNs"),
    ({"names": ["a"], "rotation": {"automatically_after_days": 5}}, "rotation needs lambda_arn"),
    ({"names": ["a"], "replica_regions": [{"region": "nowhere"}]}, "'nowhere' is not an AWS region name"),
    ({"secrets": [{"name": "a", "json_value": "[1, 2"}]}, "json_value"),
]


@pytest.mark.parametrize("args, fragment", BAD_INPUTS, ids=[str(index) for index in range(len(BAD_INPUTS))])
def test_bad_input_fails_before_any_aws_call(playbook, aws_proxy, args, fragment):
    run = playbook(play(args))
    assert run.rc != 0
    message = run.result(TASK)["msg"]
    assert fragment in message, message
    assert aws_proxy.calls() == [], "bad input must be refused before the first AWS call"
    assert "Traceback" not in run.output


def test_values_never_leak_on_create_update_check_and_failure(playbook, aws_proxy, tmp_path):
    canaries = {"value": "CANARY-v-5e6f7a8b", "json": "CANARY-j-9c0d1e2f", "binary": b"CANARY-b-3a4b5c6d"}
    secrets = [
        {"name": "leak/v", "value": canaries["value"]},
        {"name": "leak/j", "json_value": {"password": canaries["json"]}},
        {"name": "leak/b", "binary_value": base64.b64encode(canaries["binary"]).decode()},
    ]
    forms = [canaries["value"], canaries["json"], canaries["binary"], json.dumps({"password": canaries["json"]})]
    runs = [playbook(play({"secrets": secrets}), check=True, diff=True, verbosity=4),
            playbook(play({"secrets": secrets}), diff=True, verbosity=4)]
    updated = [dict(item) for item in secrets]
    updated[0]["value"] = canaries["value"] + "-2"
    runs.append(playbook(play({"secrets": updated, "overwrite": True}), diff=True, verbosity=4))
    aws_proxy.add_rule(access_denied_for("leak/v"))
    updated[0]["value"] = canaries["value"] + "-3"
    failing = playbook(play({"secrets": updated, "overwrite": True}), diff=True, verbosity=4)
    assert failing.rc != 0
    runs.append(failing)
    logged = {"ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log"), "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
    updated[0]["value"] = canaries["value"] + "-4"
    runs.append(playbook(play({"secrets": updated, "overwrite": True}), diff=True, verbosity=4, env=logged))
    assert runs[-1].log_text, "ANSIBLE_LOG_PATH should have been written"
    assert '"plays": [' in runs[-1].stdout, "the JSON callback should have printed"
    for run in runs:
        run.assert_no_leak(*forms, canaries["value"] + "-2", canaries["value"] + "-3", canaries["value"] + "-4")


def test_a_name_that_looks_like_an_arn_suffix_warns_and_still_works(playbook):
    run = playbook(play({"names": ["db-AbC123"]})).assert_ok()
    assert "names[0] ('db-AbC123'): the name ends with a hyphen and six characters" in run.output
    assert run.result(TASK)["summary"]["created"] == 1


class _EchoingKmsFailure:
    """A KMS failure whose message quotes the request's value back, the worst an AWS error could do."""

    def __init__(self, name):
        self.name = name

    def on_request(self, service, op, body, call_index):
        target = "{0} {1}".format(body.get("SecretId", ""), body.get("Name", ""))
        if op in ("PutSecretValue", "CreateSecret", "UpdateSecret") and self.name in target:
            return error_response("KMSInvalidStateException",
                                  "key is pending deletion; request was {0}".format(body.get("SecretString")))
        return None


def test_an_error_that_echoes_the_value_is_still_masked(playbook, aws_proxy, tmp_path):
    canary = "CANARY-kms-echo-7d1e"
    aws_proxy.add_rule(_EchoingKmsFailure("echo/a"))
    env = {"ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log")}
    run = playbook(play({"kms_key_id": "alias/pending-deletion",
                         "secrets": [{"name": "echo/a", "value": canary}, {"name": "echo/b", "value": canary + "-b"}]}),
                   diff=True, verbosity=4, env=env)
    assert run.rc != 0
    result = run.result(TASK)
    assert result["msg"] == "Failed on 1 of 2 secrets: echo/a (KMSInvalidStateException)"
    assert "********" in result["secrets"][0]["error"]["message"], "the echoed value must be masked"
    run.assert_no_leak(canary, canary + "-b")

"""Resource policies, readers, rotation, replicas and version rollback, against moto through the tarball."""

import io
import json
import urllib.request
import zipfile

import boto3
import pytest

from tests.integration.test_set_module import TASK
from tests.integration.test_set_module import play

ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::{0}:role/payments-app".format(ACCOUNT)


def client(moto_server, service, region="us-east-1"):
    return boto3.client(service, endpoint_url=moto_server.url, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def policy_of(sm, name):
    text = sm.get_resource_policy(SecretId=name).get("ResourcePolicy")
    return json.loads(text) if text else None


DENY_DELETE = {"Sid": "DenyDelete", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:DeleteSecret",
               "Resource": "*"}
ALLOW_ROLE = {"Sid": "AllowRole", "Effect": "Allow", "Principal": {"AWS": ROLE},
              "Action": "secretsmanager:GetSecretValue", "Resource": "*"}


def test_the_same_policy_written_three_ways_is_unchanged(playbook, aws_proxy, sm):
    as_dict = {"Version": "2012-10-17", "Statement": [DENY_DELETE, ALLOW_ROLE]}
    reordered_lists = json.dumps({"Version": "2012-10-17", "Statement": [
        dict(ALLOW_ROLE, Action=["secretsmanager:GetSecretValue"], Principal={"AWS": [ROLE]}),
        dict(DENY_DELETE, Resource=["*"]),
    ]})
    spaced = json.dumps(as_dict, indent=4, sort_keys=True)
    first = playbook(play({"names": ["pol/a"], "resource_policy": as_dict}), diff=True).assert_ok()
    entry = first.result(TASK)["secrets"][0]
    assert entry["changes"] == ["resource_policy"] and entry["policy_managed"] is True
    assert policy_of(sm, "pol/a")["Statement"][0]["Sid"] in ("DenyDelete", "AllowRole")
    for variant in (reordered_lists, spaced, as_dict):
        aws_proxy.reset()
        rerun = playbook(play({"names": ["pol/a"], "resource_policy": variant})).assert_ok()
        assert rerun.result(TASK)["changed"] is False, variant
        assert aws_proxy.write_count() == 0


def test_policy_change_check_mode_diff_removal_and_leaving_alone(playbook, aws_proxy, sm):
    playbook(play({"names": ["pol/b"], "resource_policy": {"Statement": [DENY_DELETE]}})).assert_ok()
    changed_policy = {"Version": "2012-10-17", "Statement": [DENY_DELETE, ALLOW_ROLE]}
    aws_proxy.reset()
    checked = playbook(play({"names": ["pol/b"], "resource_policy": changed_policy}), check=True, diff=True)
    diff = checked.assert_ok().result(TASK)["diff"]
    assert aws_proxy.write_count() == 0
    assert len(diff["before"]["pol/b"]["resource_policy"]["Statement"]) == 1
    assert len(diff["after"]["pol/b"]["resource_policy"]["Statement"]) == 2
    playbook(play({"names": ["pol/b"], "resource_policy": changed_policy})).assert_ok()
    assert len(policy_of(sm, "pol/b")["Statement"]) == 2

    aws_proxy.reset()
    untouched = playbook(play({"names": ["pol/b"], "description": "no policy option"})).assert_ok()
    assert "GetResourcePolicy" not in aws_proxy.counts() and "DeleteResourcePolicy" not in aws_proxy.counts()
    assert untouched.result(TASK)["secrets"][0]["policy_managed"] is False
    assert policy_of(sm, "pol/b") is not None

    removed = playbook(play({"names": ["pol/b"], "resource_policy": {}})).assert_ok()
    assert removed.result(TASK)["secrets"][0]["changes"] == ["resource_policy"]
    assert policy_of(sm, "pol/b") is None
    assert playbook(play({"names": ["pol/b"], "resource_policy": ""})).assert_ok().result(TASK)["changed"] is False


def test_validate_resource_policy_degrades_gracefully_on_moto(playbook):
    # moto has no ValidateResourcePolicy (it answers HTTP 500): the module warns once and relies on
    # PutResourcePolicy's own checks, instead of failing the secrets.
    run = playbook(play({"names": ["pol/v1", "pol/v2"], "resource_policy": {"Statement": [DENY_DELETE]}}))
    run.assert_ok()
    assert run.result(TASK)["summary"]["created"] == 2
    assert "ValidateResourcePolicy is not implemented at this endpoint" in run.output
    assert "DEPRECATION" not in run.output


def test_readers_render_a_least_privilege_statement(playbook, sm):
    # Same-account readers: another account's would need a customer managed key (test_ownership_and_access.py).
    args = {"secrets": [{"name": "read/a", "readers": [ROLE, "123456789012"],
                         "resource_policy": {"Statement": [DENY_DELETE]}}]}
    run = playbook(play(args), diff=True).assert_ok()
    statements = {statement["Sid"]: statement for statement in policy_of(sm, "read/a")["Statement"]}
    readers = statements["EnvopsAwsSecretsReaders"]
    assert readers["Principal"] == {"AWS": sorted([ROLE, "arn:aws:iam::123456789012:root"])}
    assert sorted(readers["Action"]) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert readers["Effect"] == "Allow" and readers["Resource"] == "*"
    assert "DenyDelete" in statements
    assert "EnvopsAwsSecretsReaders" in json.dumps(run.result(TASK)["diff"]["after"]["read/a"]["resource_policy"])
    assert playbook(play(args)).assert_ok().result(TASK)["changed"] is False

    fewer = playbook(play({"secrets": [{"name": "read/a", "readers": [ROLE],
                                        "resource_policy": {"Statement": [DENY_DELETE]}}]})).assert_ok()
    assert fewer.result(TASK)["secrets"][0]["changes"] == ["resource_policy"]
    principals = {statement["Sid"]: statement for statement in policy_of(sm, "read/a")["Statement"]}
    assert principals["EnvopsAwsSecretsReaders"]["Principal"] == {"AWS": [ROLE]}


@pytest.mark.parametrize("reader", ["arn:aws:iam::12345:role/x", "arn:aws:s3:::bucket", "role/x", "1234567890123"])
def test_malformed_reader_arns_are_refused_before_any_call(playbook, aws_proxy, reader):
    run = playbook(play({"names": ["read/b"], "readers": [reader]}))
    assert run.rc != 0 and "readers are not IAM role, user or account ARNs" in run.result(TASK)["msg"]
    assert aws_proxy.calls() == []


@pytest.fixture
def rotation_lambda(moto_server):
    """A rotation function in moto, with moto told to answer invocations without Docker."""
    request = urllib.request.Request(moto_server.url + "/moto-api/config", method="POST",
                                     data=json.dumps({"lambda": {"use_docker": False}}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
    role = client(moto_server, "iam").create_role(
        RoleName="rotation", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("rotate.py", "def handler(event, context):\n    return None\n")
    return client(moto_server, "lambda").create_function(
        FunctionName="rotate-secret", Runtime="python3.11", Role=role, Handler="rotate.handler",
        Code={"ZipFile": archive.getvalue()},
    )["FunctionArn"]


def test_rotation_is_set_changed_and_cancelled_only_when_it_differs(playbook, aws_proxy, sm, rotation_lambda):
    canary = "CANARY-rotation-9a8b"
    rotation = {"lambda_arn": rotation_lambda, "automatically_after_days": 30}
    args = {"secrets": [{"name": "rot/a", "value": canary, "rotation": rotation}]}
    created = playbook(play(args), diff=True).assert_ok()
    entry = created.result(TASK)["secrets"][0]
    assert entry["rotation_enabled"] is True and "rotation" in entry["changes"]
    described = sm.describe_secret(SecretId="rot/a")
    assert described["RotationEnabled"] and described["RotationRules"]["AutomaticallyAfterDays"] == 30

    aws_proxy.reset()
    same = playbook(play(args)).assert_ok()
    assert same.result(TASK)["changed"] is False and "RotateSecret" not in aws_proxy.counts()

    longer = {"secrets": [{"name": "rot/a", "value": canary, "rotation": dict(rotation,
                                                                              automatically_after_days=60)}]}
    aws_proxy.reset()
    checked = playbook(play(longer), check=True, diff=True).assert_ok()
    assert aws_proxy.write_count() == 0, "RotateSecret is a write: check mode must not call it"
    assert checked.result(TASK)["diff"]["after"]["rot/a"]["rotation"]["rules"] == {"AutomaticallyAfterDays": 60}
    changed = playbook(play(longer)).assert_ok()
    assert changed.result(TASK)["secrets"][0]["changes"] == ["rotation"]
    assert sm.describe_secret(SecretId="rot/a")["RotationRules"]["AutomaticallyAfterDays"] == 60

    cancelled = playbook(play({"secrets": [{"name": "rot/a", "rotation": {"enabled": False}}]})).assert_ok()
    assert cancelled.result(TASK)["secrets"][0]["rotation_enabled"] is False
    assert not sm.describe_secret(SecretId="rot/a")["RotationEnabled"]
    again = playbook(play({"secrets": [{"name": "rot/a", "rotation": {"enabled": False}}]})).assert_ok()
    assert again.result(TASK)["changed"] is False
    for run in (created, same, checked, changed):
        run.assert_no_leak(canary)


def test_schedule_expression_is_sent_as_declared(playbook, aws_proxy, rotation_lambda):
    # moto keeps only AutomaticallyAfterDays of RotationRules, so a schedule expression cannot be read
    # back from it and every run would look changed there. What is checked here is the request;
    # idempotence of expressions against what AWS returns is covered by the unit tests of the planner.
    rotation = {"lambda_arn": rotation_lambda, "schedule_expression": "cron(0 4 ? * SUN *)", "duration": "3h"}
    playbook(play({"secrets": [{"name": "rot/b", "value": "CANARY-rot-b", "rotation": rotation}]})).assert_ok()
    (call,) = aws_proxy.calls("RotateSecret")
    assert call["status"] == 200


class ReplicaKeysAsAws:
    """moto drops a replica's KmsKeyId and reports the default key; AWS reports the key it was given.

    This rule remembers the keys sent with ReplicateSecretToRegions and puts them back into
    DescribeSecret's ReplicationStatus, so re-keying can be checked end to end.
    """

    def __init__(self):
        self.keys = {}  # (secret id, region) -> KmsKeyId

    def on_request(self, service, op, body, call_index):
        if op == "ReplicateSecretToRegions":
            for replica in body.get("AddReplicaRegions", []):
                self.keys[(body["SecretId"], replica["Region"])] = replica.get("KmsKeyId")
        return None

    def on_response(self, service, op, request_body, status, response_body):
        if op != "DescribeSecret" or status != 200:
            return None
        answer = json.loads(response_body)
        for replica in answer.get("ReplicationStatus", []):
            key = self.keys.get((request_body["SecretId"], replica["Region"]))
            if key:
                replica["KmsKeyId"] = key
        return answer


def replicas_of(sm, name):
    return {status["Region"]: status.get("KmsKeyId") for status in
            sm.describe_secret(SecretId=name).get("ReplicationStatus", [])}


def test_replicas_added_removed_and_rekeyed_across_regions(playbook, aws_proxy, sm, moto_server):
    key = client(moto_server, "kms", "us-west-2").create_key()["KeyMetadata"]["KeyId"]
    aws_proxy.add_rule(ReplicaKeysAsAws())
    three = [{"region": "eu-west-1"}, {"region": "us-west-2"}, {"region": "ap-south-1"}]
    created = playbook(play({"names": ["rep/a"], "replica_regions": three})).assert_ok()
    assert sorted(replicas_of(sm, "rep/a")) == ["ap-south-1", "eu-west-1", "us-west-2"]
    assert [replica["region"] for replica in created.result(TASK)["secrets"][0]["replicas"]] == [
        "ap-south-1", "eu-west-1", "us-west-2"]

    aws_proxy.reset()
    reordered = list(reversed(three))
    assert playbook(play({"names": ["rep/a"], "replica_regions": reordered})).assert_ok().result(TASK)[
        "changed"] is False
    assert aws_proxy.write_count() == 0

    changed_set = [{"region": "us-west-2", "kms_key_id": key}, {"region": "eu-west-1"}, {"region": "eu-central-1"}]
    aws_proxy.reset()
    checked = playbook(play({"names": ["rep/a"], "replica_regions": changed_set}), check=True, diff=True)
    assert checked.assert_ok().result(TASK)["secrets"][0]["changes"] == ["replicas"]
    assert aws_proxy.write_count() == 0
    after = checked.result(TASK)["diff"]["after"]["rep/a"]["replicas"]
    assert [replica["region"] for replica in after] == ["eu-central-1", "eu-west-1", "us-west-2"]

    aws_proxy.reset()
    playbook(play({"names": ["rep/a"], "replica_regions": changed_set})).assert_ok()
    assert sorted(replicas_of(sm, "rep/a")) == ["eu-central-1", "eu-west-1", "us-west-2"]
    (removal,) = [call for call in aws_proxy.calls() if call["op"] == "RemoveRegionsFromReplication"]
    (addition,) = [call for call in aws_proxy.calls() if call["op"] == "ReplicateSecretToRegions"]
    assert removal["index"] < addition["index"], "a re-keyed replica is removed, then added with its key"
    assert aws_proxy.counts()["RemoveRegionsFromReplication"] == 1
    assert playbook(play({"names": ["rep/a"], "replica_regions": changed_set})).assert_ok().result(TASK)[
        "changed"] is False

    kept = playbook(play({"names": ["rep/a"], "replica_regions": [{"region": "eu-west-1"}],
                          "purge_replicas": False})).assert_ok()
    assert kept.result(TASK)["changed"] is False

    aws_proxy.reset()
    deleted = playbook(play({"names": ["rep/a"], "state": "absent", "recovery_window": 0})).assert_ok()
    assert deleted.result(TASK)["secrets"][0]["action"] == "deleted"
    replica_and_delete = ("RemoveRegionsFromReplication", "DeleteSecret")
    calls = [call["op"] for call in aws_proxy.calls() if call["op"] in replica_and_delete]
    assert calls == ["RemoveRegionsFromReplication", "DeleteSecret"], "replicas must go before the secret"


def test_rollback_to_a_previous_version_and_back(playbook, aws_proxy, sm):
    first, second = "CANARY-version-one", "CANARY-version-two"
    playbook(play({"secrets": [{"name": "ver/a", "value": first}]})).assert_ok()
    first_id = sm.get_secret_value(SecretId="ver/a")["VersionId"]
    playbook(play({"overwrite": True, "secrets": [{"name": "ver/a", "value": second}]})).assert_ok()
    second_id = sm.get_secret_value(SecretId="ver/a")["VersionId"]
    assert first_id != second_id

    rollback = {"secrets": [{"name": "ver/a", "current_version_id": first_id}]}
    aws_proxy.reset()
    checked = playbook(play(rollback), check=True, diff=True).assert_ok()
    assert aws_proxy.write_count() == 0
    assert checked.result(TASK)["diff"]["after"]["ver/a"]["current_version_id"] == first_id
    rolled = playbook(play(rollback), diff=True).assert_ok()
    assert rolled.result(TASK)["secrets"][0]["changes"] == ["current_version_id"]
    # moto moves the labels but not its default version, so read by label, as AWS defines AWSCURRENT.
    assert sm.get_secret_value(SecretId="ver/a", VersionStage="AWSCURRENT")["SecretString"] == first
    previous = sm.get_secret_value(SecretId="ver/a", VersionStage="AWSPREVIOUS")
    assert previous["VersionId"] == second_id
    assert playbook(play(rollback)).assert_ok().result(TASK)["changed"] is False

    forward = playbook(play({"secrets": [{"name": "ver/a", "current_version_id": second_id}]})).assert_ok()
    assert forward.result(TASK)["changed"] is True
    assert sm.get_secret_value(SecretId="ver/a", VersionStage="AWSCURRENT")["SecretString"] == second

    unknown = playbook(play({"secrets": [{"name": "ver/a", "current_version_id": "0" * 32}]}))
    assert unknown.rc != 0
    assert unknown.result(TASK)["msg"] == "Failed on 1 of 1 secrets: ver/a (UnknownVersionId)"
    for run in (checked, rolled, forward, unknown):
        run.assert_no_leak(first, second)


def test_ecs_and_lambda_wiring_outputs(playbook):
    run = playbook(play({"prefix": "svc/", "names": ["db/password", "stripe-api-key", "2fa.seed"]})).assert_ok()
    result = run.result(TASK)
    assert [entry["name"] for entry in result["ecs_secrets"]] == ["DB_PASSWORD", "STRIPE_API_KEY", "_2FA_SEED"]
    assert result["ecs_secrets"][0]["valueFrom"] == result["arns"]["svc/db/password"]
    assert result["lambda_environment"]["STRIPE_API_KEY"] == result["arns"]["svc/stripe-api-key"]

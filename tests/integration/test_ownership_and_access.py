"""Ownership, readers as one statement, cross-account KMS, json_merge and KMS key forms, against moto.

Every call goes through the counting proxy, so "refused before any call" and "zero writes" are counted.
Tests that handle values hunt for them (and for the merged values) in everything the run printed.
"""

import json

import boto3
import pytest

from tests.integration.test_set_module import TASK
from tests.integration.test_set_module import names_in_moto
from tests.integration.test_set_module import play
from tests.support.aws_proxy import error_response

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
OWNER_TAG = {"Key": "envops:managed-by", "Value": "envops.aws_secrets"}
ROLE = "arn:aws:iam::{0}:role/payments-app".format(ACCOUNT)
OTHER_ROLE = "arn:aws:iam::{0}:role/reporting".format(OTHER_ACCOUNT)
DENY_DELETE = {"Sid": "DenyDelete", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:DeleteSecret",
               "Resource": "*"}


def client(moto_server, service, region="us-east-1"):
    return boto3.client(service, endpoint_url=moto_server.url, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def tags_of(sm, name):
    return {tag["Key"]: tag["Value"] for tag in sm.describe_secret(SecretId=name).get("Tags", [])}


def policy_of(sm, name):
    text = sm.get_resource_policy(SecretId=name).get("ResourcePolicy")
    return json.loads(text) if text else None


def entries_by_name(run):
    return {entry["name"]: entry for entry in run.result(TASK)["secrets"]}


# -- path boundary and ownership ------------------------------------------------------------------------------

def test_prune_with_a_sibling_prefix_is_refused_before_any_call(playbook, aws_proxy, sm):
    sm.create_secret(Name="staging/payments/x", SecretString="theirs", Tags=[OWNER_TAG])
    run = playbook(play({"prefix": "staging/pay", "names": ["db"], "prune": True}))
    assert run.rc != 0
    message = run.result(TASK)["msg"]
    assert "prune needs a prefix that ends in '/'" in message and "prefix: 'staging/pay/'" in message
    assert aws_proxy.calls() == []
    assert names_in_moto(sm, "staging/") == ["staging/payments/x"]


def test_prune_deletes_only_owned_undeclared_secrets_and_leaves_foreign_ones(playbook, aws_proxy, sm):
    playbook(play({"prefix": "own/", "names": ["kept", "retired"]})).assert_ok()
    assert OWNER_TAG in sm.describe_secret(SecretId="own/retired")["Tags"], "created secrets carry the tag"
    sm.create_secret(Name="own/terraform-made", SecretString="tf", Tags=[{"Key": "managed-by", "Value": "terraform"}])
    sm.create_secret(Name="own/rds-managed", SecretString="svc",
                     Tags=[{"Key": "aws:secretsmanager:owningService", "Value": "rds"}, OWNER_TAG])
    sm.create_secret(Name="own-sibling/x", SecretString="sibling", Tags=[OWNER_TAG])
    args = {"prefix": "own/", "names": ["kept"], "prune": True, "recovery_window": 7}

    aws_proxy.reset()
    checked = playbook(play(args), check=True, diff=True).assert_ok()
    assert aws_proxy.write_count() == 0
    real = playbook(play(args), diff=True).assert_ok()
    for run in (checked, real):
        entries = entries_by_name(run)
        assert {name: (entry["action"], entry["ownership"]) for name, entry in entries.items()} == {
            "own/kept": ("unchanged", "owned"),
            "own/retired": ("deleted", "owned"),
            "own/rds-managed": ("skipped", "service"),
            "own/terraform-made": ("skipped", "unowned"),
        }
        assert set(run.result(TASK)["arns"]) == {"own/kept"}
        assert run.result(TASK)["summary"]["skipped"] == 2
    assert checked.result(TASK)["diff"] == real.result(TASK)["diff"]
    assert names_in_moto(sm, "own") == ["own-sibling/x", "own/kept", "own/rds-managed", "own/retired",
                                        "own/terraform-made"]
    assert "DeletedDate" in sm.describe_secret(SecretId="own/retired")
    for name in ("own/terraform-made", "own/rds-managed", "own-sibling/x"):
        assert "DeletedDate" not in sm.describe_secret(SecretId=name), name
    assert [call["op"] for call in aws_proxy.calls() if call["op"] == "DeleteSecret"] == ["DeleteSecret"]


def test_adopt_makes_an_existing_secret_owned_so_prune_may_delete_it_later(playbook, aws_proxy, sm):
    sm.create_secret(Name="adopt/legacy", SecretString="made-by-hand", Tags=[{"Key": "team", "Value": "ops"}])
    declared = {"prefix": "adopt/", "names": ["legacy"]}
    managed = playbook(play(declared)).assert_ok()
    assert entries_by_name(managed)["adopt/legacy"]["ownership"] == "unowned"
    assert managed.result(TASK)["changed"] is False, "a declared secret is managed without the tag"

    aws_proxy.reset()
    checked = playbook(play(dict(declared, adopt=True)), check=True, diff=True).assert_ok()
    assert aws_proxy.write_count() == 0
    assert checked.result(TASK)["diff"]["after"]["adopt/legacy"]["ownership"] == "owned"
    adopted = playbook(play(dict(declared, adopt=True))).assert_ok()
    entry = entries_by_name(adopted)["adopt/legacy"]
    assert entry["changes"] == ["ownership"] and entry["ownership"] == "owned"
    assert tags_of(sm, "adopt/legacy") == {"team": "ops", "envops:managed-by": "envops.aws_secrets"}
    assert playbook(play(dict(declared, adopt=True))).assert_ok().result(TASK)["changed"] is False

    purged = playbook(play(dict(declared, tags={"team": "ops"}))).assert_ok()
    assert purged.result(TASK)["changed"] is False, "purge_tags never removes the ownership tag"

    pruned = playbook(play({"prefix": "adopt/", "names": ["other"], "prune": True, "recovery_window": 7})).assert_ok()
    assert entries_by_name(pruned)["adopt/legacy"]["action"] == "deleted"


def test_a_declared_service_owned_secret_is_reported_and_never_changed(playbook, aws_proxy, sm):
    sm.create_secret(Name="svc/db-master", SecretString="svc-value",
                     Tags=[{"Key": "aws:secretsmanager:owningService", "Value": "rds"}])
    aws_proxy.reset()
    run = playbook(play({"secrets": [{"name": "svc/db-master", "description": "mine now", "adopt": True}]}))
    run.assert_ok()
    entry = entries_by_name(run)["svc/db-master"]
    assert entry["action"] == "skipped" and entry["ownership"] == "service" and entry["changed"] is False
    assert "owned by the AWS service 'rds'" in run.output
    assert aws_proxy.write_count() == 0
    assert "svc/db-master" in run.result(TASK)["arns"], "its ARN can still be wired"


# -- readers as one statement ----------------------------------------------------------------------------------

def test_a_foreign_policy_statement_survives_readers_and_empty_readers(playbook, aws_proxy, sm):
    playbook(play({"names": ["rd/a"]})).assert_ok()
    sm.put_resource_policy(SecretId="rd/a", ResourcePolicy=json.dumps({"Version": "2012-10-17",
                                                                       "Statement": [DENY_DELETE]}))
    args = {"names": ["rd/a"], "readers": [ROLE]}
    aws_proxy.reset()
    checked = playbook(play(args), check=True, diff=True).assert_ok()
    assert aws_proxy.write_count() == 0
    merged = checked.result(TASK)["diff"]["after"]["rd/a"]["resource_policy"]
    assert sorted(statement["Sid"] for statement in merged["Statement"]) == ["DenyDelete", "EnvopsAwsSecretsReaders"]

    playbook(play(args), diff=True).assert_ok()
    statements = {statement["Sid"]: statement for statement in policy_of(sm, "rd/a")["Statement"]}
    assert statements["DenyDelete"] == DENY_DELETE
    assert statements["EnvopsAwsSecretsReaders"]["Principal"] == {"AWS": [ROLE]}
    aws_proxy.reset()
    assert playbook(play(args)).assert_ok().result(TASK)["changed"] is False
    assert aws_proxy.write_count() == 0

    removed = playbook(play({"names": ["rd/a"], "readers": []}), diff=True).assert_ok()
    assert entries_by_name(removed)["rd/a"]["changes"] == ["resource_policy"]
    assert policy_of(sm, "rd/a")["Statement"] == [DENY_DELETE]
    assert playbook(play({"names": ["rd/a"], "readers": []})).assert_ok().result(TASK)["changed"] is False


# -- cross-account readers and KMS -----------------------------------------------------------------------------

def test_cross_account_readers_on_the_managed_key_fail_before_any_write(playbook, aws_proxy, sm):
    playbook(play({"names": ["xa/existing"]})).assert_ok()
    aws_proxy.reset()
    run = playbook(play({"secrets": [{"name": "xa/new", "readers": [OTHER_ROLE]},
                                     {"name": "xa/existing", "readers": [OTHER_ACCOUNT]},
                                     {"name": "xa/local", "readers": [ROLE]}]}))
    assert run.rc != 0
    entries = entries_by_name(run)
    for name in ("xa/new", "xa/existing"):
        assert entries[name]["action"] == "failed"
        assert entries[name]["error"]["code"] == "CrossAccountReadersNeedCustomerKey"
        assert "customer managed key" in entries[name]["error"]["message"]
    assert OTHER_ROLE in entries["xa/new"]["error"]["message"]
    assert entries["xa/local"]["action"] == "created", "a same-account reader is fine on the managed key"
    written = {call["secret_id"] for call in aws_proxy.calls() if call["op"] in ("CreateSecret", "PutResourcePolicy")}
    assert not written & {"xa/new", "xa/existing"}
    assert names_in_moto(sm, "xa/") == ["xa/existing", "xa/local"]
    assert sm.get_resource_policy(SecretId="xa/existing").get("ResourcePolicy") is None


def test_cross_account_readers_on_a_customer_key_pass_with_a_warning_for_accounts_its_policy_lacks(
        playbook, aws_proxy, sm, moto_server):
    kms = client(moto_server, "kms")
    lacking = kms.create_key()["KeyMetadata"]["Arn"]  # moto's default key policy: own account only
    granting_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{0}:root".format(ACCOUNT)},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Readers", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{0}:root".format(OTHER_ACCOUNT)},
         "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}}]}
    granting = kms.create_key(Policy=json.dumps(granting_policy))["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/xa-granting", TargetKeyId=granting)
    args = {"secrets": [{"name": "xk/lacking", "kms_key_id": lacking, "readers": [OTHER_ROLE]},
                        {"name": "xk/granting", "kms_key_id": "alias/xa-granting", "readers": [OTHER_ROLE]},
                        {"name": "xk/granting-too", "kms_key_id": "alias/xa-granting", "readers": [OTHER_ACCOUNT]}]}
    run = playbook(play(args)).assert_ok()
    assert run.result(TASK)["summary"]["created"] == 3
    warnings = [line for line in run.output.splitlines() if line.startswith("[WARNING]") and "does not let account" in line]
    assert len(warnings) == 1 and lacking in warnings[0] and OTHER_ACCOUNT in warnings[0]
    assert "xk/lacking" in warnings[0] and granting not in warnings[0]
    assert aws_proxy.counts().get("GetKeyPolicy") == 2, "one GetKeyPolicy per key, not per secret"
    assert aws_proxy.counts().get("DescribeKey") == 2, "one DescribeKey per distinct reference"
    statement = policy_of(sm, "xk/granting")["Statement"][0]
    assert statement["Principal"] == {"AWS": [OTHER_ROLE]}


# -- json_merge ----------------------------------------------------------------------------------------------

def test_json_merge_keeps_a_key_written_out_of_band(playbook, aws_proxy, sm):
    rotated, declared_secret = "CANARY-rotated-pw-5e1d", "CANARY-declared-user-77ab"
    infra = {"host": "db.internal", "port": 5432, "username": declared_secret}
    args = {"json_merge": True, "secrets": [{"name": "jm/db", "json_value": infra}]}
    playbook(play(args)).assert_ok()
    # The rotation Lambda writes the password (and moves the host) out of band.
    sm.put_secret_value(SecretId="jm/db", SecretString=json.dumps(dict(infra, password=rotated, host="db-2")))

    changed = {"host": "db.internal", "port": 5432, "username": declared_secret, "dbname": "payments"}
    kept_args = {"json_merge": True, "secrets": [{"name": "jm/db", "json_value": changed}]}
    aws_proxy.reset()
    checked = playbook(play(kept_args), check=True, diff=True, verbosity=4).assert_ok()
    assert aws_proxy.write_count() == 0 and aws_proxy.counts()["BatchGetSecretValue"] == 1
    diff_after = checked.result(TASK)["diff"]["after"]["jm/db"]
    assert diff_after["json_keys"] == {"added": ["dbname"], "replaced": []} and diff_after["value"] == "(will change)"
    added = playbook(play(kept_args), diff=True, verbosity=4).assert_ok()
    assert added.result(TASK)["diff"] == checked.result(TASK)["diff"]
    stored = json.loads(sm.get_secret_value(SecretId="jm/db")["SecretString"])
    assert stored == {"host": "db-2", "port": 5432, "username": declared_secret, "dbname": "payments",
                      "password": rotated}, "overwrite false only adds missing keys"
    aws_proxy.reset()
    again = playbook(play(kept_args)).assert_ok()
    assert again.result(TASK)["changed"] is False and aws_proxy.write_count() == 0

    overwrite_args = {"json_merge": True, "overwrite": True, "secrets": [{"name": "jm/db", "json_value": changed}]}
    aws_proxy.reset()
    checked_overwrite = playbook(play(overwrite_args), check=True, diff=True, verbosity=4).assert_ok()
    assert aws_proxy.write_count() == 0
    assert checked_overwrite.result(TASK)["diff"]["after"]["jm/db"]["json_keys"] == {"added": [],
                                                                                     "replaced": ["host"]}
    replaced = playbook(play(overwrite_args), diff=True, verbosity=4).assert_ok()
    stored = json.loads(sm.get_secret_value(SecretId="jm/db")["SecretString"])
    assert stored == dict(changed, password=rotated), "declared keys replaced, the rotated password kept"
    aws_proxy.reset()
    rerun = playbook(play(overwrite_args), verbosity=4).assert_ok()
    assert rerun.result(TASK)["changed"] is False and aws_proxy.write_count() == 0

    merged_values = [json.dumps(stored), json.dumps(stored, sort_keys=True, separators=(",", ":")),
                     json.dumps(dict(infra, password=rotated, host="db-2"))]
    for run in (checked, added, again, checked_overwrite, replaced, rerun):
        run.assert_no_leak(rotated, declared_secret, *merged_values)


def test_json_merge_on_a_stored_value_that_is_not_an_object_fails_that_secret(playbook, aws_proxy, sm):
    canary = "CANARY-plain-text-9c2f"
    sm.create_secret(Name="jm/plain", SecretString=canary)
    aws_proxy.reset()
    run = playbook(play({"secrets": [{"name": "jm/plain", "json_value": {"host": "h"}, "json_merge": True},
                                     {"name": "jm/fine", "json_value": {"host": "h"}, "json_merge": True}]}))
    assert run.rc != 0
    entries = entries_by_name(run)
    assert entries["jm/plain"]["error"]["code"] == "NotJsonObject"
    assert "JSON object" in entries["jm/plain"]["error"]["message"]
    assert entries["jm/fine"]["action"] == "created"
    assert sm.get_secret_value(SecretId="jm/plain")["SecretString"] == canary
    run.assert_no_leak(canary)


# -- limits ----------------------------------------------------------------------------------------------------

def test_oversized_policy_and_too_many_tags_are_refused_before_any_call(playbook, aws_proxy):
    big = {"Statement": [dict(DENY_DELETE, Sid="S{0}".format(index)) for index in range(200)]}
    many_tags = {"t{0}".format(index): "v" for index in range(50)}
    run = playbook(play({"secrets": [{"name": "lim/policy", "resource_policy": big},
                                     {"name": "lim/tags", "tags": many_tags}]}))
    assert run.rc != 0
    message = run.result(TASK)["msg"]
    assert "secrets[0] ('lim/policy'): the resource policy is" in message and "over the limit of 20480" in message
    assert "secrets[1] ('lim/tags'): 50 tags once merged, plus the ownership tag" in message
    assert aws_proxy.calls() == []


# -- KMS key forms (issue 11, item 6) --------------------------------------------------------------------------

class DenyKms:
    """AccessDenied for one KMS operation, as for a role without that permission."""

    def __init__(self, op):
        self.op = op

    def on_request(self, service, op, body, call_index):  # noqa: ARG002
        if op != self.op:
            return None
        return error_response("AccessDeniedException", "not authorized to perform kms:" + op, 400)


class ReplicaKeyArnsAsAws:
    """moto drops a replica's KmsKeyId; AWS reports the key, here as its key ARN whatever form was sent."""

    def __init__(self, key_arn_by_region):
        self.key_arn_by_region = key_arn_by_region

    def on_response(self, service, op, request_body, status, response_body):  # noqa: ARG002
        if op not in ("DescribeSecret", "ListSecrets") or status != 200:
            return None
        answer = json.loads(response_body)
        for entry in answer.get("SecretList", [answer]):
            for replica in entry.get("ReplicationStatus", []):
                if replica["Region"] in self.key_arn_by_region:
                    replica["KmsKeyId"] = self.key_arn_by_region[replica["Region"]]
        return answer


def test_the_same_key_by_alias_key_arn_and_key_id_is_unchanged(playbook, aws_proxy, sm, moto_server):
    kms = client(moto_server, "kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/envops-app", TargetKeyId=key["KeyId"])
    playbook(play({"names": ["kf/a"], "kms_key_id": "alias/envops-app"})).assert_ok()
    assert sm.describe_secret(SecretId="kf/a")["KmsKeyId"] == "alias/envops-app"
    for form in (key["Arn"], key["KeyId"], "arn:aws:kms:us-east-1:{0}:alias/envops-app".format(ACCOUNT)):
        aws_proxy.reset()
        checked = playbook(play({"names": ["kf/a"], "kms_key_id": form}), check=True).assert_ok()
        assert checked.result(TASK)["changed"] is False, form
        aws_proxy.reset()
        rerun = playbook(play({"names": ["kf/a"], "kms_key_id": form})).assert_ok()
        assert rerun.result(TASK)["changed"] is False, form
        assert aws_proxy.write_count() == 0
        assert aws_proxy.counts().get("DescribeKey", 0) <= 2, "each distinct reference once"
    aws_proxy.reset()
    playbook(play({"names": ["kf/a"], "kms_key_id": "alias/aws/secretsmanager"}), check=True).assert_ok()
    other = kms.create_key()["KeyMetadata"]["Arn"]
    aws_proxy.reset()
    moved = playbook(play({"names": ["kf/a"], "kms_key_id": other})).assert_ok()
    assert entries_by_name(moved)["kf/a"]["changes"] == ["kms_key_id"]


def test_describe_key_denied_falls_back_to_a_text_comparison_with_a_warning(playbook, aws_proxy, moto_server):
    kms = client(moto_server, "kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/envops-denied", TargetKeyId=key["KeyId"])
    playbook(play({"names": ["kd/a"], "kms_key_id": "alias/envops-denied"})).assert_ok()
    aws_proxy.add_rule(DenyKms("DescribeKey"))
    aws_proxy.reset()
    checked = playbook(play({"names": ["kd/a"], "kms_key_id": key["Arn"]}), check=True).assert_ok()
    assert aws_proxy.write_count() == 0
    assert entries_by_name(checked)["kd/a"]["changes"] == ["kms_key_id"], "as text, the two forms differ"
    assert "compared as text" in checked.output
    same_text = playbook(play({"names": ["kd/a"], "kms_key_id": "alias/envops-denied"})).assert_ok()
    assert same_text.result(TASK)["changed"] is False and "compared as text" not in same_text.output


def test_a_replica_key_named_by_alias_is_not_replaced_on_every_run(playbook, aws_proxy, moto_server):
    kms = client(moto_server, "kms", "us-west-2")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/envops-replica", TargetKeyId=key["KeyId"])
    aws_proxy.add_rule(ReplicaKeyArnsAsAws({"us-west-2": key["Arn"]}))
    args = {"names": ["kr/a"], "replica_regions": [{"region": "us-west-2", "kms_key_id": "alias/envops-replica"}]}
    playbook(play(args)).assert_ok()
    aws_proxy.reset()
    rerun = playbook(play(args)).assert_ok()
    assert rerun.result(TASK)["changed"] is False
    assert "RemoveRegionsFromReplication" not in aws_proxy.counts() and aws_proxy.write_count() == 0
    described = [call for call in aws_proxy.calls() if call["op"] == "DescribeKey"]
    assert [call["region"] for call in described] == ["us-west-2"] * 2, "the alias and the ARN, each once, there"


@pytest.mark.parametrize("kms_key_id", ["alias/envops-missing"])
def test_an_unknown_declared_key_fails_that_secret_before_any_write(playbook, aws_proxy, kms_key_id):
    playbook(play({"names": ["ku/a"]})).assert_ok()
    aws_proxy.reset()
    run = playbook(play({"names": ["ku/a"], "kms_key_id": kms_key_id}))
    assert run.rc != 0 and entries_by_name(run)["ku/a"]["error"]["code"] == "KmsKeyNotFound"
    assert aws_proxy.write_count() == 0

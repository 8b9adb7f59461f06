"""json_merge: only the declared top-level keys of a JSON secret are managed; readers as one statement."""

import json

import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import DeclarationError
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import detail_requests
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_all
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import values_to_read
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import READERS_SID
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentValue

from .fakes import step_params
from .fakes import writes_value
from .fakes import state_of

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
STORED = {"host": "old-host", "password": "CANARY-rotated-pw", "port": 5432}
ROLE = "arn:aws:iam::123456789012:role/app"


def current(**attributes):
    attributes.setdefault("current_version_id", "v1")
    attributes.setdefault("version_ids", ("v1",))
    return CurrentSecret(name="db", arn=ARN, **attributes)


def merge_plan(make_params, declared_value, stored=None, overwrite=False, existing=None, **item):
    stored = STORED if stored is None else stored
    declaration = declare(make_params(json_merge=True, secrets=[dict({"name": "db", "json_value": declared_value,
                                                                      "overwrite": overwrite}, **item)]))
    existing = existing or current()
    expected_reads = [] if existing.scheduled_for_deletion else [ARN]
    assert values_to_read(declaration, {"db": existing}) == expected_reads, "merging reads the value, overwrite or not"
    value = stored if isinstance(stored, CurrentValue) else CurrentValue(string=json.dumps(stored))
    (plan,) = plan_all(declaration, state_of({"db": existing}, {ARN: value}))
    return plan


def written(plan):
    return json.loads(plan.merged_payload.string)


def test_overwrite_false_adds_only_missing_keys_and_keeps_the_others(make_params):
    plan = merge_plan(make_params, {"host": "new-host", "dbname": "app"})
    assert plan.action == "updated" and plan.changes == ("value",) and writes_value(plan)
    assert written(plan) == dict(STORED, dbname="app")
    assert plan.after["json_keys"] == {"added": ["dbname"], "replaced": []}
    assert "CANARY-rotated-pw" not in repr(plan) and "CANARY-rotated-pw" not in json.dumps(plan.after)


def test_overwrite_true_replaces_declared_keys_that_differ_type_strictly(make_params):
    plan = merge_plan(make_params, {"host": "new-host", "port": 5432.0, "dbname": "app"}, overwrite=True)
    assert written(plan) == {"host": "new-host", "password": "CANARY-rotated-pw", "port": 5432.0, "dbname": "app"}
    assert isinstance(written(plan)["port"], float)
    assert plan.after["json_keys"] == {"added": ["dbname"], "replaced": ["host", "port"]}


def test_nothing_to_merge_is_unchanged(make_params):
    plan = merge_plan(make_params, {"host": "old-host", "port": 5432}, overwrite=True)
    assert plan.action == "unchanged" and not plan.has_writes and plan.merged_payload is None
    assert plan.after["value"] == "(set)"


@pytest.mark.parametrize("stored, kind", [
    (CurrentValue(string="plain text"), "not JSON"),
    (CurrentValue(string="[1, 2]"), "a JSON list"),
    (CurrentValue(binary=b"\x00\x01"), "binary"),
])
def test_a_stored_value_that_is_not_an_object_fails_that_secret(make_params, stored, kind):
    plan = merge_plan(make_params, {"host": "h"}, stored=stored)
    assert plan.action == "failed" and plan.error["code"] == "NotJsonObject" and kind in plan.error["message"]
    assert not plan.has_writes


def test_a_secret_without_a_value_gets_the_declared_object(make_params):
    declaration = declare(make_params(secrets=[{"name": "db", "json_value": {"host": "h"}, "json_merge": True}]))
    (plan,) = plan_all(declaration, state_of({"db": current(current_version_id=None, version_ids=())}))
    assert writes_value(plan) and plan.merged_payload is None and plan.action == "updated"
    (created,) = plan_all(declaration, state_of({}))
    assert created.action == "created" and writes_value(created)


def test_json_merge_needs_json_value(make_params):
    with pytest.raises(DeclarationError) as refused:
        declare(make_params(secrets=[{"name": "db", "value": "x", "json_merge": True}]))
    assert "json_merge manages the keys of json_value" in str(refused.value)
    # The module-wide default applies only to items with json_value.
    declaration = declare(make_params(json_merge=True, secrets=[{"name": "db", "value": "x"}]))
    assert declaration.secrets[0].json_merge is False


def test_a_scheduled_for_deletion_secret_cannot_be_merged(make_params):
    plan = merge_plan(make_params, {"host": "h"}, existing=current(scheduled_for_deletion=True))
    assert plan.action == "failed" and plan.error["code"] == "JsonMergeNeedsValue"


FOREIGN = {"Sid": "DenyDelete", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:DeleteSecret",
           "Resource": "*"}


def readers_plan(make_params, current_policy, readers):
    declaration = declare(make_params(names=["db"], readers=readers))
    existing = current(policy=current_policy, policy_read=True)
    assert detail_requests(declaration, {"db": current()})["db"][1].policy, "the current policy is read to merge"
    (plan,) = plan_all(declaration, state_of({"db": existing}))
    return plan


def test_readers_are_merged_into_the_current_policy_keeping_foreign_statements(make_params):
    plan = readers_plan(make_params, {"Version": "2012-10-17", "Statement": [FOREIGN]}, [ROLE])
    put = json.loads(step_params(plan, "put_resource_policy")["ResourcePolicy"])
    assert [statement["Sid"] for statement in put["Statement"]] == ["DenyDelete", READERS_SID]
    assert plan.after["resource_policy"] == put, "the diff shows the merged policy"
    again = readers_plan(make_params, put, [ROLE])
    assert again.action == "unchanged" and not again.has_writes


def test_no_readers_removes_only_the_readers_statement(make_params):
    merged = {"Version": "2012-10-17", "Statement": [FOREIGN, {"Sid": READERS_SID, "Effect": "Allow",
                                                               "Principal": {"AWS": [ROLE]}, "Action": ["x"],
                                                               "Resource": "*"}]}
    plan = readers_plan(make_params, merged, [])
    assert json.loads(step_params(plan, "put_resource_policy")["ResourcePolicy"])["Statement"] == [FOREIGN]
    assert not plan.step("delete_resource_policy")
    only_readers = {"Version": "2012-10-17", "Statement": [merged["Statement"][1]]}
    assert readers_plan(make_params, only_readers, []).step("delete_resource_policy")
    assert not readers_plan(make_params, None, []).has_writes


def test_a_policy_over_the_size_limit_is_refused_before_any_call(make_params):
    big = {"Statement": [dict(FOREIGN, Sid="S{0}".format(index)) for index in range(200)]}
    with pytest.raises(DeclarationError) as refused:
        declare(make_params(secrets=[{"name": "db", "resource_policy": big}]))
    assert "secrets[0] ('db'): the resource policy is" in str(refused.value) and "20480" in str(refused.value)
    plan = readers_plan(make_params, big, [ROLE])
    assert plan.action == "failed" and plan.error["code"] == "PolicyTooLarge"

import dataclasses

import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_all
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import same_kms_key
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import values_to_read
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentValue

from .fakes import create_params
from .fakes import metadata_update
from .fakes import step_params
from .fakes import tags_removed
from .fakes import tags_set
from .fakes import writes_value
from .fakes import state_of

OWNER_TAG = {"Key": "envops:managed-by", "Value": "envops.aws_secrets"}
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:{0}-AbCdEf"


def current(name, **attributes):
    attributes.setdefault("current_version_id", "v1")
    attributes.setdefault("version_ids", ("v1",))
    return CurrentSecret(name=name, arn=ARN.format(name), **attributes)


def plan_one(make_params, existing=None, value=None, **params):
    declaration = declare(make_params(**params))
    current_by_name = {existing.name: existing} if existing else {}
    values = {existing.arn: value} if existing and value else {}
    return plan_all(declaration, state_of(current_by_name, values))


def test_missing_secret_is_created_with_what_is_declared(make_params):
    (plan,) = plan_one(make_params, secrets=[{"name": "a", "value": "CANARY-v1", "description": "d",
                                              "tags": {"t": "1"}}])
    assert plan.action == "created"
    assert plan.changes == ("value", "description", "tags")
    assert create_params(plan) == {"Name": "a", "Description": "d", "Tags": [{"Key": "t", "Value": "1"}, OWNER_TAG]}
    assert writes_value(plan) and plan.value_token
    assert plan.after == {"state": "present", "value": "(will change)", "description": "d",
                          "tags": {"t": "1", "envops:managed-by": "envops.aws_secrets"}}
    assert plan.ownership == "owned"
    assert "CANARY-v1" not in repr(plan.steps)


def test_names_without_value_are_created_empty(make_params):
    (plan,) = plan_one(make_params, names=["a"])
    assert plan.action == "created" and not writes_value(plan) and plan.value_token is None


def test_existing_value_is_kept_without_overwrite(make_params):
    (plan,) = plan_one(make_params, current("a"), secrets=[{"name": "a", "value": "new"}])
    assert plan.action == "unchanged" and not plan.has_writes
    assert values_to_read(declare(make_params(secrets=[{"name": "a", "value": "new"}])), {"a": current("a")}) == []


def test_secret_without_value_gets_the_declared_one_even_without_overwrite(make_params):
    existing = current("a", current_version_id=None, version_ids=())
    (plan,) = plan_one(make_params, existing, secrets=[{"name": "a", "value": "new"}])
    assert plan.action == "updated" and plan.changes == ("value",)


@pytest.mark.parametrize(
    "stored, expected_action",
    [('{"b": 2, "a": 1}', "unchanged"), ('{"a": 1}', "updated"), ("garbage", "updated")],
)
def test_overwrite_compares_json_as_parsed(make_params, stored, expected_action):
    (plan,) = plan_one(
        make_params, current("a"), CurrentValue(string=stored),
        overwrite=True, secrets=[{"name": "a", "json_value": {"a": 1, "b": 2}}],
    )
    assert plan.action == expected_action


def test_overwrite_needs_the_value_read(make_params):
    declaration = declare(make_params(overwrite=True, secrets=[{"name": "a", "value": "v"}]))
    assert values_to_read(declaration, {"a": current("a")}) == [ARN.format("a")]
    (plan,) = plan_one(make_params, current("a"), CurrentValue(error_code="AccessDeniedException", error_message="no"),
                       overwrite=True, secrets=[{"name": "a", "value": "v"}])
    assert plan.action == "failed" and plan.error["code"] == "AccessDeniedException"


def test_generate_only_when_there_is_no_value(make_params):
    (kept,) = plan_one(make_params, current("a"), names=["a"], generate={"length": 8})
    assert kept.action == "unchanged"
    (filled,) = plan_one(make_params, current("a", current_version_id=None, version_ids=()), names=["a"],
                         generate={"length": 8})
    assert filled.action == "updated" and filled.after["value"] == "(will be generated)"


def test_tags_merge_and_purge(make_params):
    existing = current("a", tags={"keep": "1", "old": "x", "change": "a"})
    (purged,) = plan_one(make_params, existing, names=["a"], tags={"keep": "1", "change": "b", "new": "n"})
    assert tags_set(purged) == {"change": "b", "new": "n"} and tags_removed(purged) == ["old"]
    assert purged.after["tags"] == {"keep": "1", "change": "b", "new": "n"}
    (kept,) = plan_one(make_params, existing, names=["a"], tags={"new": "n"}, purge_tags=False)
    assert tags_removed(kept) == [] and kept.after["tags"] == {"keep": "1", "old": "x", "change": "a", "new": "n"}
    (untouched,) = plan_one(make_params, existing, names=["a"])
    assert untouched.action == "unchanged" and "tags" not in untouched.after


def test_description_and_kms_update(make_params):
    existing = current("a", description="old", kms_key_id="arn:aws:kms:us-east-1:1:key/k1")
    (plan,) = plan_one(make_params, existing, names=["a"], description="new", kms_key_id="k2")
    assert metadata_update(plan) == {"Description": "new", "KmsKeyId": "k2"}
    assert plan.changes == ("description", "kms_key_id")
    (same,) = plan_one(make_params, existing, names=["a"], description="old", kms_key_id="k1")
    assert same.action == "unchanged"


@pytest.mark.parametrize(
    "current_key, declared, same",
    [
        (None, "alias/aws/secretsmanager", True),
        (None, "alias/mine", False),
        ("arn:aws:kms:us-east-1:1:key/abc", "abc", True),
        ("arn:aws:kms:us-east-1:1:key/abc", "key/abc", True),
        ("arn:aws:kms:us-east-1:1:alias/mine", "alias/mine", True),
        ("abc", "arn:aws:kms:us-east-1:1:key/abc", True),
        ("abc", "def", False),
    ],
)
def test_same_kms_key(current_key, declared, same):
    assert same_kms_key(current_key, declared) is same


def test_scheduled_secret_is_restored_then_brought_to_state(make_params):
    existing = current("a", scheduled_for_deletion=True, description="d")
    (plan,) = plan_one(make_params, existing, overwrite=True, secrets=[{"name": "a", "value": "v", "description": "e"}])
    assert plan.action == "restored" and plan.operations[0] == "restore_secret" and writes_value(plan)
    assert plan.changes == ("value", "description")
    (refused,) = plan_one(make_params, existing, restore=False, names=["a"])
    assert refused.action == "failed" and refused.error["code"] == "ScheduledForDeletion" and not refused.has_writes


@pytest.mark.parametrize(
    "existing, window, action, delete",
    [
        (None, 30, "absent", None),
        (current("a"), 30, "deleted", {"RecoveryWindowInDays": 30}),
        (current("a"), 0, "deleted", {"ForceDeleteWithoutRecovery": True}),
        (current("a", scheduled_for_deletion=True), 7, "absent", None),
        (current("a", scheduled_for_deletion=True), 0, "deleted", {"ForceDeleteWithoutRecovery": True}),
    ],
)
def test_absent(make_params, existing, window, action, delete):
    (plan,) = plan_one(make_params, existing, names=["a"], state="absent", recovery_window=window)
    assert plan.action == action and step_params(plan, "delete_secret") == delete


def test_prune_deletes_only_undeclared_secrets_under_the_prefix(make_params):
    declaration = declare(make_params(prefix="p/", names=["keep"], prune=True, recovery_window=7))
    current_by_name = {
        "p/keep": current("p/keep"),
        "p/extra": current("p/extra", tags={"envops:managed-by": "envops.aws_secrets"}),
        "p/gone": current("p/gone", scheduled_for_deletion=True),
    }
    plans = plan_all(declaration, state_of(current_by_name))
    assert [(plan.full_name, plan.action) for plan in plans] == [("p/keep", "unchanged"), ("p/extra", "deleted")]
    assert step_params(plans[1], "delete_secret") == {"RecoveryWindowInDays": 7} and plans[1].label == "pruned"


def test_a_plan_is_never_changed_once_built_and_every_failure_is_made_alike(make_params):
    deleted = CurrentSecret(name="a", arn=ARN.format("a"), scheduled_for_deletion=True, current_version_id="v1",
                            version_ids=("v1",))
    declaration = declare(make_params(restore=False, secrets=[{"name": "a", "value": "CANARY-x"}, {"name": "b"}]))
    refused, unread = plan_all(declaration, state_of({"a": deleted, "b": current("b")},
                                                     errors={"b": {"code": "AccessDeniedException", "message": "m"}}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        refused.error = None
    for failed in (refused, unread):
        assert failed.action == "failed" and failed.steps == () and failed.after == failed.before
    assert refused.error["code"] == "ScheduledForDeletion" and unread.error["code"] == "AccessDeniedException"

"""KMS keys resolved once per reference and compared by ARN; the cross-account readers check."""

import json

import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_kms import KmsKeys
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_kms import cross_account_checks
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_kms import key_policy_lets_decrypt
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_kms import kms_references
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_kms import own_account_from
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_all
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret

from .fakes import metadata_update
from .fakes import state_of
from .fakes import FakeCalls
from .fakes import client_error

ACCOUNT = "123456789012"
OTHER = "210987654321"
KEY_ARN = "arn:aws:kms:us-east-1:{0}:key/1111-2222".format(ACCOUNT)
OTHER_KEY_ARN = "arn:aws:kms:us-east-1:{0}:key/3333-4444".format(ACCOUNT)
MANAGED_ARN = "arn:aws:kms:us-east-1:{0}:key/fee5-aws".format(ACCOUNT)
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:{0}:secret:a-AbCdEf".format(ACCOUNT)
KEYS = {"alias/app": (KEY_ARN, "CUSTOMER"), "1111-2222": (KEY_ARN, "CUSTOMER"), KEY_ARN: (KEY_ARN, "CUSTOMER"),
        "alias/other": (OTHER_KEY_ARN, "CUSTOMER"), MANAGED_ARN: (MANAGED_ARN, "AWS")}


def describe_key(KeyId):
    if KeyId not in KEYS:
        return client_error("NotFoundException", "Invalid keyId")
    arn, manager = KEYS[KeyId]
    return {"KeyMetadata": {"Arn": arn, "KeyManager": manager, "KeyId": arn.rsplit("/", 1)[-1]}}


def kms(answers=None, regions=None):
    calls = FakeCalls(dict({"describe_key": describe_key}, **(answers or {})))
    asked = regions if regions is not None else []
    return KmsKeys(lambda region: asked.append(region) or calls, concurrency=4), calls


def current(**attributes):
    attributes.setdefault("current_version_id", "v1")
    attributes.setdefault("version_ids", ("v1",))
    return CurrentSecret(name="a", arn=SECRET_ARN, **attributes)


def plan_with_keys(make_params, existing, own_account=None, **params):
    declaration = declare(make_params(names=["a"], **params))
    keys, calls = kms()
    keys.resolve(kms_references(declaration.secrets, {"a": existing}, own_account))
    (plan,) = plan_all(declaration, state_of({"a": existing}, kms_keys=keys))
    return plan, keys, calls


@pytest.mark.parametrize("in_use, declared", [
    ("alias/app", KEY_ARN), (KEY_ARN, "alias/app"), ("1111-2222", "alias/app"),
    (None, "alias/aws/secretsmanager"), (MANAGED_ARN, "alias/aws/secretsmanager"),
])
def test_the_same_key_named_another_way_is_unchanged(make_params, in_use, declared):
    plan, keys, calls = plan_with_keys(make_params, current(kms_key_id=in_use), kms_key_id=declared)
    assert plan.action == "unchanged" and metadata_update(plan) is None, (in_use, declared)
    assert keys.warnings() == []
    assert all(operation == "describe_key" for operation in calls.operations())


def test_a_different_key_is_an_update_and_each_reference_is_asked_once(make_params):
    declaration = declare(make_params(secrets=[{"name": "a", "kms_key_id": "alias/other"},
                                               {"name": "b", "kms_key_id": "alias/other"}]))
    existing = {"a": current(kms_key_id="alias/app"),
                "b": CurrentSecret(name="b", arn=SECRET_ARN + "b", kms_key_id="alias/app", current_version_id="v1")}
    keys, calls = kms()
    keys.resolve(kms_references(declaration.secrets, existing))
    keys.resolve(kms_references(declaration.secrets, existing))  # cached: asked again, nothing is called
    plans = plan_all(declaration, state_of(existing, kms_keys=keys))
    assert [metadata_update(plan) for plan in plans] == [{"KmsKeyId": "alias/other"}] * 2
    assert sorted(params["KeyId"] for _operation, params in calls.made) == ["alias/app", "alias/other"]


def test_identical_text_needs_no_describe_key(make_params):
    plan, _keys, calls = plan_with_keys(make_params, current(kms_key_id=KEY_ARN), kms_key_id=KEY_ARN)
    assert plan.action == "unchanged" and calls.made == []


def test_describe_key_denied_falls_back_to_text_with_a_warning(make_params):
    declaration = declare(make_params(names=["a"], kms_key_id="alias/app"))
    existing = {"a": current(kms_key_id=KEY_ARN)}
    keys, _calls = kms({"describe_key": client_error("AccessDeniedException", "not allowed")})
    keys.resolve(kms_references(declaration.secrets, existing))
    (plan,) = plan_all(declaration, state_of(existing, kms_keys=keys))
    assert metadata_update(plan) == {"KmsKeyId": "alias/app"}, "as text, alias/app and the key ARN differ"
    (warning,) = keys.warnings()
    assert "compared as text" in warning and "'alias/app'" in warning


def test_an_unknown_declared_key_fails_that_secret_before_any_write(make_params):
    plan, _keys, _calls = plan_with_keys(make_params, current(kms_key_id=KEY_ARN), kms_key_id="alias/missing")
    assert plan.action == "failed" and plan.error["code"] == "KmsKeyNotFound" and not plan.has_writes


def test_replica_keys_are_compared_by_arn_in_their_region(make_params):
    existing = current(replicas=({"region": "eu-west-1", "kms_key_id": KEY_ARN, "status": "InSync",
                                  "status_message": None},))
    declaration = declare(make_params(names=["a"], replica_regions=[{"region": "eu-west-1", "kms_key_id": "alias/app"}]))
    regions = []
    keys, calls = kms(regions=regions)
    keys.resolve(kms_references(declaration.secrets, {"a": existing}))
    (plan,) = plan_all(declaration, state_of({"a": existing}, kms_keys=keys))
    assert plan.steps == () and plan.action == "unchanged"
    assert set(regions) == {"eu-west-1"}, "a replica's key is resolved in the replica's region"
    assert len(calls.made) == 2


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


ROOT_OTHER = "arn:aws:iam::{0}:root".format(OTHER)


@pytest.mark.parametrize("statement, allowed", [
    ({"Effect": "Allow", "Principal": {"AWS": ROOT_OTHER}, "Action": "kms:Decrypt", "Resource": "*"}, True),
    ({"Effect": "Allow", "Principal": {"AWS": [OTHER]}, "Action": ["kms:*"], "Resource": "*"}, True),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{0}:role/app".format(OTHER)}, "Action": "kms:Decrypt",
      "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}},
     True),
    ({"Effect": "Allow", "Principal": {"AWS": ROOT_OTHER}, "Action": "kms:Decrypt", "Resource": "*",
      "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}, False),
    ({"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
      "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}}}, False),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{0}:root".format(ACCOUNT)}, "Action": "kms:*",
      "Resource": "*"}, False),
    ({"Effect": "Deny", "Principal": {"AWS": ROOT_OTHER}, "Action": "kms:Decrypt", "Resource": "*"}, False),
    ({"Effect": "Allow", "Principal": {"AWS": ROOT_OTHER}, "Action": "kms:Encrypt", "Resource": "*"}, False),
])
def test_key_policy_lets_decrypt(statement, allowed):
    assert key_policy_lets_decrypt(policy(statement), OTHER, "us-east-1") is allowed


def test_own_account_comes_from_a_listed_arn():
    assert own_account_from({"a": current()}) == ACCOUNT
    assert own_account_from({}) is None


def cross_check(make_params, existing, key_policy_answer=None, **params):
    declaration = declare(make_params(names=["a"], **params))
    current_by_name = {"a": existing} if existing else {}
    keys, calls = kms({"get_key_policy": key_policy_answer} if key_policy_answer is not None else None)
    keys.resolve(kms_references(declaration.secrets, current_by_name, ACCOUNT))
    errors, warnings = cross_account_checks(declaration.secrets, current_by_name, ACCOUNT, keys, "us-east-1")
    return errors, warnings, calls


def test_readers_of_another_account_on_the_managed_key_fail_naming_the_principals_and_the_fix(make_params):
    errors, warnings, calls = cross_check(make_params, current(), readers=[OTHER])
    assert errors["a"]["code"] == "CrossAccountReadersNeedCustomerKey"
    assert OTHER in errors["a"]["message"] and "customer managed key" in errors["a"]["message"]
    assert warnings == [] and calls.made == [], "the managed key by name needs no call"
    errors, _warnings, _calls = cross_check(make_params, current(kms_key_id=MANAGED_ARN), readers=[OTHER])
    assert "a" in errors, "the managed key named by its ARN is found by DescribeKey"
    errors, _warnings, _calls = cross_check(make_params, None, readers=[OTHER])
    assert "a" in errors, "a new secret without a key gets the managed key"


def test_readers_of_the_own_account_need_no_check(make_params):
    errors, warnings, calls = cross_check(make_params, current(), readers=["arn:aws:iam::{0}:role/x".format(ACCOUNT)])
    assert errors == {} and warnings == [] and calls.made == []


def test_customer_key_policy_is_read_once_and_missing_accounts_are_warned_about(make_params):
    key_policy = json.dumps(policy({"Effect": "Allow", "Principal": {"AWS": ROOT_OTHER}, "Action": "kms:Decrypt",
                                    "Resource": "*"}))
    third = "333333333333"
    errors, warnings, calls = cross_check(make_params, current(), {"Policy": key_policy}, kms_key_id="alias/app",
                                          readers=[OTHER, "arn:aws:iam::{0}:role/reader".format(third)])
    assert errors == {}
    (warning,) = warnings
    assert third in warning and OTHER not in warning and KEY_ARN in warning
    assert calls.operations().count("get_key_policy") == 1


def test_an_unreadable_key_policy_is_a_warning_not_a_failure(make_params):
    errors, warnings, _calls = cross_check(make_params, current(), client_error("AccessDeniedException"),
                                           kms_key_id="alias/app", readers=[OTHER])
    assert errors == {} and len(warnings) == 1 and "AccessDeniedException" in warnings[0]

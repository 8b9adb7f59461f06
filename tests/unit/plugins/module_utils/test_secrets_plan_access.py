import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import DeclarationError
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import details_needed
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_all
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret

from .fakes import step_params
from .fakes import state_of

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:rotate"
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf"


def current(**attributes):
    attributes.setdefault("current_version_id", "v1")
    attributes.setdefault("version_ids", ("v1",))
    return CurrentSecret(name="a", arn=ARN, **attributes)


def plan(make_params, existing=None, **params):
    (only,) = plan_all(declare(make_params(names=["a"], **params)), state_of({"a": existing} if existing else {}))
    return only


@pytest.mark.parametrize("rules, declared, same", [
    ({"AutomaticallyAfterDays": 30}, {"automatically_after_days": 30}, True),
    ({"AutomaticallyAfterDays": 30, "ScheduleExpression": "rate(30 days)"}, {"automatically_after_days": 30}, True),
    ({"ScheduleExpression": "rate(30 days)"}, {"automatically_after_days": 30}, True),
    ({"AutomaticallyAfterDays": 30}, {"automatically_after_days": 60}, False),
    ({"ScheduleExpression": "cron(0 4 ? * SUN *)"}, {"schedule_expression": "cron(0  4 ? * SUN *)"}, True),
    ({"ScheduleExpression": "cron(0 4 ? * SUN *)", "Duration": "3h"},
     {"schedule_expression": "cron(0 4 ? * SUN *)", "duration": "2h"}, False),
    ({"ScheduleExpression": "cron(0 4 ? * SUN *)", "Duration": "3h"}, {"schedule_expression": "cron(0 4 ? * SUN *)"},
     True),
])
def test_rotation_compares_the_schedule_however_it_is_written(make_params, rules, declared, same):
    existing = current(rotation_enabled=True, rotation_lambda_arn=LAMBDA, rotation_rules=rules)
    rotation = dict({"lambda_arn": LAMBDA, "enabled": True, "rotate_immediately": False}, **declared)
    planned = plan(make_params, existing, rotation=rotation)
    assert (planned.step("rotate_secret") is None) is same


def test_rotation_on_new_and_cancel(make_params):
    created = plan(make_params, rotation={"lambda_arn": LAMBDA, "automatically_after_days": 7, "enabled": True,
                                          "rotate_immediately": True})
    assert step_params(created, "rotate_secret") == {
        "RotationLambdaARN": LAMBDA, "RotationRules": {"AutomaticallyAfterDays": 7}, "RotateImmediately": True}
    on = current(rotation_enabled=True, rotation_lambda_arn=LAMBDA, rotation_rules={"AutomaticallyAfterDays": 7})
    assert plan(make_params, on, rotation={"enabled": False}).step("cancel_rotate_secret")
    assert not plan(make_params, current(), rotation={"enabled": False}).has_writes


def test_replicas_add_remove_and_rekey(make_params):
    existing = current(replicas=(
        {"region": "eu-west-1", "kms_key_id": None, "status": "InSync", "status_message": None},
        {"region": "us-west-2", "kms_key_id": "arn:aws:kms:us-west-2:1:key/old", "status": "InSync",
         "status_message": None},
        {"region": "ap-south-1", "kms_key_id": None, "status": "InSync", "status_message": None},
    ))
    planned = plan(make_params, existing, replica_regions=[
        {"region": "eu-west-1", "kms_key_id": None}, {"region": "us-west-2", "kms_key_id": "new"},
        {"region": "eu-central-1", "kms_key_id": None}])
    removed = step_params(planned, "remove_regions_from_replication")
    assert removed == {"RemoveReplicaRegions": ["us-west-2", "ap-south-1"]}
    assert step_params(planned, "replicate_secret_to_regions")["AddReplicaRegions"] == [
        {"Region": "eu-central-1"}, {"Region": "us-west-2", "KmsKeyId": "new"}]
    kept = plan(make_params, existing, purge_replicas=False, replica_regions=[{"region": "eu-west-1",
                                                                               "kms_key_id": None}])
    assert not kept.has_writes


def test_deleting_removes_replicas_first(make_params):
    existing = current(replicas=({"region": "eu-west-1", "kms_key_id": None, "status": "InSync",
                                  "status_message": None},))
    planned = plan(make_params, existing, state="absent")
    assert planned.operations == ("remove_regions_from_replication", "delete_secret")
    assert step_params(planned, "remove_regions_from_replication") == {"RemoveReplicaRegions": ["eu-west-1"]}


def test_version_rollback(make_params):
    existing = current(current_version_id="v2", version_ids=("v1", "v2"))

    def rollback_to(version_id):
        return plan_all(declare(make_params(secrets=[{"name": "a", "current_version_id": version_id}])),
                        state_of({"a": existing}))[0]

    rolled = rollback_to("v1")
    assert step_params(rolled, "update_secret_version_stage") == {
        "VersionStage": "AWSCURRENT", "MoveToVersionId": "v1", "RemoveFromVersionId": "v2"}
    same = rollback_to("v2")
    assert not same.has_writes
    unknown = rollback_to("v9")
    assert unknown.action == "failed" and unknown.error["code"] == "UnknownVersionId" and not unknown.has_writes


def test_details_are_read_only_when_needed(make_params):
    declaration = declare(make_params(secrets=[
        {"name": "plain"},
        {"name": "pol", "resource_policy": {}},
        {"name": "rep", "replica_regions": [{"region": "eu-west-1"}]},
        {"name": "ver", "current_version_id": "v9"},
        {"name": "gone", "state": "absent"},
    ]))
    needs = {declared.full_name: details_needed(declared, current()) for declared in declaration.secrets}
    assert not needs["plain"]
    assert needs["pol"].policy and not needs["pol"].replicas
    assert needs["rep"].replicas and not needs["rep"].policy
    assert needs["ver"].all_versions
    assert needs["gone"].replicas and not needs["gone"].policy


@pytest.mark.parametrize("params, fragment", [
    (dict(rotation={"enabled": True, "rotate_immediately": False, "automatically_after_days": 3}),
     "rotation needs lambda_arn"),
    (dict(rotation={"enabled": True, "rotate_immediately": False, "lambda_arn": LAMBDA}), "exactly one of"),
    (dict(rotation={"enabled": True, "rotate_immediately": False, "lambda_arn": LAMBDA,
                    "automatically_after_days": 1001}), "must be 1 to 1000"),
    (dict(rotation={"enabled": True, "rotate_immediately": False, "lambda_arn": "arn:aws:s3:::x",
                    "automatically_after_days": 3}), "is not a Lambda function ARN"),
    (dict(rotation={"enabled": True, "rotate_immediately": False, "lambda_arn": LAMBDA,
                    "schedule_expression": "every day"}), "must be rate(...) or cron(...)"),
    (dict(rotation={"enabled": True, "rotate_immediately": False, "lambda_arn": LAMBDA,
                    "automatically_after_days": 3, "duration": "25h"}), "must be 1h to 24h"),
    (dict(replica_regions=[{"region": "mars-1"}]), "is not an AWS region name"),
    (dict(replica_regions=[{"region": "eu-west-1"}, {"region": "eu-west-1"}]), "listed twice"),
    (dict(resource_policy="{broken"), "resource_policy is not valid JSON"),
    (dict(readers=["nope"]), "readers are not IAM role, user or account ARNs: 'nope'"),
])
def test_bad_access_options_are_refused(make_params, params, fragment):
    with pytest.raises(DeclarationError) as error:
        declare(make_params(names=["a"], **params))
    assert fragment in str(error.value)


def test_module_wide_problem_is_reported_once(make_params):
    with pytest.raises(DeclarationError) as error:
        declare(make_params(names=["a", "b", "c"], readers=["nope"]))
    assert len(error.value.problems) == 1


def test_version_id_cannot_go_with_a_value(make_params):
    with pytest.raises(DeclarationError) as error:
        declare(make_params(secrets=[{"name": "a", "value": "long-value", "current_version_id": "v1"}]))
    assert "current_version_id picks an existing version; it cannot go with value" in str(error.value)

"""The whole pipeline, _secrets_reconcile.run(), on fake callers: declare, read, plan, apply, report."""

import json

import pytest

from tests.support.aws_proxy import WRITE_OPERATIONS

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_apply import api_operation_name
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_mask import Masker
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_reconcile import RunFailure
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_reconcile import run

from .fakes import FakeCalls
from .fakes import client_error

ACCOUNT = "123456789012"
ARN = "arn:aws:secretsmanager:us-east-1:" + ACCOUNT + ":secret:{0}-AbCdEf"
OWNER_TAG = {"Key": "envops:managed-by", "Value": "envops.aws_secrets"}


class FakeAws:
    """One FakeCalls per service; records which callers the pipeline asked for."""

    def __init__(self, secretsmanager=None, kms=None, sts=None):
        self.by_service = {"secretsmanager": FakeCalls(secretsmanager), "kms": FakeCalls(kms), "sts": FakeCalls(sts)}
        self.asked = []

    def __call__(self, service, region, concurrency):
        self.asked.append((service, region, concurrency))
        return self.by_service[service]

    def operations(self, service="secretsmanager"):
        return self.by_service[service].operations()

    def writes(self):
        return [operation for calls in self.by_service.values() for operation in calls.operations()
                if api_operation_name(operation) in WRITE_OPERATIONS]


def listing(*entries):
    return {"SecretList": list(entries)}


def listed(name, **extra):
    return dict({"Name": name, "ARN": ARN.format(name), "SecretVersionsToStages": {"v1": ["AWSCURRENT"]},
                 "Tags": [OWNER_TAG]}, **extra)


def created(Name, **_):
    return {"ARN": ARN.format(Name), "Name": Name, "VersionId": "v-new"}


def run_pipeline(make_params, aws, check_mode=False, **params):
    masker = Masker()
    module_params = make_params(**params)
    masker.add_params({}, module_params)
    return run(module_params, "us-east-1", aws, masker, check_mode=check_mode, with_diff=True)


def test_a_task_reads_in_bulk_plans_and_writes_each_secret_once(make_params):
    aws = FakeAws({"list_secrets": listing(listed("app/old", Description="old"), listed("app/keep")),
                   "create_secret": created})
    outcome = run_pipeline(make_params, aws, prefix="app/", prune=True,
                           secrets=[{"name": "new", "value": "CANARY-new-value"},
                                    {"name": "keep", "description": "kept"}])
    result = outcome.result
    assert [(entry["name"], entry["action"]) for entry in result["secrets"]] == [
        ("app/new", "created"), ("app/keep", "updated"), ("app/old", "deleted")]
    # One listing, one DescribeSecret for the replicas of the secret prune deletes, then one write each.
    assert aws.operations()[:2] == ["list_secrets", "describe_secret"]
    assert sorted(aws.operations()[2:]) == ["create_secret", "delete_secret", "update_secret"]
    assert result["api_calls"] == {"list_secrets": 1, "describe_secret": 1, "create_secret": 1, "update_secret": 1,
                                   "delete_secret": 1}
    assert result["summary"]["total"] == 3 and result["changed"] is True
    assert result["arns"] == {"app/new": ARN.format("app/new"), "app/keep": ARN.format("app/keep")}
    assert outcome.failure is None and outcome.warnings == []
    assert [service for service, _region, _concurrency in aws.asked] == ["secretsmanager"], "no KMS or STS client"
    assert "CANARY-new-value" not in json.dumps(result)


def test_check_mode_reports_the_same_plan_and_diff_with_no_write(make_params):
    answers = {"list_secrets": listing(listed("app/keep", Tags=[OWNER_TAG, {"Key": "team", "Value": "a"}])),
               "create_secret": created}
    params = dict(prefix="app/", secrets=[{"name": "new", "value": "CANARY-v"},
                                          {"name": "keep", "tags": {"team": "b"}}])
    checked_aws, real_aws = FakeAws(answers), FakeAws(answers)
    checked = run_pipeline(make_params, checked_aws, check_mode=True, **params).result
    applied = run_pipeline(make_params, real_aws, **params).result
    assert checked_aws.writes() == [] and checked_aws.operations() == ["list_secrets"]
    assert sorted(real_aws.writes()) == ["create_secret", "tag_resource"]
    assert checked["diff"] == applied["diff"] and checked["summary"] == applied["summary"]
    assert [entry["changes"] for entry in checked["secrets"]] == [entry["changes"] for entry in applied["secrets"]]
    assert [entry["steps"] for entry in checked["secrets"]] == [["CreateSecret"], ["TagResource"]]
    assert [entry["steps"] for entry in applied["secrets"]] == [["CreateSecret"], ["TagResource"]]


def test_bad_input_fails_before_any_caller_is_made(make_params):
    aws = FakeAws()
    with pytest.raises(RunFailure) as failure:
        run_pipeline(make_params, aws, secrets=[{"name": "ok"}, {"name": "bad name!"}])
    assert "secrets[1]" in failure.value.msg and failure.value.fields["problems"]
    assert aws.asked == []


def test_a_listing_failure_stops_the_run_before_any_write(make_params):
    aws = FakeAws({"list_secrets": client_error("AccessDeniedException", "no list")})
    with pytest.raises(RunFailure) as failure:
        run_pipeline(make_params, aws, names=["a"])
    assert failure.value.msg == "Could not list the current secrets: AccessDeniedException: no list"
    assert failure.value.fields["error"]["code"] == "AccessDeniedException" and aws.writes() == []


def test_readers_in_another_account_ask_sts_once_when_nothing_is_listed(make_params):
    aws = FakeAws({"list_secrets": listing()}, sts={"get_caller_identity": client_error("AccessDenied", "no sts")})
    with pytest.raises(RunFailure) as failure:
        run_pipeline(make_params, aws, secrets=[{"name": "a", "readers": ["arn:aws:iam::210987654321:root"]}])
    assert failure.value.msg.startswith("Could not tell the account of the secrets (sts:GetCallerIdentity)")
    assert aws.operations("sts") == ["get_caller_identity"] and aws.writes() == []


def test_a_refused_policy_fails_its_secret_only_and_is_checked_in_check_mode(make_params):
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT},
                                                      "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}
    answers = {"list_secrets": listing(), "create_secret": created,
               "validate_resource_policy": {"PolicyValidationPassed": False,
                                            "ValidationErrors": [{"CheckName": "public", "ErrorMessage": "no"}]}}
    for check_mode in (True, False):
        aws = FakeAws(answers)
        outcome = run_pipeline(make_params, aws, check_mode=check_mode,
                               secrets=[{"name": "a", "resource_policy": policy}, {"name": "b"}])
        entries = {entry["name"]: entry for entry in outcome.result["secrets"]}
        assert entries["a"]["action"] == "failed" and entries["a"]["error"]["code"] == "PolicyValidationFailed"
        assert entries["b"]["action"] == "created"
        assert aws.writes() == ([] if check_mode else ["create_secret"])
        assert outcome.failure == "Failed on 1 of 2 secrets: a (PolicyValidationFailed)"


def test_a_create_that_meets_a_secret_the_listing_missed_is_replanned_from_one_reread(make_params):
    stored = {"ARN": ARN.format("a"), "Name": "a", "SecretString": "CANARY-stored"}
    aws = FakeAws({"list_secrets": listing(),
                   "create_secret": client_error("ResourceExistsException", "exists"),
                   "describe_secret": {"Name": "a", "ARN": ARN.format("a"), "Tags": [OWNER_TAG],
                                       "VersionIdsToStages": {"v9": ["AWSCURRENT"]}},
                   "batch_get_secret_value": {"SecretValues": [stored]},
                   "put_secret_value": {"VersionId": "v10"}})
    outcome = run_pipeline(make_params, aws, overwrite=True, secrets=[{"name": "a", "value": "CANARY-declared"}])
    assert aws.operations() == ["list_secrets", "create_secret", "describe_secret", "batch_get_secret_value",
                                "put_secret_value"]
    (entry,) = outcome.result["secrets"]
    assert entry["action"] == "updated" and entry["version_id"] == "v10" and entry["arn"] == ARN.format("a")
    assert "CANARY" not in json.dumps(outcome.result)


def test_a_service_owned_secret_is_reported_and_never_written(make_params):
    aws = FakeAws({"list_secrets": listing(listed("rds-db", OwningService="rds"))})
    outcome = run_pipeline(make_params, aws, secrets=[{"name": "rds-db", "description": "mine"}])
    (entry,) = outcome.result["secrets"]
    assert entry["action"] == "skipped" and entry["ownership"] == "service" and aws.writes() == []
    assert outcome.warnings == ["rds-db is owned by the AWS service 'rds' (OwningService), so this module never "
                                "changes it; declared changes (description) were not made"]


def test_the_conflict_replan_compares_kms_keys_by_arn(make_params):
    key_arn = "arn:aws:kms:us-east-1:" + ACCOUNT + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
    aws = FakeAws({"list_secrets": listing(),
                   "create_secret": client_error("ResourceExistsException", "exists"),
                   "describe_secret": {"Name": "a", "ARN": ARN.format("a"), "KmsKeyId": key_arn, "Tags": [OWNER_TAG],
                                       "VersionIdsToStages": {"v9": ["AWSCURRENT"]}}},
                  kms={"describe_key": {"KeyMetadata": {"Arn": key_arn, "KeyManager": "CUSTOMER"}}})
    outcome = run_pipeline(make_params, aws, secrets=[{"name": "a", "kms_key_id": "alias/app"}])
    (entry,) = outcome.result["secrets"]
    assert entry["action"] == "unchanged" and entry["steps"] == [], "alias/app is the key in use, by ARN"
    assert sorted(params["KeyId"] for _operation, params in aws.by_service["kms"].made) == ["alias/app", key_arn]
    assert outcome.warnings == []

import collections
import json

import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_apply import apply_plans
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_all
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentValue

from .fakes import FakeCalls
from .fakes import rereads_for
from .fakes import state_of
from .fakes import client_error

ARN = "arn:aws:secretsmanager:us-east-1:1:secret:{0}-AbCdEf"


Applied = collections.namedtuple("Applied", "plans outcomes registered")


def apply(make_params, calls, current_by_name=None, **params):
    declaration = declare(make_params(**params))
    plans = plan_all(declaration, state_of(current_by_name))
    registered = set()
    outcomes = apply_plans(plans, calls, declaration.concurrency, declaration.fail_fast, registered.update,
                           rereads_for(calls, declaration))
    return Applied(plans, outcomes, registered)


def outcomes_of(make_params, calls, current_by_name=None, **params):
    return apply(make_params, calls, current_by_name, **params).outcomes


def test_create_sends_value_and_token_in_one_call(make_params):
    calls = FakeCalls({"create_secret": {"ARN": ARN.format("a"), "VersionId": "t"}})
    plans, outcomes, _registered = apply(make_params, calls,
                                         secrets=[{"name": "a", "value": "v", "tags": {"k": "1"}}])
    ((operation, params),) = calls.made
    assert operation == "create_secret"
    assert params["SecretString"] == "v" and params["ClientRequestToken"] == plans[0].value_token
    assert outcomes[0].arn == ARN.format("a") and outcomes[0].version_id == "t"


def test_generated_value_is_registered_for_masking(make_params):
    calls = FakeCalls({"get_random_password": {"RandomPassword": "G3nerated!"},
                       "create_secret": {"ARN": ARN.format("a"), "VersionId": "t"}})
    registered = apply(make_params, calls, names=["a"], generate={"json_key": "pw"}).registered
    assert calls.operations() == ["get_random_password", "create_secret"]
    assert "G3nerated!" in registered and '{"pw":"G3nerated!"}' in registered


def test_update_carries_metadata_and_value_together(make_params):
    existing = CurrentSecret(name="a", arn=ARN.format("a"), description="old", current_version_id=None)
    calls = FakeCalls({"update_secret": {"VersionId": "t2"}})
    outcomes = outcomes_of(make_params, calls, {"a": existing}, secrets=[{"name": "a", "value": "v",
                                                                          "description": "new"}])
    ((operation, params),) = calls.made
    assert operation == "update_secret" and params["Description"] == "new" and params["SecretString"] == "v"
    assert outcomes[0].version_id == "t2"


@pytest.mark.parametrize("described, action", [
    ({"Description": "d"}, "unchanged"),
    ({"OwningService": "rds"}, "skipped"),  # a service's secret after all: never written
])
def test_a_conflicting_create_is_replanned_from_the_described_secret(make_params, described, action):
    calls = FakeCalls({
        "create_secret": client_error("ResourceExistsException"),
        "describe_secret": dict({"Name": "a", "ARN": ARN.format("a"), "VersionIdsToStages": {"v9": ["AWSCURRENT"]}},
                                **described),
    })
    outcomes = outcomes_of(make_params, calls, secrets=[{"name": "a", "value": "v", "description": "d"}])
    assert calls.operations() == ["create_secret", "describe_secret"]
    assert outcomes[0].action == action and outcomes[0].arn == ARN.format("a") and not outcomes[0].wrote


def test_lost_answer_of_our_own_create_counts_as_created(make_params):
    sent = []

    def create(ClientRequestToken, **_):
        sent.append(ClientRequestToken)
        raise client_error("ResourceExistsException")

    calls = FakeCalls({
        "create_secret": create,
        "describe_secret": lambda **_: {"Name": "a", "ARN": ARN.format("a"),
                                        "VersionIdsToStages": {sent[0]: ["AWSCURRENT"]}},
    })
    outcomes = outcomes_of(make_params, calls, secrets=[{"name": "a", "value": "v"}])
    assert outcomes[0].action == "created" and outcomes[0].version_id == sent[0]


def test_one_failure_does_not_stop_the_others(make_params):
    def create(Name, **_):
        if Name == "b":
            raise client_error("AccessDeniedException", "denied")
        return {"ARN": ARN.format(Name)}

    calls = FakeCalls({"create_secret": create})
    outcomes = outcomes_of(make_params, calls, names=["a", "b", "c"])
    assert [outcome.action for outcome in outcomes.values()] == ["created", "failed", "created"]
    assert outcomes[1].error == {"code": "AccessDeniedException", "message": "denied", "step": "CreateSecret"}


def test_fail_fast_stops_starting_new_secrets(make_params):
    calls = FakeCalls({"create_secret": client_error("AccessDeniedException")})
    outcomes = outcomes_of(make_params, calls, names=["a", "b", "c"], fail_fast=True, concurrency=1)
    assert [outcome.error["code"] for outcome in outcomes.values()] == ["AccessDeniedException", "NotAttempted",
                                                                        "NotAttempted"]
    assert calls.operations() == ["create_secret"]


def test_tags_and_restore_calls(make_params):
    existing = CurrentSecret(name="a", arn=ARN.format("a"), tags={"old": "1"}, scheduled_for_deletion=True,
                             current_version_id="v1", version_ids=("v1",))
    calls = FakeCalls()
    apply(make_params, calls, {"a": existing}, names=["a"], tags={"new": "2"})
    assert calls.operations() == ["restore_secret", "tag_resource", "untag_resource"]
    assert calls.made[1][1]["Tags"] == [{"Key": "new", "Value": "2"}]
    assert calls.made[2][1]["TagKeys"] == ["old"]


def test_circuit_opens_after_a_run_of_transient_failures(make_params):
    calls = FakeCalls({"create_secret": client_error("ThrottlingException")})
    outcomes = outcomes_of(make_params, calls, names=["s{0}".format(index) for index in range(10)], concurrency=1)
    codes = [outcome.error["code"] for outcome in outcomes.values()]
    assert codes == ["ThrottlingException"] * 4 + ["NotAttempted"] * 6
    assert "4 secrets in a row" in list(outcomes.values())[-1].error["message"]
    assert calls.operations().count("create_secret") == 4


def test_circuit_ignores_errors_that_belong_to_one_secret(make_params):
    calls = FakeCalls({"create_secret": client_error("AccessDeniedException")})
    outcomes = outcomes_of(make_params, calls, names=["s{0}".format(index) for index in range(6)], concurrency=1)
    assert [outcome.error["code"] for outcome in outcomes.values()] == ["AccessDeniedException"] * 6


def test_repeated_delete_of_a_scheduled_secret_counts_as_done(make_params):
    existing = CurrentSecret(name="a", arn=ARN.format("a"))
    calls = FakeCalls({"delete_secret": client_error("InvalidRequestException", "marked for deletion"),
                       "describe_secret": {"Name": "a", "ARN": ARN.format("a"), "DeletedDate": "now"}})
    outcomes = outcomes_of(make_params, calls, {"a": existing}, names=["a"], state="absent")
    assert outcomes[0].action == "deleted" and outcomes[0].error is None


def test_delete_refused_for_another_reason_fails(make_params):
    existing = CurrentSecret(name="a", arn=ARN.format("a"))
    calls = FakeCalls({"delete_secret": client_error("InvalidRequestException", "has replicas"),
                       "describe_secret": {"Name": "a", "ARN": ARN.format("a")}})
    outcomes = outcomes_of(make_params, calls, {"a": existing}, names=["a"], state="absent")
    assert outcomes[0].action == "failed" and outcomes[0].error["code"] == "InvalidRequestException"


def test_reconcile_uses_the_one_describe_for_replicas_too(make_params):
    calls = FakeCalls({
        "create_secret": client_error("ResourceExistsException"),
        "describe_secret": {"Name": "a", "ARN": ARN.format("a")},
    })
    outcomes = outcomes_of(make_params, calls, names=["a"], replica_regions=[{"region": "eu-west-1"}])
    assert calls.operations() == ["create_secret", "describe_secret", "replicate_secret_to_regions"]
    assert outcomes[0].action == "updated"


def test_json_merge_writes_the_merged_object_and_adopt_tags(make_params):
    existing = CurrentSecret(name="a", arn=ARN.format("a"), current_version_id="v1", version_ids=("v1",))
    declaration = declare(make_params(adopt=True, secrets=[{"name": "a", "json_value": {"host": "h"},
                                                            "json_merge": True}]))
    stored = CurrentValue(string=json.dumps({"password": "CANARY-kept"}))
    plans = plan_all(declaration, state_of({"a": existing}, {existing.arn: stored}))
    calls = FakeCalls({"put_secret_value": {"VersionId": "v2"}})
    outcomes = apply_plans(plans, calls, 1, False, set().update, rereads_for(calls, declaration))
    sent = dict(calls.made)
    assert json.loads(sent["put_secret_value"]["SecretString"]) == {"host": "h", "password": "CANARY-kept"}
    assert sent["tag_resource"]["Tags"] == [{"Key": "envops:managed-by", "Value": "envops.aws_secrets"}]
    assert outcomes[0].action == "updated" and outcomes[0].version_id == "v2"


def test_a_failure_after_the_create_keeps_arn_version_and_step(make_params):
    calls = FakeCalls({"create_secret": {"ARN": ARN.format("a"), "VersionId": "v1"},
                       "put_resource_policy": client_error("AccessDeniedException", "denied")})
    outcome = outcomes_of(make_params, calls, secrets=[{"name": "a", "value": "v", "resource_policy": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "123456789012"},
                                                "Action": "*", "Resource": "*"}]}}])[0]
    assert outcome.action == "failed" and outcome.wrote is True
    assert outcome.arn == ARN.format("a") and outcome.version_id == "v1"
    assert outcome.error == {"code": "AccessDeniedException", "message": "denied", "step": "PutResourcePolicy"}
    assert outcome.done_steps == ["create_secret"]


def test_a_token_collision_says_another_run_changed_the_secret(make_params):
    existing = CurrentSecret(name="a", arn=ARN.format("a"))  # no value yet, so the value is written
    calls = FakeCalls({"put_secret_value": client_error(
        "ResourceExistsException", "You can't use ClientRequestToken x because that value is already in use")})
    outcome = outcomes_of(make_params, calls, {"a": existing}, secrets=[{"name": "a", "value": "v"}])[0]
    assert outcome.error["code"] == "ConcurrentModification"
    assert "another run changed this secret at the same time" in outcome.error["message"]
    assert "rerun" in outcome.error["message"] and "ClientRequestToken" not in outcome.error["message"]


def test_a_replica_that_fails_at_once_fails_the_secret_with_the_status_message(make_params):
    existing = CurrentSecret(name="a", arn=ARN.format("a"), replicas=())
    calls = FakeCalls({"replicate_secret_to_regions": {"ReplicationStatus": [
        {"Region": "eu-west-1", "Status": "Failed", "StatusMessage": "Secret name a already exists in eu-west-1."}]}})
    outcome = outcomes_of(make_params, calls, {"a": existing}, names=["a"], replica_regions=[{"region": "eu-west-1"}])[0]
    assert outcome.action == "failed" and outcome.wrote is True
    assert outcome.error["code"] == "ReplicationFailed" and outcome.error["step"] == "ReplicateSecretToRegions"
    assert "Secret name a already exists in eu-west-1." in outcome.error["message"]


def test_a_failed_replica_is_replaced_with_force_overwrite(make_params):
    failed = ({"region": "eu-west-1", "kms_key_id": None, "status": "Failed", "status_message": "exists"},)
    existing = CurrentSecret(name="a", arn=ARN.format("a"), replicas=failed)
    refused = apply(make_params, FakeCalls(), {"a": existing}, names=["a"], replica_regions=[{"region": "eu-west-1"}])
    assert refused.plans[0].action == "failed" and refused.plans[0].error["code"] == "ReplicationFailed"
    calls = FakeCalls({"replicate_secret_to_regions": {"ReplicationStatus": [
        {"Region": "eu-west-1", "Status": "InSync"}]}})
    outcomes_of(make_params, calls, {"a": existing}, names=["a"], replica_regions=[{"region": "eu-west-1"}],
                force_overwrite_replica=True)
    assert calls.operations() == ["remove_regions_from_replication", "replicate_secret_to_regions"]
    assert calls.made[1][1]["ForceOverwriteReplicaSecret"] is True

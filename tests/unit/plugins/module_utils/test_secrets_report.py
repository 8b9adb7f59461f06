from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_apply import Outcome
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_all
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_report import build_result
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_report import failure_message

from .fakes import state_of


def test_check_mode_result_comes_from_the_plan(make_params):
    plans = plan_all(declare(make_params(names=["a", "b"])), state_of({}))
    result = build_result(plans, {}, with_diff=True)
    assert result["changed"] is True
    assert result["summary"]["created"] == 2 and result["summary"]["total"] == 2
    assert result["arns"] == {}
    assert set(result["diff"]["before"]) == {"a", "b"}


def test_failures_are_named_with_their_codes(make_params):
    plans = plan_all(declare(make_params(names=["a", "b"])), state_of({}))
    outcomes = {0: Outcome(action="created", changes=[], arn="arn:a"),
                1: Outcome(action="failed", changes=[], error={"code": "AccessDeniedException", "message": "m"})}
    result = build_result(plans, outcomes, with_diff=False)
    assert "diff" not in result
    assert result["arns"] == {"a": "arn:a"}
    assert result["secrets"][1]["error"]["code"] == "AccessDeniedException"
    assert failure_message(result) == "Failed on 1 of 2 secrets: b (AccessDeniedException)"
    assert failure_message(build_result(plans, {}, with_diff=False)) is None


def test_env_name_collisions_warn_and_keep_the_first(make_params):
    plans = plan_all(declare(make_params(prefix="p/", names=["db-password", "db_password", "db/password"],
                                         secrets=[{"name": "other", "env_name": "OTHER_VAR"}])), state_of({}))
    outcomes = {index: Outcome(action="created", changes=[], arn="arn:" + plan.full_name)
                for index, plan in enumerate(plans)}
    warnings = []
    result = build_result(plans, outcomes, with_diff=False, prefix="p/", warn=warnings.append)
    assert result["lambda_environment"] == {"DB_PASSWORD": "arn:p/db-password", "OTHER_VAR": "arn:p/other"}
    assert [entry["name"] for entry in result["ecs_secrets"]] == ["DB_PASSWORD", "OTHER_VAR"]
    assert len(warnings) == 1
    assert "'p/db-password', 'p/db_password', 'p/db/password' all map to the environment variable DB_PASSWORD" in \
        warnings[0]


def test_arn_suffix_warning_only_for_secrets_being_created(make_params):
    from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret

    declaration = declare(make_params(names=["app-config", "db-master", "db-AbC123"]))
    warnings = []
    build_result(plan_all(declaration, state_of({})), {}, with_diff=False, warn=warnings.append)
    assert len(warnings) == 3 and warnings[2].startswith("names[2] ('db-AbC123'): the name ends with a hyphen")
    existing = {name: CurrentSecret(name=name, arn="arn:" + name) for name in ("app-config", "db-master", "db-AbC123")}
    warnings.clear()
    build_result(plan_all(declaration, state_of(existing)), {}, with_diff=False, warn=warnings.append)
    assert warnings == []


def test_a_create_that_failed_later_reports_what_was_written(make_params):
    declaration = declare(make_params(names=["a"], resource_policy={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "*", "Resource": "*"}]},
        rotation={"lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:rot",
                  "automatically_after_days": 7}))
    plans = plan_all(declaration, state_of({}))
    outcome = Outcome(action="failed", changes=list(plans[0].changes), arn="arn:a", version_id=None, wrote=True,
                      error={"code": "AccessDeniedException", "message": "m", "step": "RotateSecret"},
                      done_steps=["create_secret", "put_resource_policy"])
    result = build_result(plans, {0: outcome}, with_diff=False)
    entry = result["secrets"][0]
    assert entry["changed"] is True and entry["arn"] == "arn:a" and entry["action"] == "failed"
    assert entry["rotation_enabled"] is False and entry["policy_managed"] is True and entry["replicas"] == []
    assert result["arns"] == {"a": "arn:a"} and result["summary"]["failed"] == 1 and result["changed"] is True
    assert failure_message(result) == (
        "Failed on 1 of 1 secrets: a (AccessDeniedException at RotateSecret, after earlier changes were written)")

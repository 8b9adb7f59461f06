from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_apply import Outcome
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_all
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_report import build_result
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_report import failure_message


def test_check_mode_result_comes_from_the_plan(make_params):
    plans = plan_all(declare(make_params(names=["a", "b"])), {})
    result = build_result(plans, {}, with_diff=True)
    assert result["changed"] is True
    assert result["summary"]["created"] == 2 and result["summary"]["total"] == 2
    assert result["arns"] == {}
    assert set(result["diff"]["before"]) == {"a", "b"}


def test_failures_are_named_with_their_codes(make_params):
    plans = plan_all(declare(make_params(names=["a", "b"])), {})
    outcomes = {0: Outcome(action="created", changes=[], arn="arn:a"),
                1: Outcome(action="failed", changes=[], error={"code": "AccessDeniedException", "message": "m"})}
    result = build_result(plans, outcomes, with_diff=False)
    assert "diff" not in result
    assert result["arns"] == {"a": "arn:a"}
    assert result["secrets"][1]["error"]["code"] == "AccessDeniedException"
    assert failure_message(result) == "Failed on 1 of 2 secrets: b (AccessDeniedException)"
    assert failure_message(build_result(plans, {}, with_diff=False)) is None

"""The action plugin's sequence with its module calls faked: STS, caller identity, the module; check modes; no leak."""

import json
from unittest.mock import MagicMock

import pytest

from ansible_collections.envops.aws_secrets.plugins.action.environment_secrets_run import ActionModule

SECRET_KEY = "CanaryActionSecretKey-5e4d"
VALUE = "CanaryActionValue-9f8e"
STS_KEY = "CanaryAssumedSecretKey-1a2b"


class FakeTemplar:
    def template(self, value):
        return value


def action(check_mode=False, diff=False):
    task = MagicMock()
    task.args = {}
    task.check_mode, task.diff = check_mode, diff
    task.async_val = 0
    plugin = ActionModule(task=task, connection=MagicMock(), play_context=MagicMock(check_mode=check_mode),
                          loader=MagicMock(), templar=FakeTemplar(), shared_loader_obj=MagicMock())
    calls = []

    def execute_module(module_name, module_args, task_vars):
        calls.append((module_name, dict(module_args), plugin._task.check_mode, plugin._task.diff))
        if module_name == "amazon.aws.sts_assume_role":
            return {"changed": True, "sts_creds": {"access_key": "ASIA", "secret_key": STS_KEY,
                                                   "session_token": "t", "expiration": "x"}}
        if module_name == "amazon.aws.aws_caller_info":
            return {"account": plugin.account, "arn": "arn:aws:sts::{0}:assumed-role/r/s".format(plugin.account)}
        return {"changed": True, "summary": {"total": 1, "created": 1}, "secrets": [
            {"name": "env/db", "action": "created", "changed": True}],
            "invocation": {"module_args": module_args}}

    plugin._execute_module = execute_module
    plugin.account = "111122223333"
    return plugin, calls


TASK_VARS = {
    "environment_secrets_environment_info": {"name": "env", "region": "us-east-1", "account_id": "111122223333"},
    "environment_secrets_stack_job_settings": {"dry_run": True},
    "environment_secrets_aws_credential_id": "deployer",
    "environment_secrets_aws_credentials": {"deployer": {"access_key": "AKIA", "secret_key": SECRET_KEY,
                                                         "role_arn": "arn:aws:iam::111122223333:role/deployer"}},
    "environment_secrets_secrets": [{"name": "db", "value": VALUE}],
}


def test_dry_run_assumes_the_role_for_real_and_runs_the_module_in_check_mode():
    plugin, calls = action()
    result = plugin.run(task_vars=dict(TASK_VARS))
    assert [(name, check) for name, _args, check, _diff in calls] == [
        ("amazon.aws.sts_assume_role", False), ("amazon.aws.aws_caller_info", False),
        ("envops.aws_secrets.aws_secrets_manager_set", True)]
    assert calls[0][1]["secret_key"] == SECRET_KEY and calls[0][1]["role_session_name"] == "envops-env"
    assert calls[2][1]["secret_key"] == STS_KEY and calls[2][1]["secrets"] == [{"name": "db", "value": VALUE}]
    assert "invocation" not in result["result"]
    assert result["summary_lines"][1] == "Mode: apply (dry run: check mode, nothing written)"
    assert plugin._task.check_mode is False, "the task's own check mode is restored"
    text = json.dumps(result)
    assert SECRET_KEY not in text and VALUE not in text and STS_KEY not in text


def test_an_account_mismatch_runs_no_module_and_says_so():
    plugin, calls = action()
    plugin.account = "999999999999"
    result = plugin.run(task_vars=dict(TASK_VARS))
    assert [name for name, *_rest in calls] == ["amazon.aws.sts_assume_role", "amazon.aws.aws_caller_info"]
    assert result["failed"] and result["error"] == result["msg"]
    assert result["msg"].startswith("Environment env is in AWS account 111122223333, but credential 'deployer' "
                                    "resolves to account 999999999999")


@pytest.mark.parametrize("resolve_only", [True, False])
def test_bad_input_makes_no_module_call(resolve_only):
    plugin, calls = action()
    plugin._task.args = {"resolve_only": resolve_only}
    result = plugin.run(task_vars=dict(TASK_VARS, environment_secrets_secrets=[{"name": "db", "value": VALUE,
                                                                                "json_value": {}}]))
    assert calls == [] and result["failed"]
    assert "environment_secrets_secrets[0] ('db'): give at most one of" in result["msg"] and VALUE not in result["msg"]


def test_resolve_only_returns_the_context_and_calls_nothing():
    plugin, calls = action(check_mode=True)
    plugin._task.args = {"resolve_only": True}
    result = plugin.run(task_vars=dict(TASK_VARS))
    assert calls == [] and result["environment"]["check_mode"] is True
    assert result["environment"]["credential"] == "credential 'deployer'"


def test_an_unexpected_error_is_reported_by_its_type_only(monkeypatch):
    import ansible_collections.envops.aws_secrets.plugins.action.environment_secrets_run as plugin_module

    def broken(*_args, **_kwargs):
        raise KeyError(VALUE)

    monkeypatch.setattr(plugin_module, "resolve", broken)
    plugin, calls = action()
    result = plugin.run(task_vars=dict(TASK_VARS))
    assert calls == [] and result["problems"] == ["unexpected KeyError while reading the inputs"]
    assert VALUE not in json.dumps(result)

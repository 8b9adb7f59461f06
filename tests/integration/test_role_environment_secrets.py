"""envops.aws_secrets.environment_secrets and its playbooks, from the installed tarball, against moto.

The molecule scenarios (extensions/molecule) cover the role end to end; these tests pin the details that need the
counting proxy or the leak hunt of the harness: precedence of variables over environment variables, region
fallbacks, check mode and dry runs that write nothing, the drift report that reads no value, the account check, a
failed secret, bad input before any AWS call, and no secret or credential in the output even at -vvvv.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.support.aws_proxy import access_denied_for

MANAGE = "- ansible.builtin.import_playbook: envops.aws_secrets.manage_secrets\n"
DRIFT = "- ansible.builtin.import_playbook: envops.aws_secrets.report_drift\n"
RECORD = "Record the result"
SUMMARY = "Summarize the environment"


def role_result(run, host: str = "localhost") -> dict:
    """environment_secrets_result as the role set it (the module task itself is no_log)."""
    entries = [e for e in run.entries(RECORD) if e["host"] == host]
    assert entries, f"no {RECORD!r} for {host}; tasks: {run.task_names()}\n{run.stdout[-4000:]}"
    return entries[-1]["result"]["ansible_facts"]["environment_secrets_result"]


def summary(run, host: str = "localhost") -> list[str]:
    return [e for e in run.entries(SUMMARY) if e["host"] == host][-1]["result"]["msg"]


def names_in(sm, prefix: str = "") -> list[str]:
    names = []
    for page in sm.get_paginator("list_secrets").paginate(IncludePlannedDeletion=True):
        names += [s["Name"] for s in page["SecretList"] if s["Name"].startswith(prefix)]
    return sorted(names)


def tags_of(sm, name: str) -> dict:
    return {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=name).get("Tags", [])}


def test_environment_variables_drive_the_role_and_variables_win(playbook, aws_proxy, sm, tmp_path):
    inventory = tmp_path / "environments.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {
        # from the environment variables only
        "from_env": {},
        # explicit variables, given as JSON text and as a comma-separated string, win over them
        "explicit": {"environment_secrets_environment_info": '{"name": "explicit", "tags": {"owner": "vars"}}',
                     "environment_secrets_names": "one, two"},
    }}}))
    env = {"ENVIRONMENT_INFO": json.dumps({"name": "fromenv", "region": "us-east-1", "tags": {"owner": "env"}}),
           "STACK_JOB_SETTINGS": json.dumps({"concurrency": 2, "tags": {"job": "ci"}}),
           "SECRET_NAMES": json.dumps(["alpha", "beta"])}
    run = playbook(MANAGE, inventory=inventory, env=env,
                   extra_vars={"environment_secrets_hosts": "all"}).assert_ok()
    assert names_in(sm) == ["explicit/one", "explicit/two", "fromenv/alpha", "fromenv/beta"]
    assert tags_of(sm, "fromenv/alpha") == {"owner": "env", "job": "ci"}
    assert tags_of(sm, "explicit/two") == {"owner": "vars", "job": "ci"}
    assert role_result(run, "from_env")["summary"]["created"] == 2
    assert summary(run, "from_env")[0] == ("Environment fromenv: region us-east-1, prefix fromenv/, "
                                           "the default AWS credential chain")
    assert aws_proxy.counts()["ListSecrets"] == 2


def test_region_falls_back_to_aws_region_then_aws_default_region(playbook, sm_client):
    env = {"ENVIRONMENT_INFO": '{"name": "regional"}', "SECRET_NAMES": "one", "AWS_REGION": "eu-west-1",
           "AWS_DEFAULT_REGION": "us-east-1"}
    run = playbook(MANAGE, env=env).assert_ok()
    assert summary(run)[0].startswith("Environment regional: region eu-west-1,")
    assert names_in(sm_client("eu-west-1")) == ["regional/one"]

    run = playbook(MANAGE, env=dict(env, AWS_REGION=None, AWS_DEFAULT_REGION="eu-central-1")).assert_ok()
    assert summary(run)[0].startswith("Environment regional: region eu-central-1,")
    assert names_in(sm_client("eu-central-1")) == ["regional/one"]


def test_check_mode_and_dry_run_write_nothing(playbook, aws_proxy, sm):
    sm.create_secret(Name="dry/kept", SecretString="seed-value-1", Tags=[{"Key": "team", "Value": "old"}])
    variables = {"environment_secrets_environment_info": {"name": "dry", "region": "us-east-1",
                                                          "tags": {"team": "new"}},
                 "environment_secrets_names": ["kept", "added"]}

    checked = playbook(MANAGE, check=True, extra_vars=variables).assert_ok()
    assert aws_proxy.write_count() == 0
    assert role_result(checked)["summary"] | {"total": 0} == {
        "created": 1, "updated": 1, "unchanged": 0, "deleted": 0, "restored": 0, "absent": 0, "failed": 0, "total": 0}
    assert summary(checked)[1] == "Mode: apply (dry run: check mode, nothing written)"

    dry = playbook(MANAGE, diff=True, extra_vars=dict(
        variables, environment_secrets_stack_job_settings={"dry_run": True, "prune": True})).assert_ok()
    assert aws_proxy.write_count() == 0
    result = role_result(dry)
    assert result["summary"]["created"] == 1 and result["summary"]["updated"] == 1
    assert result["diff"]["after"]["dry/kept"]["tags"] == {"team": "new"}
    assert names_in(sm) == ["dry/kept"] and tags_of(sm, "dry/kept") == {"team": "old"}


def test_drift_report_reads_no_value_and_writes_nothing(playbook, aws_proxy, sm):
    sm.create_secret(Name="drift/declared", SecretString="v-1")
    sm.create_secret(Name="drift/stray", SecretString="v-2")
    variables = {"environment_secrets_environment_info": {"name": "drift", "region": "us-east-1"},
                 "environment_secrets_names": ["declared", "missing"],
                 "environment_secrets_drift_fail": True}
    run = playbook(DRIFT, extra_vars=variables)
    assert run.rc == 2
    assert run.result("Show the drift across environments")["msg"] == [
        "localhost (drift, drift/): DRIFT, missing: drift/missing; extra: drift/stray"]
    assert "Secret drift in: localhost" in run.stdout
    assert aws_proxy.write_count() == 0
    assert not {"GetSecretValue", "BatchGetSecretValue"} & set(aws_proxy.counts()), aws_proxy.counts()
    assert names_in(sm) == ["drift/declared", "drift/stray"]


def test_account_mismatch_fails_before_any_write(playbook, aws_proxy):
    variables = {"environment_secrets_environment_info": {"name": "acct", "region": "us-east-1",
                                                          "account_id": "999999999999"},
                 "environment_secrets_names": ["one"]}
    run = playbook(MANAGE, extra_vars=variables)
    assert run.rc == 2
    assert ("Environment acct is in AWS account 999999999999, but the default AWS credential chain resolves to "
            "account 123456789012") in run.stdout
    assert aws_proxy.write_count() == 0
    assert "ListSecrets" not in aws_proxy.counts()


def test_a_failed_secret_is_summarized_and_fails_the_play(playbook, aws_proxy, sm):
    aws_proxy.add_rule(access_denied_for("deny/locked"))
    variables = {"environment_secrets_environment_info": {"name": "deny", "region": "us-east-1"},
                 "environment_secrets_names": ["open", "locked", "other"]}
    run = playbook(MANAGE, extra_vars=variables)
    assert run.rc == 2
    lines = summary(run)
    assert lines[2].startswith("Secrets: 3 total; created: 2,") and lines[2].endswith("failed: 1")
    assert lines[4] == "Failed: deny/locked"
    assert run.result("Fail when any secret failed")["msg"].startswith(
        "Environment deny: Failed on 1 of 3 secrets: deny/locked (AccessDeniedException)")
    assert names_in(sm) == ["deny/open", "deny/other"]


def test_credentials_entry_with_role_arn_and_nothing_leaks_at_vvvv(playbook, aws_proxy, sm_client, moto_server):
    secret_key = "CanaryBaseSecretKey-0a9b8c7d6e"
    token = "CanaryBaseSessionToken-1f2e3d4c5b"
    value = "CanarySecretValue-5a6b7c8d9e"
    json_password = "CanaryJsonPassword-3c4d5e6f"
    variables = {
        "environment_secrets_environment_info": {"name": "assumed", "region": "us-east-1",
                                                 "account_id": "333344445555"},
        "environment_secrets_aws_credential_id": "deployer",
        "environment_secrets_aws_credentials": {
            "deployer": {"access_key": "AKIACANARYBASE000001", "secret_key": secret_key, "session_token": token,
                         "role_arn": "arn:aws:iam::333344445555:role/deployer", "external_id": "ext-1"},
            "unused": {"profile": "never-read"},
        },
        "environment_secrets_secrets": [{"name": "plain", "value": value},
                                        {"name": "json", "json_value": {"password": json_password}}],
        "environment_secrets_stack_job_settings": {"overwrite": True, "diff": True},
    }
    run = playbook(MANAGE, extra_vars=variables, verbosity=4, diff=True).assert_ok()
    run.assert_no_leak(secret_key, token, value, json_password)
    assert summary(run)[0] == ("Environment assumed: region us-east-1, prefix assumed/, credential 'deployer', "
                               "account 333344445555")
    assert aws_proxy.counts()["AssumeRole"] == 1
    assert all(arn.split(":")[4] == "333344445555" for arn in role_result(run)["arns"].values())
    # the secrets are in the role's account, with the declared values
    import boto3

    sts = boto3.client("sts", endpoint_url=moto_server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    creds = sts.assume_role(RoleArn="arn:aws:iam::333344445555:role/check", RoleSessionName="check")["Credentials"]
    sm = boto3.client("secretsmanager", endpoint_url=moto_server.url, region_name="us-east-1",
                      aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                      aws_session_token=creds["SessionToken"])
    assert names_in(sm) == ["assumed/json", "assumed/plain"]
    assert sm.get_secret_value(SecretId="assumed/plain")["SecretString"] == value
    assert names_in(sm_client()) == []


def test_an_aws_profile_as_credential_id(playbook, aws_proxy, tmp_path, moto_server):
    import boto3

    iam = boto3.client("iam", endpoint_url=moto_server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    iam.create_user(UserName="profile-user")
    key = iam.create_access_key(UserName="profile-user")["AccessKey"]
    (tmp_path / "credentials").write_text(f"[team-profile]\naws_access_key_id = {key['AccessKeyId']}\n"
                                          f"aws_secret_access_key = {key['SecretAccessKey']}\n")
    (tmp_path / "config").write_text("[profile team-profile]\nregion = us-east-1\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": tmp_path / "credentials", "AWS_CONFIG_FILE": tmp_path / "config",
           "ENVIRONMENT_INFO": '{"name": "profiled", "region": "us-east-1"}', "SECRET_NAMES": "one",
           "AWS_CREDENTIAL_ID": "team-profile"}
    run = playbook(MANAGE, env=env, verbosity=3).assert_ok()
    assert "AWS profile 'team-profile'" in summary(run)[0]
    run.assert_no_leak(key["SecretAccessKey"])

    missing = playbook(MANAGE, env=dict(env, AWS_CREDENTIAL_ID="no-such-profile"))
    assert missing.rc == 2
    assert "The config profile (no-such-profile) could not be found" in missing.stdout


BAD_INPUTS = [
    # JSON text is accepted in a variable too; malformed, the role's argument validation names the variable
    pytest.param({"environment_secrets_stack_job_settings": '{"dry_run": tru}'},
                 "argument 'environment_secrets_stack_job_settings' is of type str and we were unable to convert to "
                 "dict", id="json-string-var"),
    pytest.param({"environment_secrets_stack_job_settings": {"dry_run": True, "bogus": 1}},
                 "environment_secrets_stack_job_settings.bogus. Supported parameters include", id="unknown-setting"),
    pytest.param({"environment_secrets_aws_credential_id": "ops",
                  "environment_secrets_aws_credentials": {"ops": {"access_key": "AKIAEXAMPLE", "role_arn": "nope"}}},
                 "credential 'ops': access_key and secret_key must be given together; credential 'ops'.role_arn is "
                 "not an IAM role ARN", id="bad-credential"),
    pytest.param({"environment_secrets_aws_credentials": '{"ops": {"secret_key": "CanaryBadInput-77"'},
                 "argument 'environment_secrets_aws_credentials' is of type str and we were unable to convert to dict",
                 id="credentials-json"),
    pytest.param({"environment_secrets_secrets": [{"name": "x", "value": "CanaryBadInput-77", "json_value": {}}]},
                 "environment_secrets_secrets[0] (x) sets more than one of json_value, value", id="two-values"),
    pytest.param({"environment_secrets_names": ["ok", "ok"]}, "bad/ok: declared more than once", id="duplicate"),
]


@pytest.mark.parametrize(("variables", "message"), BAD_INPUTS)
def test_bad_variables_fail_before_any_aws_call(playbook, aws_proxy, variables, message):
    base = {"environment_secrets_environment_info": {"name": "bad", "region": "us-east-1"}}
    run = playbook(MANAGE, extra_vars={**base, **variables})
    assert run.rc == 2, run.stdout[-3000:]
    # ansible-core before 2.19 names the type as <class 'str'>.
    assert message in run.stdout.replace("<class 'str'>", "str"), run.stdout[-3000:]
    assert aws_proxy.calls() == []
    run.assert_no_leak("CanaryBadInput-77")

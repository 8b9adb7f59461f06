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
    owner = {"envops:managed-by": "envops.aws_secrets"}  # the ownership tag on every secret the module creates
    assert tags_of(sm, "fromenv/alpha") == dict(owner, owner="env", job="ci")
    assert tags_of(sm, "explicit/two") == dict(owner, owner="vars", job="ci")
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
        "created": 1, "updated": 1, "unchanged": 0, "deleted": 0, "restored": 0, "absent": 0, "failed": 0, "skipped": 0,
        "total": 0}
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
                 "environment_secrets_fail_on_drift": True}
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
    assert run.result("Fail when the environment failed")["msg"].startswith(
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
                 "environment_secrets_stack_job_settings has unknown key(s) bogus (allowed: dry_run, diff,",
                 id="unknown-setting"),
    pytest.param({"environment_secrets_aws_credential_id": "ops",
                  "environment_secrets_aws_credentials": {"ops": {"access_key": "AKIAEXAMPLE", "role_arn": "nope"}}},
                 "environment_secrets_aws_credentials.ops: access_key and secret_key must be given together; "
                 "environment_secrets_aws_credentials.ops.role_arn is not an IAM role ARN", id="bad-credential"),
    pytest.param({"environment_secrets_aws_credentials": '{"ops": {"secret_key": "CanaryBadInput-77"'},
                 "argument 'environment_secrets_aws_credentials' is of type str and we were unable to convert to dict",
                 id="credentials-json"),
    pytest.param({"environment_secrets_secrets": [{"name": "x", "value": "CanaryBadInput-77", "json_value": {}}]},
                 "environment_secrets_secrets[0] ('x'): give at most one of value, json_value, binary_value, generate; "
                 "got value, json_value", id="two-values"),
    pytest.param({"environment_secrets_names": ["ok", "ok"]},
                 "environment_secrets_names[1] ('ok'): duplicate of environment_secrets_names[0]; the full name "
                 "'bad/ok' is declared twice", id="duplicate"),
    pytest.param({"environment_secrets_names": ["ok"], "environment_secrets_stack_job_settings": {"kms_key_id": "k"}},
                 "environment_secrets_stack_job_settings has unknown key(s) kms_key_id (kms_key_id belongs in "
                 "ENVIRONMENT_INFO; allowed: dry_run,", id="option-in-the-wrong-document"),
    # A full match: Python's "$" alone would let a final newline through.
    pytest.param({"environment_secrets_names": ["db\n"]}, "environment_secrets_names[0] ('db",
                 id="trailing-newline"),
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


READER = "arn:aws:iam::123456789012:role/payments-app"


def readers_in(sm, name: str) -> list[str]:
    """The principals of the module's readers statement on a secret's resource policy."""
    text = sm.get_resource_policy(SecretId=name).get("ResourcePolicy")
    statements = json.loads(text)["Statement"] if text else []
    principals = [s["Principal"]["AWS"] for s in statements if s.get("Sid") == "EnvopsAwsSecretsReaders"]
    return [principals[0]] if isinstance(principals[0], str) else principals[0] if principals else []


def test_environment_info_alone_declares_kms_key_and_readers_for_every_secret(playbook, aws_proxy, sm, moto_server):
    import boto3

    key_id = boto3.client("kms", endpoint_url=moto_server.url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing").create_key()["KeyMetadata"]["KeyId"]
    value = "CanaryEnvironmentValue-8e7d6c"
    # As an AWX credential injects them: environment variables only; one secret with a value as an extra var.
    env = {"ENVIRONMENT_INFO": json.dumps({"name": "kmsenv", "region": "us-east-1", "kms_key_id": key_id,
                                           "readers": [READER], "tags": {"environment": "kmsenv"}}),
           "SECRET_NAMES": "api-key, session-key"}
    extra = {"environment_secrets_secrets": [{"name": "db", "value": value}]}
    first = playbook(MANAGE, env=env, extra_vars=extra).assert_ok()
    assert role_result(first)["summary"]["created"] == 3
    for name in ("kmsenv/api-key", "kmsenv/session-key", "kmsenv/db"):
        assert sm.describe_secret(SecretId=name)["KmsKeyId"].endswith(key_id), name
        assert readers_in(sm, name) == [READER], name
    assert summary(first)[0] == "Environment kmsenv: region us-east-1, prefix kmsenv/, the default AWS credential chain"

    aws_proxy.reset()
    again = playbook(MANAGE, env=env, extra_vars=extra).assert_ok()
    assert role_result(again)["changed"] is False
    assert summary(again)[3] == "Changed: none"
    assert aws_proxy.write_count() == 0
    assert "changed=0" in again.stdout
    for run in (first, again):
        run.assert_no_leak(value)


def test_per_secret_access_options_through_environment_secrets_secrets(playbook, aws_proxy, sm):
    first_value, second_value = "CanaryVersionOne-11aa", "CanaryVersionTwo-22bb"
    deny_delete = {"Sid": "DenyDelete", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:DeleteSecret",
                   "Resource": "*"}
    base = {"environment_secrets_environment_info": {"name": "peritem", "region": "us-east-1"}}
    secrets = [{"name": "shared", "readers": [READER]},
               {"name": "replicated", "replica_regions": [{"region": "eu-west-1"}]},
               {"name": "guarded", "resource_policy": {"Version": "2012-10-17", "Statement": [deny_delete]}},
               {"name": "versioned", "value": first_value}]
    playbook(MANAGE, extra_vars=dict(base, environment_secrets_secrets=secrets)).assert_ok()
    assert readers_in(sm, "peritem/shared") == [READER]
    assert [r["Region"] for r in sm.describe_secret(SecretId="peritem/replicated")["ReplicationStatus"]] == ["eu-west-1"]
    guarded = json.loads(sm.get_resource_policy(SecretId="peritem/guarded")["ResourcePolicy"])
    assert [statement["Sid"] for statement in guarded["Statement"]] == ["DenyDelete"]
    first_id = sm.get_secret_value(SecretId="peritem/versioned")["VersionId"]

    playbook(MANAGE, extra_vars=dict(base, environment_secrets_stack_job_settings={"overwrite": True},
                                     environment_secrets_secrets=[{"name": "versioned", "value": second_value}])
             ).assert_ok()
    rollback = [{"name": "versioned", "current_version_id": first_id}]
    rolled = playbook(MANAGE, extra_vars=dict(base, environment_secrets_secrets=rollback)).assert_ok()
    assert role_result(rolled)["secrets"][0]["changes"] == ["current_version_id"]
    # moto moves the labels but not its default version: read by label, as AWS defines AWSCURRENT.
    assert sm.get_secret_value(SecretId="peritem/versioned", VersionStage="AWSCURRENT")["SecretString"] == first_value
    aws_proxy.reset()
    again = playbook(MANAGE, extra_vars=dict(base, environment_secrets_secrets=secrets[:3] + rollback)).assert_ok()
    assert role_result(again)["changed"] is False and aws_proxy.write_count() == 0
    rolled.assert_no_leak(first_value, second_value)


def test_every_bad_input_at_once_is_one_message_and_no_aws_call_sts_included(playbook, aws_proxy):
    canary = "CanaryBadEverywhere-4d3c2b"
    env = {"ENVIRONMENT_INFO": json.dumps({"name": "many", "region": "us-east-1", "account_id": "111122223333",
                                           "readers": ["not-an-arn"], "colour": "blue"}),
           "STACK_JOB_SETTINGS": json.dumps({"concurrency": 100, "kms_key_id": "alias/x"}),
           "SECRET_NAMES": json.dumps(["a", "b", ""])}
    extra = {"environment_secrets_aws_credential_id": "ops",
             "environment_secrets_aws_credentials": {"ops": {"access_key": "AKIAEXAMPLE", "secret_key": canary,
                                                             "role_arn": "arn:aws:iam::111122223333:role/ops"}},
             "environment_secrets_secrets": [{"name": "fine", "value": canary},
                                             {"name": "bad one", "value": canary, "generate": {"length": 0}}]}
    run = playbook(MANAGE, env=env, extra_vars=extra)
    assert run.rc == 2
    (message,) = [e["result"]["msg"] for e in run.entries("Fail on bad input, naming every problem")]
    # In this order; the lists of allowed keys grow with the module's options, so only their start is pinned.
    expected = [
        "ENVIRONMENT_INFO has unknown key(s) colour (allowed: name, region, account_id, secret_prefix, description, ",
        "STACK_JOB_SETTINGS has unknown key(s) kms_key_id (kms_key_id belongs in ENVIRONMENT_INFO; allowed: dry_run, "
        "diff, ",
        "SECRET_NAMES[2] must be a non-empty string",
        "STACK_JOB_SETTINGS.concurrency: concurrency is 100; it must be 1 to 64",
        "ENVIRONMENT_INFO.readers: readers are not IAM role, user or account ARNs: 'not-an-arn'",
        "environment_secrets_secrets[1] ('bad one'): the name has characters Secrets Manager does not allow (' '); "
        "use letters, digits and /_+=.@-",
        "environment_secrets_secrets[1] ('bad one'): give at most one of value, json_value, binary_value, generate; "
        "got value, generate",
        "environment_secrets_secrets[1] ('bad one'): generate.length is 0; it must be 1 to 4096",
    ]
    assert message.startswith("Bad input for envops.aws_secrets.environment_secrets, environment many (8 problems): "
                              + expected[0]), message
    positions = [message.find(fragment) for fragment in expected]
    assert -1 not in positions and positions == sorted(positions), (positions, message)
    assert aws_proxy.calls() == [], "no AWS call at all, STS included"
    run.assert_no_leak(canary)


def test_vaulted_values_and_credentials_in_the_inventory(playbook, sm, tmp_path):
    import subprocess

    from tests.support.playbook import ansible_bin

    value = "CanaryVaultedValue-0f1e2d"
    password = tmp_path / "vault-password"
    password.write_text("vault-test-password\n")
    encrypted = subprocess.run([ansible_bin("ansible-vault"), "encrypt_string", "--vault-password-file",
                                str(password), value, "--name", "value"], check=True, capture_output=True,
                               text=True, env={"PATH": "/usr/bin:/bin", "ANSIBLE_NOCOLOR": "1"}).stdout
    # "value: !vault |" and its block, as keys of the item "- name: db"
    item_value = "".join("        " + line + "\n" for line in encrypted.strip().splitlines())
    inventory = tmp_path / "vaulted.yml"
    inventory.write_text(
        "all:\n  hosts:\n    localhost:\n      environment_secrets_environment_info: {name: vaulted, region: us-east-1}\n"
        "      environment_secrets_secrets:\n      - name: db\n" + item_value)
    run = playbook(MANAGE, inventory=inventory, verbosity=3,
                   extra_args=["--vault-password-file", str(password)]).assert_ok()
    assert sm.get_secret_value(SecretId="vaulted/db")["SecretString"] == value
    run.assert_no_leak(value)

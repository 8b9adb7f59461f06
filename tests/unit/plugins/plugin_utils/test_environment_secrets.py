"""Input resolution of the environment_secrets role: sources, precedence, parsing, checks and credentials.

The bad-input cases of the role, each in milliseconds; the integration tests run a few of them end to end.
"""

import json

import pytest

from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import InputError
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import account_problem
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import drift_failure
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import drift_lines
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import drift_of
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import resolve
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import summary_lines

CANARY = "CanaryUnitValue-6b5a4c3d"
ENV = {"ENVIRONMENT_INFO": json.dumps({"name": "staging", "region": "eu-west-1"}), "SECRET_NAMES": "a, b"}
ROLE_ARN = "arn:aws:iam::111122223333:role/deployer"


def problems_of(variables, environ=None):
    with pytest.raises(InputError) as error:
        resolve(variables, ENV if environ is None else environ)
    assert CANARY not in str(error.value)
    return error.value.problems


def test_environment_variables_alone_describe_the_environment():
    environ = {"ENVIRONMENT_INFO": json.dumps({"name": "prod", "kms_key_id": "alias/prod", "tags": {"a": "1"},
                                               "readers": [ROLE_ARN]}),
               "STACK_JOB_SETTINGS": json.dumps({"concurrency": 4, "tags": {"b": "2"}, "dry_run": True}),
               "SECRET_NAMES": '["one", "two"]', "AWS_REGION": "us-east-1"}
    environment = resolve({}, environ)
    assert environment.module_arguments() == {
        "prefix": "prod/", "names": ["one", "two"], "secrets": [], "kms_key_id": "alias/prod",
        "readers": [ROLE_ARN], "tags": {"a": "1", "b": "2"}, "concurrency": 4}
    assert environment.sources == {"tags": "ENVIRONMENT_INFO.tags + STACK_JOB_SETTINGS.tags",
                                   "kms_key_id": "ENVIRONMENT_INFO.kms_key_id", "readers": "ENVIRONMENT_INFO.readers",
                                   "concurrency": "STACK_JOB_SETTINGS.concurrency"}
    assert (environment.region, environment.dry_run, environment.check_mode) == ("us-east-1", True, True)


def test_a_variable_wins_over_its_environment_variable_and_tags_merge_over_every_source():
    variables = {"environment_secrets_environment_info": {"name": "explicit", "region": "eu-west-1",
                                                          "tags": {"a": "info", "b": "info"}},
                 "environment_secrets_stack_job_settings": '{"tags": {"b": "job", "c": "job"}}',
                 "environment_secrets_tags": {"c": "var"}, "environment_secrets_names": "x,y",
                 "environment_secrets_kms_key_id": "alias/var"}
    environ = dict(ENV, ENVIRONMENT_INFO=json.dumps({"name": "ignored", "kms_key_id": "alias/env"}))
    arguments = resolve(variables, environ).module_arguments()
    assert arguments["prefix"] == "explicit/" and arguments["names"] == ["x", "y"]
    assert arguments["tags"] == {"a": "info", "b": "job", "c": "var"}
    assert arguments["kms_key_id"] == "alias/var"


def test_empty_strings_are_unset_and_fall_back():
    environment = resolve({"environment_secrets_environment_info": "", "environment_secrets_aws_credentials": ""},
                          dict(ENV, STACK_JOB_SETTINGS="", AWS_CREDENTIAL_ID=" "))
    assert environment.name == "staging" and environment.credential.label == "the default AWS credential chain"


def test_secret_prefix_and_every_item_option_pass_through():
    item = {"name": "shared", "readers": [ROLE_ARN], "current_version_id": "v" * 32,
            "replica_regions": [{"region": "us-west-2"}], "resource_policy": {"Statement": [{"Effect": "Deny"}]}}
    environment = resolve({"environment_secrets_secrets": [item], "environment_secrets_names": []},
                          {"ENVIRONMENT_INFO": json.dumps({"name": "s", "region": "us-east-1",
                                                           "secret_prefix": "team/s/"})})
    assert environment.module_arguments()["secrets"] == [item]
    assert environment.module_arguments()["prefix"] == "team/s/"


def test_drift_mode_lists_declared_names_reads_no_value_and_runs_in_check_mode():
    variables = {"environment_secrets_mode": "drift", "environment_secrets_concurrency": 3,
                 "environment_secrets_secrets": [{"name": "kept", "value": CANARY}, {"name": "gone", "state": "absent"}]}
    environment = resolve(variables, ENV)
    assert environment.check_mode is True
    assert environment.module_arguments() == {"prefix": "staging/", "names": ["a", "b", "kept"], "prune": True,
                                              "overwrite": False, "concurrency": 3}


@pytest.mark.parametrize(("variables", "environ", "expected"), [
    pytest.param({}, {"ENVIRONMENT_INFO": '{"name": "bad", "password": "' + CANARY + '" ',
                      "STACK_JOB_SETTINGS": "{'dry_run': '" + CANARY + "'}", "SECRET_NAMES": '["' + CANARY + '", '},
                 ["ENVIRONMENT_INFO is not valid JSON: Expecting ',' delimiter: line 1 column",
                  "STACK_JOB_SETTINGS is not valid JSON: Expecting property name enclosed in double quotes",
                  "SECRET_NAMES is not valid JSON: Expecting value"], id="malformed-json-everywhere"),
    pytest.param({}, {"ENVIRONMENT_INFO": CANARY},
                 ["ENVIRONMENT_INFO is not valid JSON: Expecting value: line 1 column 1 (char 0)."], id="not-json"),
    pytest.param({}, {"ENVIRONMENT_INFO": '["' + CANARY + '"]'},
                 ["ENVIRONMENT_INFO must be a JSON object, not list"], id="not-an-object"),
    pytest.param({}, {}, ["the environment is not set: set environment_secrets_environment_info or ENVIRONMENT_INFO"],
                 id="no-environment"),
    pytest.param({}, {"ENVIRONMENT_INFO": '{"region": "us-east-1", "colour": "' + CANARY + '", "account_id": "12"}'},
                 ["ENVIRONMENT_INFO has unknown key(s) colour (allowed: name, region, account_id, secret_prefix,",
                  "ENVIRONMENT_INFO.name is required and must be a non-empty string",
                  "ENVIRONMENT_INFO.account_id must be 12 digits, as a string"], id="no-name"),
    pytest.param({}, {"ENVIRONMENT_INFO": '{"name": "x", "region": "us-east-1", "account_id": "12345"}',
                      "SECRET_NAMES": "a"},
                 ["ENVIRONMENT_INFO.account_id must be 12 digits, as a string"], id="account-id"),
    # Full matches: a final newline is not let through by "$".
    pytest.param({}, {"ENVIRONMENT_INFO": '{"name": "x", "region": "us-east-1", "account_id": "123456789012\\n"}',
                      "SECRET_NAMES": "a"},
                 ["ENVIRONMENT_INFO.account_id must be 12 digits, as a string"], id="account-id-newline"),
    pytest.param({"environment_secrets_aws_credential_id": "ops",
                  "environment_secrets_aws_credentials": {"ops": {"role_arn": "arn:aws:iam::123456789012:role/r\n"}}},
                 ENV, ["environment_secrets_aws_credentials.ops.role_arn is not an IAM role ARN"],
                 id="role-arn-newline"),
    pytest.param({}, dict(ENV, STACK_JOB_SETTINGS='{"dry_run": "maybe", "bogus": "' + CANARY + '", "concurrency": 100,'
                                                  ' "recovery_window": 3}'),
                 ["STACK_JOB_SETTINGS has unknown key(s) bogus (allowed: dry_run, diff,",
                  "STACK_JOB_SETTINGS: argument 'dry_run' is of type str and we were unable to convert to bool"],
                 id="job-settings-types"),
    pytest.param({}, {"ENVIRONMENT_INFO": '["x"]', "STACK_JOB_SETTINGS": '{"concurrency": 100}'},
                 ["ENVIRONMENT_INFO must be a JSON object, not list",
                  "STACK_JOB_SETTINGS.concurrency: concurrency is 100; it must be 1 to 64"],
                 id="options-checked-without-an-environment"),
    pytest.param({}, dict(ENV, STACK_JOB_SETTINGS='{"concurrency": 100, "recovery_window": 3}'),
                 ["STACK_JOB_SETTINGS.concurrency: concurrency is 100; it must be 1 to 64",
                  "STACK_JOB_SETTINGS.recovery_window: recovery_window is 3; it must be 0 (delete without recovery) "
                  "or 7 to 30 days"], id="job-settings-rules"),
    pytest.param({}, dict(ENV, STACK_JOB_SETTINGS='{"readers": []}'),
                 ["STACK_JOB_SETTINGS has unknown key(s) readers (readers belongs in ENVIRONMENT_INFO; allowed:"],
                 id="key-in-the-other-document"),
    pytest.param({}, dict(ENV, SECRET_NAMES='["a", "b", ""]'), ["SECRET_NAMES[2] must be a non-empty string"],
                 id="empty-name-index"),
    pytest.param({}, dict(ENV, SECRET_NAMES="good, bad name!"),
                 ["SECRET_NAMES[1] ('bad name!'): the name has characters Secrets Manager does not allow"],
                 id="bad-name"),
    pytest.param({"environment_secrets_names": ["ok", "ok"]}, ENV,
                 ["environment_secrets_names[1] ('ok'): duplicate of environment_secrets_names[0]; the full name "
                  "'staging/ok' is declared twice"], id="duplicate"),
    pytest.param({"environment_secrets_secrets": [{"name": "ok", "value": CANARY}, "text", {"value": CANARY},
                                                  {"name": "x", "valeu": CANARY}, {"name": " "}]}, ENV,
                 ["environment_secrets_secrets[1] must be a dict, not str",
                  "environment_secrets_secrets[2]: missing required arguments: name",
                  "environment_secrets_secrets[3] ('x') has unknown key(s) valeu (allowed: name,",
                  "environment_secrets_secrets[4] (' '): name must be a non-empty string"], id="items"),
    pytest.param({"environment_secrets_secrets": [{"name": "ok"}, {"name": "two", "value": CANARY,
                                                                   "json_value": {"k": CANARY}}]}, ENV,
                 ["environment_secrets_secrets[1] ('two'): give at most one of value, json_value, binary_value, "
                  "generate; got value, json_value"], id="two-values"),
    pytest.param({"environment_secrets_secrets": [{"name": "r", "readers": ["nope"], "recovery_window": 2}]}, ENV,
                 ["environment_secrets_secrets[0] ('r'): readers are not IAM role, user or account ARNs: 'nope'",
                  "environment_secrets_secrets[0] ('r'): recovery_window is 2"], id="item-rules"),
    pytest.param({}, dict(ENV, ENVIRONMENT_INFO='{"name": "x", "region": "r", "rotation": {"enabled": true}, '
                                                '"replica_regions": [{"region": "mars"}]}'),
                 ["ENVIRONMENT_INFO.rotation: rotation needs lambda_arn (or enabled: false to cancel rotation)",
                  "ENVIRONMENT_INFO.replica_regions: replica region 'mars' is not an AWS region name"],
                 id="environment-rules-named-by-key"),
    pytest.param({"environment_secrets_concurrency": "many", "environment_secrets_tags": {"aws:x": "1"}}, ENV,
                 ["argument 'environment_secrets_concurrency' is of type str and we were unable to convert to int",
                  "environment_secrets_tags: tags: tag key 'aws:x' uses the reserved prefix 'aws:'"],
                 id="option-variables"),
    pytest.param({"environment_secrets_mode": "sync"}, ENV,
                 ["value of environment_secrets_mode must be one of: apply, drift, got: sync"], id="mode"),
    pytest.param({"environment_secrets_mode": "drift"},
                 dict(ENV, ENVIRONMENT_INFO='{"name": "x", "region": "r", "secret_prefix": ""}'),
                 ["drift mode needs a secret_prefix"], id="drift-without-prefix"),
    pytest.param({}, {"ENVIRONMENT_INFO": '{"name": "x"}', "SECRET_NAMES": "a"},
                 ["No AWS region for environment x: set region in ENVIRONMENT_INFO, AWS_REGION or "
                  "AWS_DEFAULT_REGION."], id="no-region"),
    pytest.param({}, {"ENVIRONMENT_INFO": '{"name": "x", "region": "r"}'},
                 ["nothing is declared: give names or secrets (or prune with a prefix)"], id="nothing-declared"),
    pytest.param({"environment_secrets_aws_credential_id": "ops",
                  "environment_secrets_aws_credentials": {"ops": {"secret_key": CANARY, "password": CANARY}}}, ENV,
                 ["environment_secrets_aws_credentials.ops has unknown key(s) password (allowed: access_key,",
                  "environment_secrets_aws_credentials.ops: access_key and secret_key must be given together"],
                 id="credential-keys"),
    pytest.param({"environment_secrets_aws_credential_id": "ops",
                  "environment_secrets_aws_credentials": {"ops": {"access_key": "AKIA", "secret_key": CANARY,
                                                                  "profile": "p", "role_arn": "nope"}}}, ENV,
                 ["environment_secrets_aws_credentials.ops: give either profile or access_key/secret_key, not both",
                  "environment_secrets_aws_credentials.ops.role_arn is not an IAM role ARN"], id="credential-rules"),
    pytest.param({"environment_secrets_aws_credential_id": "ops",
                  "environment_secrets_aws_credentials": {"ops": {"external_id": "e", "session_token": CANARY}}}, ENV,
                 ["environment_secrets_aws_credentials.ops: session_token needs access_key and secret_key",
                  "environment_secrets_aws_credentials.ops: external_id needs role_arn"], id="credential-needs"),
    pytest.param({"environment_secrets_aws_credentials": '{"ops": {"secret_key": "' + CANARY + '"'}, ENV,
                 ["environment_secrets_aws_credentials is not valid JSON: Expecting ',' delimiter"],
                 id="credentials-json"),
    pytest.param({"environment_secrets_aws_credentials": ["ops"]}, ENV,
                 ["environment_secrets_aws_credentials must be a dict of credential id to credentials, not list"],
                 id="credentials-type"),
])
def test_bad_input_names_every_problem_with_its_source(variables, environ, expected):
    # ansible-core before 2.19 names the type as <class 'str'>.
    problems = [problem.replace("<class 'str'>", "str") for problem in problems_of(variables, environ)]
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)


def test_one_message_holds_every_problem_and_no_value():
    with pytest.raises(InputError) as error:
        resolve({"environment_secrets_secrets": [{"name": "a b", "value": CANARY}],
                 "environment_secrets_concurrency": 0},
                dict(ENV, SECRET_NAMES='["", "ok"]', STACK_JOB_SETTINGS='{"bogus": 1}'))
    message = str(error.value)
    assert message.startswith("Bad input for envops.aws_secrets.environment_secrets, environment staging "
                              "(4 problems): ")
    assert "SECRET_NAMES[0] must be a non-empty string" in message
    assert "environment_secrets_concurrency: concurrency is 0; it must be 1 to 64" in message
    assert "environment_secrets_secrets[0] ('a b')" in message and CANARY not in message


def test_a_named_credential_with_keys_and_a_role_to_assume():
    credentials = {"deployer": {"access_key": "AKIAX", "secret_key": CANARY, "role_arn": ROLE_ARN,
                                "external_id": "ext", "region": "us-west-2"}}
    environment = resolve({"environment_secrets_aws_credential_id": "deployer",
                           "environment_secrets_aws_credentials": json.dumps(credentials),
                           "environment_secrets_environment_info": {"name": "x"}, "environment_secrets_names": ["a"]},
                          {})
    credential = environment.credential
    assert credential.connection == {"access_key": "AKIAX", "secret_key": CANARY, "session_token": "", "profile": ""}
    assert (credential.role_arn, credential.external_id, environment.region) == (ROLE_ARN, "ext", "us-west-2")
    assert environment.role_session_name == "envops-x"
    assert CANARY not in repr(environment) and CANARY not in json.dumps(environment.context())


def test_a_profile_name_and_the_default_chain_with_awx_security_token():
    profile = resolve({"environment_secrets_aws_credential_id": "team"}, ENV).credential
    assert profile.label == "AWS profile 'team'"
    assert profile.connection == {"profile": "team", "access_key": "", "secret_key": "", "session_token": ""}
    chain = resolve({}, dict(ENV, AWS_ACCESS_KEY_ID="AKIA", AWS_SECURITY_TOKEN=CANARY)).credential
    assert chain.label == "the default AWS credential chain" and chain.connection == {"session_token": CANARY}
    assert resolve({}, dict(ENV, AWS_SECURITY_TOKEN=CANARY)).credential.connection == {}


def test_account_check_and_drift_report():
    environment = resolve({"environment_secrets_environment_info": {"name": "acct", "region": "r",
                                                                    "account_id": "999999999999"},
                           "environment_secrets_names": ["a"]}, {})
    assert account_problem(environment, {"account": "999999999999"}) is None
    assert account_problem(environment, {"account": "123456789012", "arn": "arn:aws:iam::123456789012:user/u"}) == (
        "Environment acct is in AWS account 999999999999, but the default AWS credential chain resolves to account "
        "123456789012 (arn:aws:iam::123456789012:user/u). Nothing was written.")
    result = {"secrets": [{"name": "acct/a", "action": "created"}, {"name": "acct/x", "action": "deleted"},
                          {"name": "acct/b", "action": "unchanged"},
                          {"name": "acct/tf", "action": "skipped", "ownership": "unowned"},
                          {"name": "acct/rds", "action": "skipped", "ownership": "service"}]}
    drift = drift_of(environment, result, None)
    assert (drift["missing"], drift["extra"]) == (["acct/a"], ["acct/x", "acct/tf"])
    assert (drift["not_owned"], drift["service_owned"]) == (["acct/tf"], ["acct/rds"])
    assert drift_lines(environment, drift) == [
        "Environment acct: region r, prefix acct/, the default AWS credential chain",
        "Missing (declared, not in AWS): acct/a", "Extra (in AWS under the prefix, not declared): acct/x, acct/tf",
        "Extra without the ownership tag (prune leaves them): acct/tf",
        "Owned by an AWS service (never changed): acct/rds"]
    assert drift_failure(environment, drift, deferred=False) is None


def test_fail_on_drift_is_deferred_to_the_playbook_when_asked():
    environment = resolve({"environment_secrets_fail_on_drift": True, "environment_secrets_mode": "drift"}, ENV)
    drift = drift_of(environment, {"secrets": [{"name": "staging/a", "action": "created"}]}, None)
    assert drift_failure(environment, drift, deferred=False) == "Environment staging has drifted: 1 missing, 0 extra."
    assert drift_failure(environment, drift, deferred=True) is None


def test_the_summary_is_one_screen():
    environment = resolve({"environment_secrets_stack_job_settings": {"dry_run": True}}, ENV)
    entries = [{"name": "staging/s{0}".format(index), "action": "created", "changed": True} for index in range(12)]
    result = {"summary": {"total": 13, "created": 12, "failed": 1},
              "secrets": entries + [{"name": "staging/bad", "action": "failed", "changed": False}]}
    assert summary_lines(environment, result, "Failed on 1 of 13 secrets") == [
        "Environment staging: region eu-west-1, prefix staging/, the default AWS credential chain",
        "Mode: apply (dry run: check mode, nothing written)",
        "Secrets: 13 total; created: 12, updated: 0, unchanged: 0, deleted: 0, restored: 0, absent: 0, skipped: 0, "
        "failed: 1",
        "Changed: " + ", ".join("staging/s{0}".format(index) for index in range(10)) + " and 2 more",
        "Failed: staging/bad",
        "Error: Failed on 1 of 13 secrets",
    ]


class AnsibleVaultEncryptedUnicode:
    """Stands in for ansible-core 2.17's inline-vault object: not a str, its text is the decrypted value."""

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


def test_inline_vaulted_values_become_plain_strings():
    from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import plain_data

    given = {"secrets": [{"name": "db", "value": AnsibleVaultEncryptedUnicode("CANARY-vault")}], "n": 1}
    assert plain_data(given) == {"secrets": [{"name": "db", "value": "CANARY-vault"}], "n": 1}

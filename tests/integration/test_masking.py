"""Value-free output by construction: ordinary JSON secrets never corrupt names, ARNs or counts.

ansible-core masks every leaf of a no_log option wherever it occurs in a result. With JSON values
such as RDS credentials (port 5432, replicas 1, the region, the account ID, the team's own name),
that used to turn ARNs into "arn:aws:secretsmanager:us-east-********" and counts into
VALUE_SPECIFIED_IN_NO_LOG_PARAMETER. These tests pin the exact output and hunt for the values.
"""

import json

import yaml

from tests.support.aws_proxy import error_response

MODULE = "envops.aws_secrets.aws_secrets_manager_set"
TASK = "Manage secrets"
ACCOUNT = "123456789012"
REGION = "us-east-1"
NO_LOG_MARKER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
PASSWORD = "CANARY-masking-Pa55word-91c2"
# ansible-core 2.21 reports a module's invocation only when asked; older cores always do.
SHOW_INVOCATION = {"ANSIBLE_INJECT_INVOCATION": "true"}


def play(args):
    return yaml.safe_dump([{"name": "Secrets", "hosts": "localhost", "gather_facts": False,
                            "tasks": [{"name": TASK, MODULE: args, "register": "managed"}]}], sort_keys=False)


def rds_shaped(index):
    # Every leaf an RDS secret usually has, plus the short ones that collide with output text.
    return {"engine": "postgres", "host": "payments-db.cluster-x.{0}.rds.amazonaws.com".format(REGION),
            "port": 5432, "username": "payments", "dbname": "payments", "password": "{0}-{1}".format(PASSWORD, index),
            "replicas": 1, "ssl": True, "region": REGION, "account": ACCOUNT, "created": 2}


def assert_exact_output(result, names, prefix, action):
    arns = result["arns"]
    assert sorted(arns) == sorted(prefix + name for name in names)
    for full_name, arn in arns.items():
        assert arn.startswith("arn:aws:secretsmanager:{0}:{1}:secret:{2}-".format(REGION, ACCOUNT, full_name)), arn
        assert "*" not in arn
    for entry in result["secrets"]:
        assert entry["arn"] == arns[entry["name"]]
        assert entry["action"] == action
    assert {item["valueFrom"] for item in result["ecs_secrets"]} == set(arns.values())
    assert sorted(item["name"] for item in result["ecs_secrets"]) == sorted(result["lambda_environment"])
    assert set(result["lambda_environment"].values()) == set(arns.values())
    for count in list(result["summary"].values()) + list(result["api_calls"].values()):
        assert isinstance(count, int) and not isinstance(count, bool), result["summary"]
    assert result["summary"]["total"] == len(names)


def test_rds_shaped_json_secrets_keep_names_arns_and_counts_exact(playbook, aws_proxy, sm):
    prefix = "staging/payments/"
    names = ["db", "db-replica", "1", "payments"]
    secrets = [{"name": name, "json_value": rds_shaped(index)} for index, name in enumerate(names)]
    created = playbook(play({"prefix": prefix, "secrets": secrets, "tags": {"team": "payments"}}),
                       diff=True, verbosity=4, env=SHOW_INVOCATION).assert_ok()
    result = created.result(TASK)
    assert_exact_output(result, names, prefix, "created")
    assert result["summary"]["created"] == 4
    assert result["api_calls"] == {"list_secrets": 1, "create_secret": 4}
    assert result["lambda_environment"].keys() == {"DB", "DB_REPLICA", "_1", "PAYMENTS"}
    # The invocation shows each value option as a marker, the rest exactly as given.
    shown = result["invocation"]["module_args"]
    assert shown["prefix"] == prefix
    assert [item["json_value"] for item in shown["secrets"]] == [NO_LOG_MARKER] * 4
    assert [item["name"] for item in shown["secrets"]] == names
    assert shown["tags"] == {"team": "payments"}
    assert "staging/payments/db" in created.stdout
    stored = json.loads(sm.get_secret_value(SecretId=prefix + "db")["SecretString"])
    assert stored == rds_shaped(0)
    created.assert_no_leak(*["{0}-{1}".format(PASSWORD, index) for index in range(4)],
                           json.dumps(rds_shaped(0), sort_keys=True, separators=(",", ":")))

    # The rerun with overwrite reads the values back and still reports exactly.
    aws_proxy.reset()
    again = playbook(play({"prefix": prefix, "secrets": secrets, "overwrite": True}), diff=True, verbosity=4)
    result = again.assert_ok().result(TASK)
    assert_exact_output(result, names, prefix, "unchanged")
    assert result["summary"]["unchanged"] == 4 and result["changed"] is False
    assert aws_proxy.write_count() == 0
    again.assert_no_leak(*["{0}-{1}".format(PASSWORD, index) for index in range(4)])


def test_readme_pattern_in_check_mode_is_exact_too(playbook, aws_proxy, sm):
    sm.create_secret(Name="staging/payments/db", SecretString=json.dumps({"username": "payments", "port": 5432}))
    args = {"prefix": "staging/payments/", "overwrite": True,
            "secrets": [{"name": "db", "json_value": {"username": "payments", "password": PASSWORD,
                                                      "port": 5432, "replicas": 1}}]}
    checked = playbook(play(args), check=True, diff=True, verbosity=4).assert_ok()
    result = checked.result(TASK)
    assert aws_proxy.write_count() == 0
    assert_exact_output(result, ["db"], "staging/payments/", "updated")
    assert result["diff"]["after"]["staging/payments/db"]["value"] == "(will change)"
    checked.assert_no_leak(PASSWORD)


class _EchoEverything:
    """A refusal whose message quotes the whole request body back: the value, its JSON and its leaves."""

    def on_request(self, service, op, body, call_index):
        if op == "CreateSecret":
            return error_response("ValidationException", "cannot store {0}".format(json.dumps(body)))
        return None


def test_an_echoed_json_value_is_masked_in_the_message_but_names_stay(playbook, aws_proxy):
    aws_proxy.add_rule(_EchoEverything())
    value = rds_shaped(7)
    run = playbook(play({"prefix": "echo/", "secrets": [{"name": "orders-db", "json_value": value}]}),
                   diff=True, verbosity=4)
    assert run.rc != 0
    result = run.result(TASK)
    assert result["msg"] == "Failed on 1 of 1 secrets: echo/orders-db (ValidationException)"
    message = result["secrets"][0]["error"]["message"]
    assert "********" in message
    assert "echo/orders-db" in message, "text around the values stays readable"
    run.assert_no_leak(value["password"], value["host"])


def test_credentials_given_as_options_never_show(playbook):
    key = "CANARY-secret-key-0123456789abcdefghijklmnop"
    run = playbook(play({"aws_access_key": "AKIAIOSFODNN7EXAMPLE", "aws_secret_key": key,
                         "names": ["cred/one"]}), diff=True, verbosity=4, env=SHOW_INVOCATION).assert_ok()
    shown = run.result(TASK)["invocation"]["module_args"]
    assert shown["aws_secret_key"] == shown["secret_key"] == NO_LOG_MARKER
    assert run.result(TASK)["arns"]["cred/one"].startswith("arn:aws:secretsmanager:")
    run.assert_no_leak(key)


def test_the_roles_summary_stays_exact_with_rds_shaped_json(playbook, tmp_path):
    """The README pattern through the role: environment payments, its own name a leaf of every value."""
    inventory = tmp_path / "environments.yml"
    values = [dict(rds_shaped(index), username="payments") for index in range(3)]
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"payments": {
        "environment_secrets_environment_info": {"name": "payments", "region": REGION,
                                                 "secret_prefix": "staging/payments/"},
        "environment_secrets_secrets": [{"name": name, "json_value": value}
                                        for name, value in zip(["db", "1", "payments"], values)],
    }}}}))
    run = playbook("- ansible.builtin.import_playbook: envops.aws_secrets.manage_secrets\n", inventory=inventory,
                   extra_vars={"environment_secrets_hosts": "all"}, verbosity=4).assert_ok()
    lines = run.entries("Summarize the environment")[-1]["result"]["msg"]
    assert lines[0] == ("Environment payments: region {0}, prefix staging/payments/, the default AWS credential "
                        "chain".format(REGION))
    assert "Secrets: 3 total; created: 3," in lines[2]
    assert lines[3] == "Changed: staging/payments/db, staging/payments/1, staging/payments/payments"
    run.assert_no_leak(*[value["password"] for value in values])

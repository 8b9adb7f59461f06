"""aws_secrets_manager_info against moto through the installed tarball: selection, details, no values."""

import pytest

from tests.integration.test_set_module import play
from tests.support.aws_proxy import WRITE_OPERATIONS

INFO = "envops.aws_secrets.aws_secrets_manager_info"
TASK = "Manage secrets"


def arrange(sm):
    sm.create_secret(Name="inf/a", SecretString="CANARY-info-a", Description="first",
                     Tags=[{"Key": "team", "Value": "payments"}, {"Key": "env", "Value": "staging"}])
    sm.put_secret_value(SecretId="inf/a", SecretString="CANARY-info-a2")
    sm.create_secret(Name="inf/b", SecretString="CANARY-info-b", Tags=[{"Key": "team", "Value": "search"}])
    sm.create_secret(Name="inf/gone", Tags=[{"Key": "team", "Value": "payments"}])
    sm.delete_secret(SecretId="inf/gone", RecoveryWindowInDays=7)
    sm.create_secret(Name="other/c", Tags=[{"Key": "team", "Value": "payments"}])
    sm.put_resource_policy(SecretId="inf/a", ResourcePolicy='{"Version": "2012-10-17", "Statement": []}')


def test_prefix_lists_everything_below_it_with_details_and_no_value(playbook, aws_proxy, sm):
    arrange(sm)
    run = playbook(play({"prefix": "inf/", "include_versions": True, "include_policy": True,
                         "include_replicas": True}, module=INFO),
                   check=True, verbosity=4).assert_ok()
    result = run.result(TASK)
    by_name = {secret["name"]: secret for secret in result["secrets"]}
    assert sorted(by_name) == ["inf/a", "inf/b", "inf/gone"]
    first = by_name["inf/a"]
    assert first["description"] == "first" and first["tags"] == {"team": "payments", "env": "staging"}
    assert [sorted(version["stages"]) for version in first["versions"]] == [["AWSPREVIOUS"], ["AWSCURRENT"]]
    assert first["resource_policy"] == {"Version": "2012-10-17", "Statement": []}
    assert first["rotation"]["enabled"] is False and first["replicas"] == []
    assert by_name["inf/gone"]["scheduled_for_deletion"] and by_name["inf/gone"]["deleted_date"]
    assert result["arns"]["inf/b"].startswith("arn:aws:secretsmanager:")
    assert aws_proxy.counts()["ListSecrets"] == 1
    assert not {"GetSecretValue", "BatchGetSecretValue"} & set(aws_proxy.counts())
    assert not WRITE_OPERATIONS & set(aws_proxy.counts())
    run.assert_no_leak("CANARY-info-a", "CANARY-info-a2", "CANARY-info-b")


def test_names_and_tags_select_exactly(playbook, aws_proxy, sm):
    arrange(sm)
    named = playbook(play({"prefix": "inf/", "names": ["a", "missing"], "include_replicas": False},
                          module=INFO)).assert_ok()
    assert [secret["name"] for secret in named.result(TASK)["secrets"]] == ["inf/a"]
    assert "DescribeSecret" not in aws_proxy.counts()
    tagged = playbook(play({"tags": {"team": "payments"}}, module=INFO)).assert_ok()
    assert [secret["name"] for secret in tagged.result(TASK)["secrets"]] == ["inf/a", "inf/gone", "other/c"]
    both = playbook(play({"prefix": "inf/", "tags": {"team": "payments", "env": "staging"}}, module=INFO))
    assert [secret["name"] for secret in both.assert_ok().result(TASK)["secrets"]] == ["inf/a"]


@pytest.mark.parametrize("args, fragment", [
    ({"names": ["bad name"]}, "names[0] ('bad name')"),
    ({"prefix": "bad prefix"}, "prefix 'bad prefix'"),
    ({"concurrency": 0}, "concurrency is 0"),
    ({"tags": {"aws:x": "1"}}, "reserved prefix"),
    ({"include_versions": "maybe"}, "include_versions"),
])
def test_info_bad_input_fails_before_any_call(playbook, aws_proxy, args, fragment):
    run = playbook(play(args, module=INFO))
    assert run.rc != 0 and fragment in run.result(TASK)["msg"]
    assert aws_proxy.calls() == []

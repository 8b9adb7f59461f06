import json

import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils import _secrets_policy as policy

DENY = {"Sid": "Deny", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:DeleteSecret", "Resource": "*"}


@pytest.mark.parametrize("given, expected", [(None, None), ("", policy.REMOVE_POLICY), ({}, policy.REMOVE_POLICY),
                                             ("  ", policy.REMOVE_POLICY)])
def test_parse_policy_unset_and_removal(given, expected):
    assert policy.parse_policy(given) == expected


def test_parse_policy_accepts_json_text_and_refuses_garbage():
    assert policy.parse_policy(json.dumps({"Statement": [DENY]})) == {"Statement": [DENY]}
    for bad in ("{not json", "[1, 2]", {"Version": "2012-10-17"}):
        with pytest.raises(policy.PolicyError):
            policy.parse_policy(bad)


def test_render_readers_alone_and_combined():
    rendered = policy.render_policy(None, ["123456789012", "arn:aws:iam::123456789012:role/a"])
    (statement,) = rendered["Statement"]
    assert statement["Principal"]["AWS"] == ["arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:root"]
    combined = policy.render_policy({"Statement": DENY}, ["arn:aws:iam::123456789012:user/ops/bob"])
    assert [statement["Sid"] for statement in combined["Statement"]] == ["Deny", policy.READERS_SID]
    assert policy.render_policy(policy.REMOVE_POLICY, []) == policy.REMOVE_POLICY
    assert policy.render_policy(None, None) is None


def test_readers_statement_replaces_an_earlier_one():
    earlier = policy.render_policy(None, ["arn:aws:iam::123456789012:role/old"])
    again = policy.render_policy(earlier, ["arn:aws:iam::123456789012:role/new"])
    assert [statement["Principal"]["AWS"] for statement in again["Statement"]] == [
        ["arn:aws:iam::123456789012:role/new"]]


@pytest.mark.parametrize("arn, ok", [
    ("arn:aws:iam::123456789012:role/app", True),
    ("arn:aws:iam::123456789012:role/path/to/app", True),
    ("arn:aws-us-gov:iam::123456789012:user/bob", True),
    ("arn:aws:iam::123456789012:root", True),
    ("123456789012", True),
    ("arn:aws:iam::12345:role/app", False),
    ("arn:aws:iam::123456789012:group/ops", False),
    ("arn:aws:sts::123456789012:assumed-role/app/session", False),
    ("*", False),
])
def test_reader_arns(arn, ok):
    assert (policy.bad_reader_arns([arn]) == []) is ok


def test_policies_differ_normalises():
    current = {"Version": "2012-10-17", "Statement": [dict(DENY, Action=["secretsmanager:DeleteSecret"])]}
    assert not policy.policies_differ(current, {"Version": "2012-10-17", "Statement": [DENY]})
    assert policy.policies_differ(current, {"Version": "2012-10-17", "Statement": [dict(DENY, Effect="Allow")]})
    assert policy.policies_differ(current, policy.REMOVE_POLICY)
    assert not policy.policies_differ(None, policy.REMOVE_POLICY)
    assert not policy.policies_differ(current, None)

"""examples/plan_review/review_then_apply.yml against moto: check mode's steps gate the real run, which makes them."""

import pathlib

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "plan_review" / "review_then_apply.yml"
LEGACY = "staging/orders/legacy-token"
OWNER_TAG = {"Key": "envops:managed-by", "Value": "envops.aws_secrets"}


def test_the_reviewed_plan_is_the_one_applied(playbook, aws_proxy, sm):
    first = playbook(str(EXAMPLE), verbosity=4).assert_ok()
    assert aws_proxy.counts().get("CreateSecret") == 2
    assert '"msg": "staging/orders/api-token: CreateSecret"' in first.stdout
    names = sorted(entry["Name"] for entry in sm.list_secrets()["SecretList"])
    assert names == ["staging/orders/api-token", "staging/orders/smtp-password"]
    for name in names:
        first.assert_no_leak(sm.get_secret_value(SecretId=name)["SecretString"])

    aws_proxy.reset()
    again = playbook(str(EXAMPLE)).assert_ok()
    assert aws_proxy.write_count() == 0 and "changed=0" in again.stdout
    assert '"msg": "staging/orders/smtp-password: no write"' in again.stdout


def test_a_prune_nobody_reviewed_is_refused_before_any_write(playbook, aws_proxy, sm):
    sm.create_secret(Name=LEGACY, SecretString="CANARY-legacy-token-3b7e", Tags=[OWNER_TAG])
    aws_proxy.reset()
    refused = playbook(str(EXAMPLE))
    assert refused.rc != 0
    assert "Not applied: {0} would call DeleteSecret.".format(LEGACY) in refused.stdout
    assert aws_proxy.write_count() == 0, "check mode and the refused gate write nothing"
    refused.assert_no_leak("CANARY-legacy-token-3b7e")

    allowed = playbook(str(EXAMPLE), extra_vars={"review_allowed": [LEGACY]}).assert_ok()
    assert "DeletedDate" in sm.describe_secret(SecretId=LEGACY)
    allowed.assert_no_leak("CANARY-legacy-token-3b7e")

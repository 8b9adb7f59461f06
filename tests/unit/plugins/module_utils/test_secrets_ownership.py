"""Ownership: the prefix boundary, the ownership tag, prune of owned secrets only, adoption, service-owned secrets."""

import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import DeclarationError
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import detail_requests
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_all
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import values_to_read
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_report import build_result
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import current_secret_from_api

from .fakes import step_params
from .fakes import tags_removed
from .fakes import tags_set
from .fakes import state_of

OWNER = {"envops:managed-by": "envops.aws_secrets"}
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:{0}-AbCdEf"


def current(name, **attributes):
    attributes.setdefault("current_version_id", "v1")
    attributes.setdefault("version_ids", ("v1",))
    return CurrentSecret(name=name, arn=ARN.format(name), **attributes)


@pytest.mark.parametrize("prefix", ["staging/pay", "staging"])
def test_prune_with_a_prefix_not_ending_in_a_slash_is_refused_saying_what_to_write(make_params, prefix):
    with pytest.raises(DeclarationError) as refused:
        declare(make_params(prefix=prefix, names=["db"], prune=True))
    message = str(refused.value)
    assert "prune needs a prefix that ends in '/'" in message and "prefix: {0!r}".format(prefix + "/") in message


def test_a_prefix_without_a_slash_is_fine_without_prune(make_params):
    assert declare(make_params(prefix="staging-", names=["db"])).prefix == "staging-"


def test_prune_deletes_only_owned_undeclared_secrets_and_reports_the_others(make_params):
    declaration = declare(make_params(prefix="p/", names=["keep"], prune=True, recovery_window=7))
    current_by_name = {
        "p/keep": current("p/keep"),
        "p/owned": current("p/owned", tags=dict(OWNER)),
        "p/terraform": current("p/terraform", tags={"managed-by": "terraform"}),
        "p/rds": current("p/rds", tags=dict(OWNER), owning_service="rds"),
        "p/other-value": current("p/other-value", tags={"envops:managed-by": "someone-else"}),
    }
    plans = plan_all(declaration, state_of(current_by_name))
    assert [(plan.full_name, plan.action, plan.ownership) for plan in plans] == [
        ("p/keep", "unchanged", "unowned"),
        ("p/other-value", "skipped", "unowned"),
        ("p/owned", "deleted", "owned"),
        ("p/rds", "skipped", "service"),
        ("p/terraform", "skipped", "unowned"),
    ]
    assert [plan.full_name for plan in plans if plan.has_writes] == ["p/owned"]
    # Only the secret prune deletes needs its replicas read; the others are not read at all.
    assert set(detail_requests(declaration, current_by_name)) == {"p/owned"}
    result = build_result(plans, {}, with_diff=True, prefix="p/")
    assert set(result["arns"]) == {"p/keep"}, "secrets left alone by prune are not wired"
    assert result["summary"]["skipped"] == 3 and result["summary"]["deleted"] == 1
    assert {entry["name"]: entry["ownership"] for entry in result["secrets"]}["p/rds"] == "service"
    assert set(result["diff"]["after"]) == {"p/owned"}


def test_prune_stays_under_the_path(make_params):
    declaration = declare(make_params(prefix="staging/pay/", names=["db"], prune=True))
    listed = {"staging/payments/x": current("staging/payments/x", tags=dict(OWNER)),
              "staging/pay/old": current("staging/pay/old", tags=dict(OWNER))}
    plans = plan_all(declaration, state_of(listed))
    assert [plan.full_name for plan in plans if plan.action == "deleted"] == ["staging/pay/old"]


def test_declared_secrets_are_managed_with_or_without_the_tag(make_params):
    existing = current("a", tags={"team": "old"})
    (plan,) = plan_all(declare(make_params(names=["a"], tags={"team": "new"})), state_of({"a": existing}))
    assert plan.action == "updated" and tags_set(plan) == {"team": "new"} and plan.ownership == "unowned"
    (absent,) = plan_all(declare(make_params(names=["a"], state="absent")), state_of({"a": existing}))
    assert absent.action == "deleted", "a declared absent secret is deleted, owned or not"


def test_purge_tags_never_removes_the_ownership_tag(make_params):
    existing = current("a", tags=dict(OWNER, team="old", stale="x"))
    (plan,) = plan_all(declare(make_params(names=["a"], tags={"team": "old"})), state_of({"a": existing}))
    assert tags_removed(plan) == ["stale"] and tags_set(plan) == {}
    assert plan.after["tags"] == dict(OWNER, team="old") and plan.changes == ("tags",)


def test_adopt_adds_the_tag_to_declared_secrets_that_lack_it_and_only_those(make_params):
    (plan,) = plan_all(declare(make_params(names=["a"], adopt=True)), state_of({"a": current("a", tags={"team": "x"})}))
    assert plan.action == "updated" and plan.changes == ("ownership",)
    assert tags_set(plan) == OWNER and tags_removed(plan) == [] and plan.ownership == "owned"
    assert plan.before["ownership"] == "unowned" and plan.after["ownership"] == "owned"
    assert "tags" not in plan.after, "tags are not managed here, only the ownership tag is added"
    (owned,) = plan_all(declare(make_params(names=["a"], adopt=True)), state_of({"a": current("a", tags=dict(OWNER))}))
    assert owned.action == "unchanged" and not owned.has_writes
    (with_tags,) = plan_all(declare(make_params(secrets=[{"name": "a", "adopt": True, "tags": {"t": "1"}}])),
                            state_of({"a": current("a")}))
    assert tags_set(with_tags) == dict(OWNER, t="1") and with_tags.changes == ("tags", "ownership")
    (created,) = plan_all(declare(make_params(names=["a"], adopt=True)), state_of({}))
    assert created.changes == ()
    assert {"Key": "envops:managed-by", "Value": "envops.aws_secrets"} in step_params(created, "create_secret")["Tags"]


def test_the_ownership_tag_key_cannot_be_declared(make_params):
    with pytest.raises(DeclarationError) as refused:
        declare(make_params(names=["a"], tags={"envops:managed-by": "me"}))
    assert "ownership tag" in str(refused.value) and "adopt" in str(refused.value)


def test_fifty_tags_plus_the_ownership_tag_are_refused_before_any_call(make_params):
    tags = {"t{0}".format(index): "v" for index in range(50)}
    with pytest.raises(DeclarationError) as refused:
        declare(make_params(secrets=[{"name": "many", "tags": tags}]))
    assert "secrets[0] ('many'): 50 tags once merged, plus the ownership tag" in str(refused.value)


def test_too_many_tags_after_merging_with_current_ones_fail_that_secret(make_params):
    existing = current("a", tags={"old{0}".format(index): "v" for index in range(40)})
    declaration = declare(make_params(names=["a"], purge_tags=False, tags={"new{0}".format(i): "v" for i in range(11)}))
    (plan,) = plan_all(declaration, state_of({"a": existing}))
    assert plan.action == "failed" and plan.error["code"] == "TooManyTags" and not plan.has_writes


def test_service_owned_secrets_are_never_changed(make_params):
    service = current("svc-db-1", owning_service="rds", tags={"aws:secretsmanager:owningService": "rds"})
    declaration = declare(make_params(secrets=[{"name": "svc-db-1", "value": "x", "overwrite": True,
                                                "tags": {"team": "db"}, "adopt": True}]))
    assert values_to_read(declaration, {"svc-db-1": service}) == []
    assert detail_requests(declaration, {"svc-db-1": service}) == {}
    (plan,) = plan_all(declaration, state_of({"svc-db-1": service}))
    assert plan.action == "skipped" and plan.ownership == "service" and not plan.has_writes
    (untouched,) = plan_all(declare(make_params(names=["svc-db-1"])), state_of({"svc-db-1": service}))
    assert untouched.action == "unchanged" and untouched.ownership == "service"
    (absent,) = plan_all(declare(make_params(names=["svc-db-1"], state="absent")), state_of({"svc-db-1": service}))
    assert absent.action == "skipped" and absent.step("delete_secret") is None
    result = build_result([plan], {}, with_diff=False)
    assert result["arns"] == {"svc-db-1": service.arn}, "a declared service-owned secret is still wired"


def test_owning_service_is_read_from_the_listing():
    entry = {"Name": "rds!db", "ARN": ARN.format("rds!db"), "OwningService": "rds"}
    assert current_secret_from_api(entry).owning_service == "rds"
    assert current_secret_from_api({"Name": "a", "ARN": ARN.format("a")}).owning_service is None

"""The set module under injected faults, real-AWS lag and parallel jobs, against moto behind the proxy.

moto never throttles and is strongly consistent; the proxy imitates what real AWS does instead.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.test_set_module import TASK
from tests.integration.test_set_module import names_in_moto
from tests.integration.test_set_module import play
from tests.integration.test_set_module import version_count
from tests.support.aws_proxy import FAULT_KINDS
from tests.support.aws_proxy import WRITE_OPERATIONS
from tests.support.aws_proxy import access_denied_for
from tests.support.aws_proxy import eventual_consistency_hide_new
from tests.support.aws_proxy import scheduled_for_deletion
from tests.support.aws_proxy import secret_matches

# Longest a write can spend retrying: botocore's standard mode makes at most 8 attempts and sleeps at
# most 1 + 2 + 4 + 8 + 16 + 20 + 20 s between them (docs/reliability.md). A secret with a generated value makes two
# writes (GetRandomPassword, CreateSecret), and the circuit breaker lets at most two waves of secrets
# run before it stops starting new ones, whatever the number of secrets.
LONGEST_WRITE_SECONDS = 1 + 2 + 4 + 8 + 16 + 20 + 20
OUTAGE_BOUND_SECONDS = 2 * 2 * LONGEST_WRITE_SECONDS + 20  # + ansible-playbook start-up and the listing


def environment(prefix, count, canary_stem):
    """Half names with generated values, half secrets with given values."""
    half = count // 2
    return {
        "prefix": prefix,
        "tags": {"suite": "faults"},
        "generate": {"length": 24},
        "names": ["gen-{0:03d}".format(index) for index in range(half)],
        "secrets": [{"name": "val-{0:03d}".format(index), "value": "{0}-{1:03d}".format(canary_stem, index)}
                    for index in range(count - half)],
    }


def test_hundred_secrets_survive_ten_runs_at_twenty_percent_faults(playbook, aws_proxy, sm):
    args = dict(environment("flt/", 100, "CANARY-fault"), overwrite=True)
    aws_proxy.set_faults(rate=0.2, seed=20261129, kinds=FAULT_KINDS, latency=(0.0, 0.01))
    runs = [playbook(play(args)) for _run in range(10)]
    faults_seen = sum(1 for call in aws_proxy.calls() if call.get("fault"))
    aws_proxy.clear_faults()
    for index, run in enumerate(runs):
        assert run.rc == 0, "run {0} failed: {1}".format(index, run.result(TASK).get("msg"))
        assert "Traceback" not in run.output
    assert faults_seen > 20, "the proxy should have injected faults"

    names = names_in_moto(sm, "flt/")
    assert len(names) == 100 and len(set(names)) == 100
    assert all(version_count(sm, name) == 1 for name in names), "a retried write made a second version"
    for index in (0, 17, 49):
        assert sm.get_secret_value(SecretId="flt/val-{0:03d}".format(index))["SecretString"] == (
            "CANARY-fault-{0:03d}".format(index))

    aws_proxy.reset()
    clean = playbook(play(args)).assert_ok()
    assert clean.result(TASK)["changed"] is False and aws_proxy.write_count() == 0
    for run in runs[:2]:
        run.assert_no_leak("CANARY-fault-000", "CANARY-fault-049")


def test_total_write_outage_fails_in_bounded_time_and_a_rerun_repairs(playbook, aws_proxy, sm):
    args = dict(environment("down/", 30, "CANARY-down"), concurrency=4)
    aws_proxy.set_faults(rate=1.0, seed=5, ops=WRITE_OPERATIONS, kinds=FAULT_KINDS)
    started = time.monotonic()
    failed = playbook(play(args))
    elapsed = time.monotonic() - started
    aws_proxy.clear_faults()

    assert failed.rc != 0 and "Traceback" not in failed.output
    assert elapsed < OUTAGE_BOUND_SECONDS, elapsed
    result = failed.result(TASK)
    assert result["msg"].startswith("Failed on 30 of 30 secrets: down/gen-000 (")
    codes = {entry["error"]["code"] for entry in result["secrets"]}
    assert "NotAttempted" in codes, "the circuit breaker should have stopped new secrets"
    not_attempted = [entry for entry in result["secrets"] if entry["error"]["code"] == "NotAttempted"]
    assert "in a row failed with throttling or service errors" in not_attempted[0]["error"]["message"]
    failed.assert_no_leak("CANARY-down-000", "CANARY-down-014")

    # Dropped answers may have let some writes through: a rerun must converge from whatever is there.
    repaired = playbook(play(args)).assert_ok()
    assert repaired.result(TASK)["summary"]["failed"] == 0
    names = names_in_moto(sm, "down/")
    assert len(names) == 30 and all(version_count(sm, name) == 1 for name in names)
    assert playbook(play(args)).assert_ok().result(TASK)["changed"] is False


def test_listing_lag_is_reconciled_without_duplicates(playbook, aws_proxy, sm):
    args = {"prefix": "lag/", "names": ["a", "b"], "secrets": [{"name": "c", "value": "CANARY-lag-c"}]}
    aws_proxy.add_rule(eventual_consistency_hide_new(600))
    playbook(play(args)).assert_ok()
    aws_proxy.reset()
    lagging = playbook(play(args)).assert_ok()
    entries = {entry["name"]: entry for entry in lagging.result(TASK)["secrets"]}
    assert entries["lag/a"]["action"] == "unchanged" and entries["lag/b"]["action"] == "unchanged"
    # moto accepts a CreateSecret that repeats the first one's token and value as a no-op.
    assert entries["lag/c"]["action"] in ("unchanged", "created")
    assert aws_proxy.counts()["DescribeSecret"] >= 2
    assert names_in_moto(sm, "lag/") == ["lag/a", "lag/b", "lag/c"]
    assert version_count(sm, "lag/c") == 1
    lagging.assert_no_leak("CANARY-lag-c")


class _HideFromListing:
    """ListSecrets does not show one secret yet, as on AWS right after it changed."""

    def __init__(self, name):
        self.name = name

    def on_response(self, service, op, request_body, status, response_body):
        if op != "ListSecrets" or status != 200:
            return None
        import json

        answer = json.loads(response_body)
        answer["SecretList"] = [entry for entry in answer["SecretList"]
                                if not secret_matches(entry.get("Name"), self.name)]
        return answer


def test_name_scheduled_for_deletion_but_not_listed_is_restored(playbook, aws_proxy, sm):
    sm.create_secret(Name="sched/x", SecretString="CANARY-sched-x")
    aws_proxy.add_rule(scheduled_for_deletion("sched/x"))
    aws_proxy.add_rule(_HideFromListing("sched/x"))
    run = playbook(play({"prefix": "sched/", "names": ["x"]})).assert_ok()
    entry = run.result(TASK)["secrets"][0]
    assert entry["action"] == "restored", entry
    counts = aws_proxy.counts()
    assert counts["CreateSecret"] == 1 and counts["DescribeSecret"] == 1 and counts["RestoreSecret"] == 1


def test_scheduled_secret_in_the_listing_is_restored_directly(playbook, aws_proxy, sm):
    sm.create_secret(Name="sched/y")
    aws_proxy.add_rule(scheduled_for_deletion("sched/y"))
    run = playbook(play({"prefix": "sched/", "names": ["y"], "tags": {"back": "1"}})).assert_ok()
    assert run.result(TASK)["secrets"][0]["action"] == "restored"
    assert aws_proxy.counts()["CreateSecret"] == 0


def test_access_denied_on_one_value_read_spares_the_others(playbook, aws_proxy, sm):
    for name in ("deny/a", "deny/b", "deny/c"):
        sm.create_secret(Name=name, SecretString="CANARY-old-" + name[-1])
    secrets = [{"name": name, "value": "CANARY-new-" + name} for name in ("a", "b", "c")]
    aws_proxy.add_rule(access_denied_for("deny/b", ops={"BatchGetSecretValue", "GetSecretValue"}))
    run = playbook(play({"prefix": "deny/", "overwrite": True, "secrets": secrets}))
    assert run.rc != 0
    result = run.result(TASK)
    assert result["msg"] == "Failed on 1 of 3 secrets: deny/b (AccessDeniedException)"
    assert [entry["action"] for entry in result["secrets"]] == ["updated", "failed", "updated"]
    assert sm.get_secret_value(SecretId="deny/b")["SecretString"] == "CANARY-old-b"
    run.assert_no_leak("CANARY-old-a", "CANARY-old-b", "CANARY-new-a", "CANARY-new-b")


@pytest.mark.parametrize("processes", [2, 4])
def test_parallel_jobs_on_one_environment_converge_exactly(playbook, sm, processes):
    args = environment("par{0}/".format(processes), 20, "CANARY-par")
    with ThreadPoolExecutor(max_workers=processes) as pool:
        runs = list(pool.map(lambda _job: playbook(play(args)), range(processes)))
    for run in runs:
        assert "Traceback" not in run.output
        assert run.rc == 0, run.result(TASK).get("msg")
    names = names_in_moto(sm, args["prefix"])
    assert len(names) == 20 and all(version_count(sm, name) == 1 for name in names)

    updated = dict(args, overwrite=True, secrets=[dict(item, value=item["value"] + "-v2") for item in args["secrets"]])
    with ThreadPoolExecutor(max_workers=processes) as pool:
        runs = list(pool.map(lambda _job: playbook(play(updated)), range(processes)))
    for run in runs:
        assert "Traceback" not in run.output
        assert run.rc == 0, run.result(TASK).get("msg")
    for item in args["secrets"]:
        full_name = args["prefix"] + item["name"]
        assert version_count(sm, full_name) == 2, "parallel jobs wrote the same change twice"
        assert sm.get_secret_value(SecretId=full_name)["SecretString"] == item["value"] + "-v2"
    assert playbook(play(updated)).assert_ok().result(TASK)["changed"] is False

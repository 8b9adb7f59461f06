"""The set module under AWS's real request quotas and round-trip latency, imitated by the proxy.

moto never throttles. Real Secrets Manager answers ThrottlingException above 50 CreateSecret calls a
second (a one-second burst), so a bulk create is paced by the quota, not by the worker count. The
module's shared client-side rate limiter keeps the workers under it instead of thrashing against it.
"""

import time

from tests.integration.test_set_module import TASK
from tests.integration.test_set_module import names_in_moto
from tests.integration.test_set_module import play
from tests.integration.test_set_module import version_count

COUNT = 200
CREATE_QUOTA = 50  # CreateSecret calls a second, per region


def test_bulk_create_under_quotas_runs_at_the_quota_without_failures(playbook, aws_proxy, sm):
    aws_proxy.set_quotas(latency=0.025)
    args = {"prefix": "quota/", "concurrency": 16,
            "secrets": [{"name": "s-{0:03d}".format(index), "value": "CANARY-quota-{0:03d}".format(index)}
                        for index in range(COUNT)]}
    run = playbook(play(args)).assert_ok()
    result = run.result(TASK)
    assert result["summary"]["created"] == COUNT and result["summary"]["failed"] == 0

    creates = [call for call in aws_proxy.calls() if call["op"] == "CreateSecret"]
    admitted = [call for call in creates if call["fault"] != "quota"]
    throttled = len(creates) - len(admitted)
    assert len(admitted) == COUNT
    assert throttled <= COUNT // 10, "{0} throttled attempts for {1} writes".format(throttled, COUNT)
    # The quota floor: a full one-second burst, then CREATE_QUOTA a second.
    floor = (COUNT - CREATE_QUOTA) / CREATE_QUOTA
    span = max(call["started"] + call["duration"] for call in creates) - min(call["started"] for call in creates)
    assert span < floor * 1.15 + 1.0, "creates took {0:.1f} s; the quota floor is {1:.1f} s".format(span, floor)

    names = names_in_moto(sm, "quota/")
    assert len(names) == COUNT
    assert all(version_count(sm, name) == 1 for name in names[::20])
    run.assert_no_leak("CANARY-quota-000", "CANARY-quota-199")


def test_quota_throttling_is_retried_not_reported(playbook, aws_proxy, sm):
    """A quota far below what the limiter expects is still absorbed by the retries; no secret fails."""
    aws_proxy.set_quotas({"CreateSecret": (10, {"CreateSecret"})}, burst_seconds=0.5)
    started = time.monotonic()
    run = playbook(play({"prefix": "slow/", "names": ["n-{0:02d}".format(index) for index in range(20)],
                         "concurrency": 8})).assert_ok()
    assert run.result(TASK)["summary"]["created"] == 20
    assert aws_proxy.quota_stats()["throttled"].get("CreateSecret", 0) > 0, "the quota should have bitten"
    assert time.monotonic() - started < 60
    assert len(names_in_moto(sm, "slow/")) == 20

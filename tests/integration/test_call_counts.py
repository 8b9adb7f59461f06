"""Regression guard on the API calls aws_secrets_manager_set makes at N=100 (issue 6).

The counts are deterministic, so they are compared exactly, operation by operation, as the counting
proxy saw them (every attempt). The benchmark (``make bench``) measures time and memory; this guard
only makes sure that a change that adds calls per secret cannot slip in. No timing is asserted.
Six playbook runs in all.
"""

from collections import Counter

import yaml

MODULE = "envops.aws_secrets.aws_secrets_manager_set"
TASK = "Manage secrets"
N = 100


def play(args):
    return yaml.safe_dump([{"name": "Call counts", "hosts": "localhost", "gather_facts": False,
                            "tasks": [{"name": TASK, MODULE: args, "register": "managed"}]}], sort_keys=False)


def declared(changed_every=None):
    """N secrets with values; with ``changed_every=10`` every tenth value differs (10%)."""
    secrets = []
    for index in range(N):
        generation = "new" if changed_every and index % changed_every == 0 else "old"
        secrets.append({"name": "s-{0:03d}".format(index), "value": "value-{0:03d}-{1}".format(index, generation)})
    return secrets


def run_and_count(playbook, aws_proxy, args, **kwargs):
    """Run the play; return the result and the calls by operation that the proxy counted.

    moto 5.2.5's secrets store is not thread-safe: under concurrent CreateSecret calls it now and
    then answers HTTP 500 (RuntimeError "dictionary changed size during iteration"), and botocore
    retries the call with the same ClientRequestToken. Such an attempt is moto's doing, not the
    module's, so attempts that got a 5xx are left out of the count (and reported if present).
    """
    aws_proxy.reset()
    result = playbook(play(args), **kwargs).assert_ok().result(TASK)
    calls = aws_proxy.calls()
    counts = Counter(call["op"] for call in calls if (call.get("status") or 0) < 500)
    retried = Counter(call["op"] for call in calls if (call.get("status") or 0) >= 500)
    # The module's own count (api_calls, by boto3 method name, one per call it made) agrees.
    assert sum(result["api_calls"].values()) == sum(counts.values()), (result["api_calls"], counts, retried)
    return result, counts


def test_call_counts_at_100_create_rerun_and_update(playbook, aws_proxy):
    prefix = "calls/"

    result, counts = run_and_count(playbook, aws_proxy, {"prefix": prefix, "secrets": declared()})
    assert counts == Counter({"ListSecrets": 1, "CreateSecret": N}), counts
    assert result["summary"]["created"] == N

    result, counts = run_and_count(playbook, aws_proxy, {"prefix": prefix, "secrets": declared()})
    assert counts == Counter({"ListSecrets": 1}), "rerun, overwrite=false: one listing and nothing else"
    assert aws_proxy.write_count() == 0 and result["changed"] is False

    result, counts = run_and_count(playbook, aws_proxy, {"prefix": prefix, "overwrite": True, "secrets": declared()})
    assert counts == Counter({"ListSecrets": 1, "BatchGetSecretValue": N // 20}), counts
    assert aws_proxy.write_count() == 0 and result["summary"]["unchanged"] == N

    result, counts = run_and_count(playbook, aws_proxy,
                                   {"prefix": prefix, "overwrite": True, "secrets": declared(changed_every=10)})
    assert counts == Counter({"ListSecrets": 1, "BatchGetSecretValue": N // 20, "PutSecretValue": N // 10}), counts
    assert result["summary"]["updated"] == N // 10 and result["summary"]["unchanged"] == N - N // 10


def test_call_counts_at_100_check_mode_on_a_fresh_set(playbook, aws_proxy, sm):
    args = {"prefix": "fresh/", "overwrite": True, "secrets": declared()}
    result, counts = run_and_count(playbook, aws_proxy, args, check=True)
    assert aws_proxy.write_count() == 0, counts
    assert counts == Counter({"ListSecrets": 1}), "nothing exists, so there is no value to read either"
    assert result["summary"]["created"] == N and result["changed"] is True
    assert sm.list_secrets(Filters=[{"Key": "name", "Values": ["fresh/"]}])["SecretList"] == []

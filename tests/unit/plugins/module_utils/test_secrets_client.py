"""The client layer: the shared rate limiter, the retry bound, and masked errors."""

import pytest
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionClosedError
from botocore.exceptions import ParamValidationError

from ansible_collections.envops.aws_secrets.plugins.module_utils import _secrets_client as client
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_mask import Masker


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_allows_a_one_second_burst_then_paces_at_the_rate():
    clock = FakeClock()
    bucket = client._TokenBucket(10, clock, clock.sleep)
    waits = [bucket.take() for _attempt in range(30)]
    assert waits[:10] == [0.0] * 10
    assert clock.now == pytest.approx(2.0)  # 20 more tokens at 10 a second
    assert all(wait == pytest.approx(0.1) for wait in waits[11:])


def test_a_throttle_drains_the_burst():
    clock = FakeClock()
    bucket = client._TokenBucket(10, clock, clock.sleep)
    bucket.drain()
    assert bucket.take() == pytest.approx(0.1)


THROTTLED = ({}, {"Error": {"Code": "ThrottlingException"}})


def test_limiter_leaves_a_class_alone_until_the_service_throttles_it():
    clock = FakeClock()
    limiter = client.RateLimiter(clock=clock, sleep=clock.sleep)
    for _attempt in range(500):
        limiter.before_send(event_name="before-send.secrets-manager.CreateSecret")
    assert clock.now == 0.0, "an endpoint that never throttles is never slowed down"


def test_limiter_paces_each_throttled_class_on_its_own_under_the_quota():
    clock = FakeClock()
    limiter = client.RateLimiter(clock=clock, sleep=clock.sleep)
    limiter.needs_retry(event_name="needs-retry.secrets-manager.CreateSecret", response=THROTTLED)
    for _attempt in range(200):
        limiter.before_send(event_name="before-send.secrets-manager.CreateSecret")
    create_seconds = clock.now
    # 200 creates at 92% of 50/s, the burst drained by the throttle.
    assert create_seconds == pytest.approx(200 / 46.0, rel=0.01)
    for _attempt in range(100):
        limiter.before_send(event_name="before-send.secrets-manager.TagResource")
    assert clock.now == create_seconds, "tagging was never throttled"
    limiter.needs_retry(event_name="needs-retry.secrets-manager.UntagResource", response=THROTTLED)
    for _attempt in range(46):
        limiter.before_send(event_name="before-send.secrets-manager.TagResource")
    assert clock.now - create_seconds == pytest.approx(1.0, rel=0.01), "Tag and Untag share one quota"
    limiter.needs_retry(event_name="needs-retry.secrets-manager.DescribeSecret", response=THROTTLED)
    before = clock.now
    for _attempt in range(1000):
        limiter.before_send(event_name="before-send.secrets-manager.DescribeSecret")
    assert clock.now == before, "DescribeSecret's quota is far above what one task sends"


def test_limiter_counts_throttles_it_sees():
    limiter = client.RateLimiter()
    limiter.needs_retry(event_name="needs-retry.secrets-manager.CreateSecret", response=THROTTLED)
    limiter.needs_retry(event_name="needs-retry.secrets-manager.CreateSecret", response=({}, {}))
    limiter.needs_retry(event_name="needs-retry.secrets-manager.CreateSecret", response=None)
    assert limiter.throttled == {"CreateSecret": 1}
    assert limiter.paced == {"create"}


def test_every_operation_has_a_known_class():
    assert set(client.API_CLASS_OF_OPERATION.values()) <= set(client.QUOTA_PER_SECOND)


def test_one_retry_layer_with_a_bound():
    config = client.client_config(16)
    assert config.retries == {"mode": "standard", "total_max_attempts": client.MAX_ATTEMPTS}
    assert config.max_pool_connections == 16


class _Raising:
    def __init__(self, error):
        self.error = error
        self.meta = None

    def put_secret_value(self, **_params):
        raise self.error


@pytest.mark.parametrize(
    "error, code",
    [
        (ClientError({"Error": {"Code": "KMSInvalidStateException", "Message": "echo Hunter2-secret!"},
                      "Extra": "Hunter2-secret!"}, "PutSecretValue"), "KMSInvalidStateException"),
        (ConnectionClosedError(endpoint_url="http://x/Hunter2-secret!"), "ConnectionClosedError"),
        (ParamValidationError(report="Invalid type for parameter SecretString, value: Hunter2-secret!"),
         "ParamValidationError"),
    ],
)
def test_every_error_leaves_masked_and_unchained(error, code):
    calls = client.SecretsManagerCalls(_Raising(error), masker=Masker(["Hunter2-secret!"]))
    with pytest.raises(ClientError) as raised:
        calls("put_secret_value", SecretId="a", SecretString="Hunter2-secret!")
    assert raised.value.response["Error"]["Code"] == code
    assert "Hunter2" not in str(raised.value) and "Hunter2" not in repr(raised.value.response)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert calls.calls_by_operation == {"put_secret_value": 1}

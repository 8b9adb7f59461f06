# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A Secrets Manager client for many threads: one retry layer, one shared rate limit, masked errors.

Retries are botocore's standard mode alone: at most MAX_ATTEMPTS HTTP requests for one logical call.
Once the service has throttled an API class, every attempt of that class, first or retried, first takes
a token from the class's bucket, at just under AWS's published per-region quota, so the workers share
the quota instead of thrashing against it. An endpoint that never throttles (moto, LocalStack) is
never slowed down.
Every error leaves this layer as a ClientError whose message has been masked: it is the one place
where text from outside (AWS, botocore) enters the module.

Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

try:
    import botocore.config
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
    from botocore.exceptions import ParamValidationError
except ImportError:
    pass  # AnsibleAWSModule reports the missing SDK

# Secrets Manager's own names for "try again"; botocore's standard mode retries these (and HTTP 5xx,
# throttling and dropped connections) by itself. The circuit breaker in _secrets_apply uses them.
RETRYABLE_ERROR_CODES = ["ThrottlingException", "InternalServiceError", "ServiceUnavailableException"]
CONNECTION_ERROR_CODES = ["ConnectionClosedError", "ConnectTimeoutError", "EndpointConnectionError", "ReadTimeoutError"]

# The one retry layer: botocore's standard mode, exponential backoff with full jitter (at most
# 1, 2, 4, 8, 16, 20, 20 s between the eight attempts), and its retry quota, which runs dry in a
# sustained outage so that calls then fail fast. Five attempts were too few: at 20% random faults a
# run of 2,000 calls met five faults in a row about every other time (0.2^5 a call).
MAX_ATTEMPTS = 8

# AWS Secrets Manager's per-region request quotas (requests per second, not adjustable), by API class.
# DescribeSecret (40,000/s) and GetSecretValue (10,000/s) are far above anything one task sends.
QUOTA_PER_SECOND = {
    "create": 50,
    "delete": 50,
    "random_password": 50,
    "restore": 50,
    "version": 50,
    "rotation": 50,
    "tags": 50,
    "policy": 50,
    "list": 100,
    "list_versions": 50,
    "batch_get": 100,
}
API_CLASS_OF_OPERATION = {
    "CreateSecret": "create",
    "DeleteSecret": "delete",
    "GetRandomPassword": "random_password",
    "RestoreSecret": "restore",
    "PutSecretValue": "version",
    "UpdateSecret": "version",
    "UpdateSecretVersionStage": "version",
    "RemoveRegionsFromReplication": "version",
    "ReplicateSecretToRegions": "version",
    "StopReplicationToReplica": "version",
    "RotateSecret": "rotation",
    "CancelRotateSecret": "rotation",
    "TagResource": "tags",
    "UntagResource": "tags",
    "PutResourcePolicy": "policy",
    "DeleteResourcePolicy": "policy",
    "GetResourcePolicy": "policy",
    "ValidateResourcePolicy": "policy",
    "ListSecrets": "list",
    "ListSecretVersionIds": "list_versions",
    "BatchGetSecretValue": "batch_get",
}
# The client keeps this share of each quota: the rest absorbs clock jitter between client and service.
QUOTA_SHARE = 0.92


def error_of(exception: Exception) -> dict:
    """An AWS error code and message; botocore's parameter messages can quote values, so not those."""
    if isinstance(exception, ClientError):
        error = exception.response.get("Error", {})
        return {"code": error.get("Code", "ClientError"), "message": error.get("Message", "")}
    if isinstance(exception, ParamValidationError):
        return {"code": "ParamValidationError", "message": "botocore refused the request parameters"}
    return {"code": type(exception).__name__, "message": str(exception)}


def client_config(concurrency: int):
    """botocore settings: a connection pool as wide as the worker pool, and the one retry layer."""
    return botocore.config.Config(
        max_pool_connections=max(10, concurrency),
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=10,
        read_timeout=30,
    )


class _TokenBucket:
    """rate tokens a second, holding at most one second's worth; take() waits for a token."""

    def __init__(self, rate: float, clock=time.monotonic, sleep=time.sleep):
        self.rate = float(rate)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.rate
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.rate, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self) -> float:
        """Take a token, waiting as long as needed; returns the seconds waited."""
        with self._lock:
            self._refill()
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait:
            self._sleep(wait)
        return wait

    def drain(self) -> None:
        """The service said "slow down": no burst until the bucket has refilled."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0)


class RateLimiter:
    """One token bucket for each API class, shared by every worker thread of the task.

    A class is paced from the first time the service throttles it, for the rest of the run: the quota
    is then known to bind (other jobs of the account may share it), and below it nothing is lost.
    """

    def __init__(self, quota_per_second=None, share: float = QUOTA_SHARE, clock=time.monotonic, sleep=time.sleep):
        quotas = QUOTA_PER_SECOND if quota_per_second is None else quota_per_second
        self._buckets = {name: _TokenBucket(rate * share, clock, sleep) for name, rate in quotas.items()}
        self._lock = threading.Lock()
        self.paced = set()
        self.throttled = Counter()

    @staticmethod
    def _class_of(event_name: str):
        # botocore's event names end with the operation: "before-send.secrets-manager.CreateSecret".
        return API_CLASS_OF_OPERATION.get(event_name.rsplit(".", 1)[-1])

    def before_send(self, event_name: str = "", **_kwargs):
        api_class = self._class_of(event_name)
        if api_class in self.paced:
            self._buckets[api_class].take()

    def needs_retry(self, event_name: str = "", response=None, **_kwargs):
        """Watches every answer (decides nothing): a throttled class is paced from now on, burst drained."""
        if not response:
            return
        code = (response[1] or {}).get("Error", {}).get("Code")
        if code not in ("ThrottlingException", "Throttling", "TooManyRequestsException"):
            return
        api_class = self._class_of(event_name)
        with self._lock:
            self.throttled[event_name.rsplit(".", 1)[-1]] += 1
            if api_class in self._buckets:
                self.paced.add(api_class)
        if api_class in self._buckets:
            self._buckets[api_class].drain()

    def attach(self, client) -> None:
        client.meta.events.register("before-send.secrets-manager", self.before_send)
        client.meta.events.register("needs-retry.secrets-manager", self.needs_retry)


class SecretsManagerCalls:
    """Calls one boto3 client from many threads, counting logical calls by operation.

    The client's own retries (standard mode) and the shared rate limiter do the waiting. Whatever goes
    wrong leaves as a ClientError with a masked message, without the original exception chained.
    """

    def __init__(self, client, masker=None, rate_limiter=None):
        self._client = client
        self._masker = masker
        self._lock = threading.Lock()
        self.calls_by_operation = Counter()
        self.rate_limiter = rate_limiter
        if rate_limiter is not None:
            rate_limiter.attach(client)

    def __call__(self, operation: str, **params):
        with self._lock:
            self.calls_by_operation[operation] += 1
        try:
            return getattr(self._client, operation)(**params)
        except (BotoCoreError, ClientError) as error:
            masked = self._masked(error, operation)
        raise masked from None

    def _masked(self, error: Exception, operation: str) -> "ClientError":
        found = error_of(error)
        # Only the code, the masked message and the request metadata: modeled error fields can quote input.
        response = {
            "Error": {"Code": found["code"], "Message": self.mask(found["message"])},
            "ResponseMetadata": dict((getattr(error, "response", None) or {}).get("ResponseMetadata") or {}),
        }
        return ClientError(response, operation)

    def mask(self, text):
        return self._masker.mask(text) if self._masker is not None else text

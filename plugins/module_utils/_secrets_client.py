# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A Secrets Manager client whose calls retry safely from many threads.

Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import threading
from collections import Counter

try:
    import botocore.config
    from botocore.exceptions import ClientError
    from botocore.exceptions import ConnectionClosedError
    from botocore.exceptions import ParamValidationError
    from botocore.exceptions import ConnectTimeoutError
    from botocore.exceptions import EndpointConnectionError
    from botocore.exceptions import ReadTimeoutError

    CONNECTION_ERRORS = (ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError)
except ImportError:
    CONNECTION_ERRORS = ()  # AnsibleAWSModule reports the missing SDK

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# Secrets Manager's own names for "try again"; AWSRetry knows the generic ones already.
RETRYABLE_ERROR_CODES = ["ThrottlingException", "InternalServiceError", "ServiceUnavailableException"]
# Connection failures, once botocore's own tries are spent, reach AWSRetry as ClientErrors with these codes.
CONNECTION_ERROR_CODES = ["ConnectionClosedError", "ConnectTimeoutError", "EndpointConnectionError", "ReadTimeoutError"]

# Outer retry schedule (AWSRetry, jittered): at most RETRY_ATTEMPTS attempts, sleeping at most
# 1 + 2 + 4 + 5 seconds between them. Each attempt is itself up to BOTOCORE_ATTEMPTS tries by
# botocore's standard retry mode, which also covers dropped connections and shares one retry
# quota per client: under a sustained outage that quota runs dry and calls fail fast.
RETRY_ATTEMPTS = 5
RETRY_DELAY = 1.0
RETRY_MAX_DELAY = 5.0
BOTOCORE_ATTEMPTS = 3


def error_of(exception: Exception) -> dict:
    """An AWS error code and message; botocore's parameter messages can quote values, so not those."""
    if isinstance(exception, ClientError):
        error = exception.response.get("Error", {})
        return {"code": error.get("Code", "ClientError"), "message": error.get("Message", "")}
    if isinstance(exception, ParamValidationError):
        return {"code": "ParamValidationError", "message": "botocore refused the request parameters"}
    return {"code": type(exception).__name__, "message": str(exception)}


def client_config(concurrency: int):
    """botocore settings: a connection pool as wide as the worker pool, and standard retries."""
    return botocore.config.Config(
        max_pool_connections=max(10, concurrency),
        retries={"mode": "standard", "total_max_attempts": BOTOCORE_ATTEMPTS},
        connect_timeout=10,
        read_timeout=30,
    )


class SecretsManagerCalls:
    """Calls one boto3 client with jittered-backoff retries, counting calls by operation.

    amazon.aws's retry decorator keeps its backoff state in the decorator, so one decorator shared
    by worker threads would reset each other's backoff. Each call gets its own decorator instead.
    """

    def __init__(self, client):
        self._client = client
        self._lock = threading.Lock()
        self.calls_by_operation = Counter()

    def __call__(self, operation: str, **params):
        with self._lock:
            self.calls_by_operation[operation] += 1
        retrying = AWSRetry.jittered_backoff(
            retries=RETRY_ATTEMPTS,
            delay=RETRY_DELAY,
            max_delay=RETRY_MAX_DELAY,
            catch_extra_error_codes=RETRYABLE_ERROR_CODES + CONNECTION_ERROR_CODES,
        )
        return retrying(self._call_once)(operation, params)

    def _call_once(self, operation: str, params: dict):
        """One call (with botocore's own tries); a lost connection becomes a ClientError AWSRetry can retry.

        Retrying after a lost answer is safe: value writes carry a ClientRequestToken, a repeated create
        is reconciled, tagging is idempotent and a repeated delete counts as done.
        """
        try:
            return getattr(self._client, operation)(**params)
        except CONNECTION_ERRORS as error:
            code = type(error).__name__
            raise ClientError({"Error": {"Code": code, "Message": str(error)}}, operation) from error

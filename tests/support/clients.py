"""boto3 clients for the harness: fake credentials, loopback endpoint, no env proxies."""

from __future__ import annotations

import threading

import boto3
import botocore.session
from botocore.config import Config

__all__ = ["aws_client", "FAKE_ACCESS_KEY", "FAKE_SECRET_KEY", "DEFAULT_REGION"]

FAKE_ACCESS_KEY = "testing"
FAKE_SECRET_KEY = "testing"
DEFAULT_REGION = "us-east-1"


_SESSION_LOCK = threading.Lock()
_SESSION = None


def _shared_botocore_session():
    """One botocore session for all harness clients: service models are loaded once
    (a fresh session per client costs ~50 ms of JSON parsing)."""
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None:
            _SESSION = botocore.session.get_session()
        return _SESSION


def aws_client(service: str, endpoint_url: str, region: str = DEFAULT_REGION, *,
               total_max_attempts: int | None = None, **config_kwargs):
    """A boto3 client for ``service`` at ``endpoint_url`` with fake credentials.

    ``total_max_attempts=1`` really disables retries (botocore's
    ``retries={"max_attempts": N}`` counts *retries*, i.e. N+1 attempts).
    ``*_proxy`` environment variables are ignored (``proxies={}``).
    """
    if not endpoint_url.startswith(("http://127.0.0.1", "http://localhost")):
        raise ValueError(f"refusing a non-loopback endpoint {endpoint_url!r}")
    session = boto3.session.Session(
        aws_access_key_id=FAKE_ACCESS_KEY,
        aws_secret_access_key=FAKE_SECRET_KEY,
        region_name=region,
        botocore_session=_shared_botocore_session(),
    )
    kwargs = {"proxies": {}, **config_kwargs}
    if total_max_attempts is not None:
        kwargs["retries"] = {"total_max_attempts": int(total_max_attempts), "mode": "standard"}
    return session.client(service, endpoint_url=endpoint_url, region_name=region, config=Config(**kwargs))

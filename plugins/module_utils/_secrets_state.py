# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading the current state of many secrets with few calls.

Metadata comes from ListSecrets with name-prefix filters (100 a page), never one DescribeSecret
per secret; values from BatchGetSecretValue (20 a call), only where a comparison needs them.
Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing SDK

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

LIST_PAGE_SIZE = 100
LIST_FILTER_VALUES = 10  # ListSecrets takes at most 10 values per filter
BATCH_GET_SIZE = 20  # BatchGetSecretValue takes at most 20 secret ids


@dataclass(frozen=True)
class CurrentSecret:
    """A secret as Secrets Manager holds it, without its value."""

    name: str
    arn: str
    description: Optional[str] = None
    kms_key_id: Optional[str] = None
    tags: dict = field(default_factory=dict)
    scheduled_for_deletion: bool = False
    current_version_id: Optional[str] = None
    version_ids: Tuple[str, ...] = ()

    @property
    def has_value(self) -> bool:
        return self.current_version_id is not None


@dataclass(frozen=True)
class CurrentValue:
    """A stored value, or the error that kept it from being read."""

    string: Optional[str] = field(default=None, repr=False)
    binary: Optional[bytes] = field(default=None, repr=False)
    error_code: Optional[str] = None
    error_message: Optional[str] = None


def current_secret_from_api(entry: dict) -> CurrentSecret:
    """Normalise a ListSecrets entry or a DescribeSecret answer."""
    stages_by_version = entry.get("SecretVersionsToStages") or entry.get("VersionIdsToStages") or {}
    current_version_id = next(
        (version_id for version_id, stages in stages_by_version.items() if "AWSCURRENT" in stages), None
    )
    return CurrentSecret(
        name=entry["Name"],
        arn=entry["ARN"],
        description=entry.get("Description"),
        kms_key_id=entry.get("KmsKeyId"),
        tags=boto3_tag_list_to_ansible_dict(entry.get("Tags") or []),
        scheduled_for_deletion=entry.get("DeletedDate") is not None,
        current_version_id=current_version_id,
        version_ids=tuple(sorted(stages_by_version)),
    )


def listing_filters(full_names: Iterable[str], prefix: str) -> List[List[str]]:
    """Name-prefix filter values for ListSecrets, one list per listing.

    With a prefix one listing covers everything (and finds what prune needs); without one, each
    full name is its own prefix filter, ten to a listing.
    """
    if prefix:
        return [[prefix]]
    names = sorted(set(full_names))
    return [names[start:start + LIST_FILTER_VALUES] for start in range(0, len(names), LIST_FILTER_VALUES)]


def _list_pages(calls, filter_values: List[str]) -> List[dict]:
    entries = []
    params = dict(
        Filters=[{"Key": "name", "Values": filter_values}],
        IncludePlannedDeletion=True,
        MaxResults=LIST_PAGE_SIZE,
    )
    while True:
        page = calls("list_secrets", **params)
        entries += page.get("SecretList", [])
        if not page.get("NextToken"):
            return entries
        params["NextToken"] = page["NextToken"]


def list_current(calls, full_names: Iterable[str], prefix: str, concurrency: int) -> Dict[str, CurrentSecret]:
    """Current secrets by exact name: the declared ones, and with a prefix all below it.

    The name filter is a case-insensitive prefix match on AWS, so results are kept only where
    the name matches exactly (or starts with the prefix, case and all).
    """
    wanted = set(full_names)
    filter_groups = listing_filters(wanted, prefix)
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(filter_groups)))) as pool:
        listings = list(pool.map(lambda values: _list_pages(calls, values), filter_groups))
    current_by_name = {}
    for entries in listings:
        for entry in entries:
            name = entry.get("Name", "")
            if name in wanted or (prefix and name.startswith(prefix)):
                current_by_name[name] = current_secret_from_api(entry)
    return current_by_name


def describe_current(calls, full_name: str) -> Optional[CurrentSecret]:
    """One secret's state, for the rare case the listing missed it; None if it does not exist."""
    try:
        return current_secret_from_api(calls("describe_secret", SecretId=full_name))
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


def _error_of(exception) -> Tuple[str, str]:
    if isinstance(exception, ClientError):
        error = exception.response.get("Error", {})
        return error.get("Code", "ClientError"), error.get("Message", "")
    return type(exception).__name__, "the call failed: {0}".format(type(exception).__name__)


def read_one_value(calls, secret_id: str) -> CurrentValue:
    try:
        answer = calls("get_secret_value", SecretId=secret_id)
    except (BotoCoreError, ClientError) as error:
        code, message = _error_of(error)
        return CurrentValue(error_code=code, error_message=message)
    return CurrentValue(string=answer.get("SecretString"), binary=answer.get("SecretBinary"))


def _read_batch(calls, secret_ids: List[str]) -> Dict[str, CurrentValue]:
    values_by_id = {}
    params = dict(SecretIdList=secret_ids)
    try:
        while True:
            answer = calls("batch_get_secret_value", **params)
            for entry in answer.get("SecretValues", []):
                value = CurrentValue(string=entry.get("SecretString"), binary=entry.get("SecretBinary"))
                values_by_id[entry["ARN"]] = value
                values_by_id[entry["Name"]] = value
            for error in answer.get("Errors", []):
                values_by_id[error["SecretId"]] = CurrentValue(
                    error_code=error.get("ErrorCode", "Error"), error_message=error.get("Message", "")
                )
            if not answer.get("NextToken"):
                break
            params["NextToken"] = answer["NextToken"]
    except is_boto3_error_code("AccessDeniedException"):
        # Policies that grant GetSecretValue but not BatchGetSecretValue: read one by one.
        return {secret_id: read_one_value(calls, secret_id) for secret_id in secret_ids}
    except (BotoCoreError, ClientError) as error:  # pylint: disable=duplicate-except
        code, message = _error_of(error)
        return {secret_id: CurrentValue(error_code=code, error_message=message) for secret_id in secret_ids}
    return {secret_id: values_by_id.get(secret_id, CurrentValue(error_code="NotReturned",
                                                                error_message="BatchGetSecretValue returned nothing"))
            for secret_id in secret_ids}


def read_values(calls, secret_ids: List[str], concurrency: int) -> Dict[str, CurrentValue]:
    """Values by secret id (ARN), 20 to a BatchGetSecretValue call, calls in parallel."""
    if not secret_ids:
        return {}
    batches = [secret_ids[start:start + BATCH_GET_SIZE] for start in range(0, len(secret_ids), BATCH_GET_SIZE)]
    values_by_id = {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(batches)))) as pool:
        for batch_values in pool.map(lambda batch: _read_batch(calls, batch), batches):
            values_by_id.update(batch_values)
    return values_by_id

# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading the current state of many secrets with few calls.

read_state() is the one read pass of a run. Metadata comes from ListSecrets with name-prefix filters
(100 a page), never one DescribeSecret per secret; details only where a plan needs them; values from
BatchGetSecretValue (20 a call), only where a comparison needs them.
Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing SDK

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import error_of
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import is_owned
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import owning_service
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import load_current_policy
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import policy_text
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import policy_write

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
    rotation_enabled: bool = False
    rotation_lambda_arn: Optional[str] = None
    rotation_rules: dict = field(default_factory=dict)
    last_rotated_date: object = None
    next_rotation_date: object = None
    deleted_date: object = None
    created_date: object = None
    primary_region: Optional[str] = None
    # Known only after a DescribeSecret (replicas) or GetResourcePolicy (policy); None means "not read".
    replicas: Optional[Tuple[dict, ...]] = None
    policy: object = None
    policy_read: bool = False
    # Versions ListSecretVersionIds found beyond the labelled ones, when a rollback needed to look.
    all_version_ids: Optional[Tuple[str, ...]] = None
    # The AWS service that owns the secret (rds, for example); such a secret is never changed.
    owning_service: Optional[str] = None

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

    @property
    def failed(self) -> bool:
        return self.error_code is not None


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
        rotation_enabled=bool(entry.get("RotationEnabled")),
        rotation_lambda_arn=entry.get("RotationLambdaARN") or None,
        rotation_rules=dict(entry.get("RotationRules") or {}),
        last_rotated_date=entry.get("LastRotatedDate"),
        next_rotation_date=entry.get("NextRotationDate"),
        deleted_date=entry.get("DeletedDate"),
        created_date=entry.get("CreatedDate"),
        primary_region=entry.get("PrimaryRegion"),
        replicas=replicas_from_api(entry["ReplicationStatus"]) if "ReplicationStatus" in entry else None,
        owning_service=entry.get("OwningService") or None,
    )


def replicas_from_api(statuses: List[dict]) -> Tuple[dict, ...]:
    return tuple(
        sorted(
            (
                {
                    "region": status.get("Region"),
                    "kms_key_id": status.get("KmsKeyId"),
                    "status": status.get("Status"),
                    "status_message": status.get("StatusMessage"),
                }
                for status in statuses
            ),
            key=lambda replica: replica["region"] or "",
        )
    )


@dataclass(frozen=True)
class DetailRequest:
    """What one secret's plan needs beyond the listing."""

    replicas: bool = False
    policy: bool = False
    all_versions: bool = False

    def __bool__(self):
        return self.replicas or self.policy or self.all_versions


def read_details(calls, current: CurrentSecret, request: DetailRequest) -> CurrentSecret:
    """Fill in replicas, policy and unlabelled versions; raises ClientError/BotoCoreError like any call."""
    details = {}
    if request.replicas:
        described = calls("describe_secret", SecretId=current.arn)
        details["replicas"] = replicas_from_api(described.get("ReplicationStatus") or [])
    if request.policy:
        answer = calls("get_resource_policy", SecretId=current.arn)
        details["policy"] = load_current_policy(answer.get("ResourcePolicy"))
        details["policy_read"] = True
    if request.all_versions:
        details["all_version_ids"] = tuple(sorted(version["VersionId"] for version in list_versions(calls, current.arn)))
    return dataclasses.replace(current, **details)


def _all_pages(calls, operation: str, entries_key: str, **params) -> List[dict]:
    """Every entry of a paginated listing, following NextToken."""
    entries = []
    while True:
        page = calls(operation, **params)
        entries += page.get(entries_key, [])
        if not page.get("NextToken"):
            return entries
        params["NextToken"] = page["NextToken"]


def list_versions(calls, secret_id: str) -> List[dict]:
    """Every version of a secret, unlabelled (deprecated) ones included; never a value."""
    return _all_pages(calls, "list_secret_version_ids", "Versions", SecretId=secret_id, IncludeDeprecated=True,
                      MaxResults=100)


def listing_filters(full_names: Iterable[str], prefix: str) -> List[List[str]]:
    """Name-prefix filter values for ListSecrets, one list per listing.

    With a prefix one listing covers everything (and finds what prune needs); without one, each
    full name is its own prefix filter, ten to a listing.
    """
    if prefix:
        return [[prefix]]
    names = sorted(set(full_names))
    return [names[start:start + LIST_FILTER_VALUES] for start in range(0, len(names), LIST_FILTER_VALUES)]


def _list_pages(calls, filter_values: List[str], extra_filters: Optional[List[dict]] = None) -> List[dict]:
    filters = [{"Key": "name", "Values": filter_values}] if filter_values else []
    params = dict(IncludePlannedDeletion=True, MaxResults=LIST_PAGE_SIZE)
    if filters or extra_filters:
        params["Filters"] = filters + list(extra_filters or [])
    return _all_pages(calls, "list_secrets", "SecretList", **params)


def list_current(
    calls, full_names: Iterable[str], prefix: str, concurrency: int, tags: Optional[dict] = None,
) -> Dict[str, CurrentSecret]:
    """Current secrets by exact name: the named ones, and with a prefix all below it; with tags, only
    those carrying every one of them. Without names or prefix, every secret (that has the tags).

    The name filter is a case-insensitive prefix match on AWS, so results are kept only where
    the name matches exactly (or starts with the prefix, case and all).
    """
    wanted = set(full_names)
    filter_groups = listing_filters(wanted, prefix) or [[]]
    # One tag key narrows the listing on the service; the exact check on every tag is done here.
    tag_filters = [{"Key": "tag-key", "Values": [sorted(tags)[0]]}] if tags else []
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(filter_groups)))) as pool:
        listings = list(pool.map(lambda values: _list_pages(calls, values, tag_filters), filter_groups))
    select_all = not wanted and not prefix
    current_by_name = {}
    for entries in listings:
        for entry in entries:
            name = entry.get("Name", "")
            if not (select_all or name in wanted or (prefix and name.startswith(prefix))):
                continue
            current = current_secret_from_api(entry)
            if tags and any(current.tags.get(key) != value for key, value in tags.items()):
                continue
            current_by_name[name] = current
    return current_by_name


def describe_current(calls, full_name: str) -> Optional[CurrentSecret]:
    """One secret's state, for the rare case the listing missed it; None if it does not exist."""
    try:
        described = calls("describe_secret", SecretId=full_name)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    # DescribeSecret tells replicas too: none listed means none, so no second DescribeSecret for them.
    return current_secret_from_api(dict(described, ReplicationStatus=described.get("ReplicationStatus") or []))


def _unreadable(error: dict) -> CurrentValue:
    return CurrentValue(error_code=error["code"], error_message=error["message"])


def read_one_value(calls, secret_id: str) -> CurrentValue:
    try:
        answer = calls("get_secret_value", SecretId=secret_id)
    except (BotoCoreError, ClientError) as error:
        return _unreadable(error_of(error))
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
                # Text from AWS inside a successful answer: masked like every error message.
                values_by_id[error["SecretId"]] = CurrentValue(
                    error_code=error.get("ErrorCode", "Error"), error_message=calls.mask(error.get("Message", ""))
                )
            if not answer.get("NextToken"):
                break
            params["NextToken"] = answer["NextToken"]
    except is_boto3_error_code("AccessDeniedException"):
        # Policies that grant GetSecretValue but not BatchGetSecretValue: read one by one.
        return {secret_id: read_one_value(calls, secret_id) for secret_id in secret_ids}
    except (BotoCoreError, ClientError) as error:  # pylint: disable=duplicate-except
        return {secret_id: _unreadable(error_of(error)) for secret_id in secret_ids}
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


# Codes that say "the endpoint does not have this operation" rather than "this policy is wrong".
NOT_IMPLEMENTED_CODES = frozenset({"NotImplemented", "NotImplementedException", "UnknownOperationException",
                                   "InvalidAction"})
ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied"})
# Codes with which ValidateResourcePolicy refuses the policy itself: the secret fails.
POLICY_REFUSED_CODES = frozenset({"MalformedPolicyDocumentException", "InvalidParameterException"})


def _validation_unavailable(error) -> Tuple[str, str]:
    """(kind, code) of an error that kept ValidateResourcePolicy from judging a policy."""
    code = error_of(error)["code"]
    if code in ACCESS_DENIED_CODES:
        return "denied", code
    status = None
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    # moto answers an operation it lacks with HTTP 500 and an HTML page, so the "code" is the bare status.
    if code in NOT_IMPLEMENTED_CODES or (status in (500, 501) and code.isdigit()):
        return "not implemented", code
    return "error", code


VALIDATION_WARNINGS = {
    "not implemented": "ValidateResourcePolicy is not implemented at this endpoint ({0}); resource policies were not "
                       "validated before PutResourcePolicy, whose own checks remain.",
    "denied": "ValidateResourcePolicy was denied ({0}): grant secretsmanager:ValidateResourcePolicy to have resource "
              "policies checked before they are written (and in check mode). PutResourcePolicy's own checks remain.",
    "error": "ValidateResourcePolicy failed ({0}) after its retries; resource policies were not validated before "
             "PutResourcePolicy, whose own checks remain.",
}


def validate_policies(calls, policies: Dict[str, Tuple[Optional[str], str]], concurrency: int, warn):
    """Errors by key for policies ValidateResourcePolicy rejects; {} when none is rejected.

    It is a read, so check mode reports a policy AWS would refuse. An endpoint that cannot validate
    gets one warning that says why: the operation is not implemented (moto), it is denied (naming the
    permission), or it failed. Then validation stops and PutResourcePolicy's own checks remain.
    """
    if not policies:
        return {}
    unavailable = []

    def validate(item):
        key, (secret_id, policy_text) = item
        if unavailable:
            return key, None
        params = dict(ResourcePolicy=policy_text)
        if secret_id:
            params["SecretId"] = secret_id
        try:
            answer = calls("validate_resource_policy", **params)
        except is_boto3_error_code(list(POLICY_REFUSED_CODES)) as error:
            refusal = error_of(error)
            return key, {"code": "PolicyValidationFailed",
                         "message": "{0}: {1}".format(refusal["code"], refusal["message"])}
        except (BotoCoreError, ClientError) as error:  # pylint: disable=duplicate-except
            if not unavailable:
                unavailable.append(_validation_unavailable(error))
            return key, None
        if answer.get("PolicyValidationPassed", True):
            return key, None
        problems = "; ".join(
            "{0}: {1}".format(entry.get("CheckName", "check"), entry.get("ErrorMessage", ""))
            for entry in answer.get("ValidationErrors", [])
        )
        return key, {"code": "PolicyValidationFailed", "message": problems or "the policy did not validate"}

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(policies)))) as pool:
        results = dict(pool.map(validate, policies.items()))
    if unavailable:
        kind, code = unavailable[0]
        warn(VALIDATION_WARNINGS[kind].format(code))
    return {key: error for key, error in results.items() if error}


def prune_candidates(declaration, current_by_name: Dict[str, CurrentSecret]) -> List[str]:
    """Names under the prefix that are not declared and not already scheduled for deletion."""
    if not declaration.prune:
        return []
    declared_names = {declared.full_name for declared in declaration.secrets}
    # A prefix ends in "/" whenever prune is on, so a name that starts with it is under that path.
    return [name for name in sorted(current_by_name)
            if name not in declared_names and name.startswith(declaration.prefix)
            and not current_by_name[name].scheduled_for_deletion]


def prunable(current: CurrentSecret) -> bool:
    """Prune deletes only undeclared secrets that carry the ownership tag and that no AWS service owns."""
    return is_owned(current) and not owning_service(current)


def details_needed(declared, current: Optional[CurrentSecret]) -> DetailRequest:
    """What the plan must read beyond the listing, for this one secret (declared None: a prune)."""
    if current is None:
        return DetailRequest()
    deleting = declared is None or declared.state == "absent"
    readable = not current.scheduled_for_deletion
    return DetailRequest(
        # Deleting needs the replicas, which AWS requires to be removed first.
        replicas=current.replicas is None and (deleting or declared.replicas is not None),
        policy=not deleting and readable and declared.policy is not None,
        all_versions=(
            not deleting and readable and declared.current_version_id is not None
            and declared.current_version_id not in current.version_ids
        ),
    )


def value_needed(declared, current: Optional[CurrentSecret]) -> bool:
    """Whether a comparison needs the stored value: a declared value with overwrite (or json_merge, which
    merges into the stored object) on an existing, readable secret."""
    return (
        declared.state == "present"
        and declared.payload is not None
        and (declared.overwrite or declared.json_merge)
        and current is not None
        and not owning_service(current)
        and current.has_value
        and not current.scheduled_for_deletion
    )


def values_to_read(declaration, current_by_name: Dict[str, CurrentSecret]) -> List[str]:
    """ARNs whose value a comparison needs."""
    return [current_by_name[declared.full_name].arn for declared in declaration.secrets
            if value_needed(declared, current_by_name.get(declared.full_name))]


def detail_requests(declaration, current_by_name: Dict[str, CurrentSecret]):
    """Name -> (current, DetailRequest) for every secret whose plan needs more than the listing."""
    requests = {}
    for declared in declaration.secrets:
        current = current_by_name.get(declared.full_name)
        if owning_service(current):
            continue
        request = details_needed(declared, current)
        if request:
            requests[declared.full_name] = (current, request)
    for name in prune_candidates(declaration, current_by_name):
        request = details_needed(None, current_by_name[name]) if prunable(current_by_name[name]) else None
        if request:
            requests[name] = (current_by_name[name], request)
    return requests


def _read_all_details(calls, requests: Dict[str, Tuple[CurrentSecret, DetailRequest]], concurrency: int):
    """Details by name, in parallel: (current with details, None) or (current as listed, error)."""
    if not requests:
        return {}

    def read(item):
        name, (current, request) = item
        try:
            return name, read_details(calls, current, request), None
        except (BotoCoreError, ClientError) as error:
            return name, current, error_of(error)

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(requests)))) as pool:
        return {name: (current, error) for name, current, error in pool.map(read, requests.items())}


@dataclass(frozen=True)
class CurrentState:
    """What the planner compares the declaration with, read in one pass (list, details, values, policies)."""

    secrets: Dict[str, CurrentSecret] = field(default_factory=dict)  # by full name, with the details plans need
    values: Dict[str, CurrentValue] = field(default_factory=dict, repr=False)  # by ARN, where a comparison needs it
    errors: Dict[str, dict] = field(default_factory=dict)  # by name: what kept a secret from being read or checked
    policy_errors: Dict[str, dict] = field(default_factory=dict)  # by name: ValidateResourcePolicy's refusals
    kms_keys: object = None  # a _secrets_kms.KmsKeys that resolved the references; None compares keys as text


def _policies_to_validate(declaration, secrets: Dict[str, CurrentSecret], errors: Dict[str, dict]):
    """Name -> (ARN or None, policy JSON) for every policy a plan would put."""
    policies = {}
    for declared in declaration.secrets:
        current = secrets.get(declared.full_name)
        if (declared.state != "present" or declared.policy is None or declared.full_name in errors
                or owning_service(current) or (current is not None and current.scheduled_for_deletion
                                               and not declared.restore)):
            continue
        after, write, error = policy_write(declared.policy, current)
        if write == "put" and not error:
            policies[declared.full_name] = (current.arn if current else None, policy_text(after))
    return policies


def read_state(calls, declaration, concurrency: int, check_access, warn,
               listed: Optional[Dict[str, CurrentSecret]] = None) -> CurrentState:
    """List (unless `listed` is given), then details, access checks, values and policy validation, each batched.

    check_access(secrets) -> (kms_keys, errors by name) resolves KMS keys and checks readers' access once
    the details are in. ListSecrets errors raise; a secret whose own reads fail gets an entry in errors.
    """
    if listed is None:
        listed = list_current(calls, [declared.full_name for declared in declaration.secrets], declaration.prefix,
                              concurrency)
    secrets, errors = dict(listed), {}
    for name, (current, error) in _read_all_details(calls, detail_requests(declaration, listed), concurrency).items():
        secrets[name] = current
        if error:
            errors[name] = error
    kms_keys, access_errors = check_access(secrets)
    for name, error in access_errors.items():
        errors.setdefault(name, error)
    values = read_values(calls, values_to_read(declaration, secrets), concurrency)
    policy_errors = validate_policies(calls, _policies_to_validate(declaration, secrets, errors), concurrency, warn)
    return CurrentState(secrets=secrets, values=values, errors=errors, policy_errors=policy_errors,
                        kms_keys=kms_keys)

# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading many secret values for the envops.aws_secrets.secrets lookup with few calls.

AWSCURRENT values come from BatchGetSecretValue only: 20 secret ids a call, or a name filter (20 a page)
for a prefix. Other stages come from GetSecretValue with VersionStage, because BatchGetSecretValue
returns only AWSCURRENT. Nothing here puts a value into a message.
Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AWSLookupBase reports the missing SDK

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import error_of
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import MAX_NAME_LENGTH
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import NAME_PATTERN
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_mask import Masker
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import BATCH_GET_SIZE
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentValue

CURRENT_STAGE = "AWSCURRENT"
PROBLEM_CHOICES = ("error", "skip", "warn")
# The option that decides what happens to a secret with each kind of problem.
PROBLEM_OPTIONS = {"missing": "on_missing", "denied": "on_denied", "deleted": "on_deleted"}
LIST_PAGE_SIZE = 100
# A BatchGetSecretValue call can fail as a whole when one of its secrets cannot be read (moto does so for a secret
# scheduled for deletion, or without a value); the lookup then narrows the call down, so errors are per secret.
WHOLE_READ_REFUSED = ("InvalidRequestException", "ResourceNotFoundException")
ARN_PREFIX = "arn:"


class LookupInputError(ValueError):
    """The lookup's terms or options are wrong; raised before any AWS call."""


@dataclass(frozen=True)
class ReadRequest:
    """What one lookup call asks for, validated."""

    full_names: tuple
    prefix: str
    version_stage: str = CURRENT_STAGE
    parse_json: bool = False
    on_problem: Dict[str, str] = field(default_factory=lambda: dict.fromkeys(PROBLEM_OPTIONS, "error"))

    @property
    def whole_prefix(self) -> bool:
        return not self.full_names


def _valid_name(text: str) -> bool:
    """The module's own name rule (_secrets_declare), matched in full."""
    return len(text) <= MAX_NAME_LENGTH and NAME_PATTERN.fullmatch(text) is not None


def build_request(terms: Sequence, prefix, version_stage, parse_json, on_problem: Dict[str, str]) -> ReadRequest:
    """Validate terms and options together; every problem is listed, by term index and text."""
    problems = []
    prefix = "" if prefix is None else prefix
    if not isinstance(prefix, str):
        problems.append("prefix must be a string")
        prefix = ""
    elif prefix and not _valid_name(prefix):
        problems.append("prefix {0!r} is not a valid secret name prefix (letters, digits and /_+=.@- only)"
                        .format(prefix))
    full_names = []
    for index, term in enumerate(terms or []):
        if not isinstance(term, str) or not term:
            problems.append("term {0} is not a non-empty string".format(index))
            continue
        full_name = term if term.startswith(ARN_PREFIX) and not prefix else prefix + term
        if not full_name.startswith(ARN_PREFIX) and not _valid_name(full_name):
            problems.append("term {0} ({1!r}): {2!r} is not a valid secret name".format(index, term, full_name))
            continue
        if full_name not in full_names:
            full_names.append(full_name)
    if not terms and not prefix:
        problems.append("give secret names as terms, a prefix, or both")
    if not isinstance(version_stage, str) or not version_stage or len(version_stage) > 256:
        problems.append("version_stage must be a staging label of 1 to 256 characters")
    for kind, option in PROBLEM_OPTIONS.items():
        if on_problem.get(kind) not in PROBLEM_CHOICES:
            choices = ", ".join(PROBLEM_CHOICES)
            problems.append("{0} must be one of {1}, not {2!r}".format(option, choices, on_problem.get(kind)))
    if problems:
        raise LookupInputError("; ".join(problems))
    return ReadRequest(full_names=tuple(full_names), prefix=prefix, version_stage=version_stage,
                       parse_json=bool(parse_json), on_problem=dict(on_problem))


# --------------------------------------------------------------------------- reads


def _outcome_of_value(entry: dict) -> CurrentValue:
    return CurrentValue(string=entry.get("SecretString"), binary=entry.get("SecretBinary"))


def _outcome_of_error(error: dict) -> CurrentValue:
    return CurrentValue(error_code=error["code"], error_message=error["message"])


def read_batch(calls, secret_ids: List[str]) -> Dict[str, CurrentValue]:
    """One BatchGetSecretValue call for at most 20 ids; a failed call gives every id that call's error.

    A call refused as a whole for one of its secrets (WHOLE_READ_REFUSED) is split in halves until that secret is
    alone, so its error, and no other secret's, is reported for it.
    """
    try:
        answer = calls("batch_get_secret_value", SecretIdList=list(secret_ids))
    except (BotoCoreError, ClientError) as error:
        failure = error_of(error)
        if failure["code"] in WHOLE_READ_REFUSED and len(secret_ids) > 1:
            half = len(secret_ids) // 2
            return dict(read_batch(calls, secret_ids[:half]), **read_batch(calls, secret_ids[half:]))
        return {secret_id: _outcome_of_error(failure) for secret_id in secret_ids}
    by_id = {}
    for entry in answer.get("SecretValues", []):
        outcome = _outcome_of_value(entry)
        by_id[entry.get("Name")] = outcome
        by_id[entry.get("ARN")] = outcome
    for error in answer.get("Errors", []):
        by_id[error.get("SecretId")] = CurrentValue(error_code=error.get("ErrorCode") or "Error",
                                                    error_message=error.get("Message") or "")
    missing = CurrentValue(error_code="NotReturned", error_message="BatchGetSecretValue returned nothing for it")
    return {secret_id: _match(by_id, secret_id, missing) for secret_id in secret_ids}


def _match(by_id: Dict[str, CurrentValue], secret_id: str, default: CurrentValue) -> CurrentValue:
    """AWS names an error by the id as sent or by the ARN it resolved; a value by name and ARN."""
    if secret_id in by_id:
        return by_id[secret_id]
    if not secret_id.startswith(ARN_PREFIX):
        # A partial ARN or a name that AWS answered with its full ARN: arn:...:secret:<name>-XXXXXX
        for key, outcome in by_id.items():
            if key and key.startswith(ARN_PREFIX) and key.split(":secret:", 1)[-1][:-7] == secret_id:
                return outcome
    return default


def read_current_by_ids(calls, full_names: Sequence[str], concurrency: int) -> Dict[str, CurrentValue]:
    """AWSCURRENT values by id, 20 to a BatchGetSecretValue call, calls in parallel."""
    batches = [list(full_names[start:start + BATCH_GET_SIZE]) for start in range(0, len(full_names), BATCH_GET_SIZE)]
    outcomes = {}
    if not batches:
        return outcomes
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(batches)))) as pool:
        for batch_outcomes in pool.map(lambda batch: read_batch(calls, batch), batches):
            outcomes.update(batch_outcomes)
    return outcomes


def read_current_by_prefix(calls, prefix: str, concurrency: int) -> Dict[str, CurrentValue]:
    """AWSCURRENT values of every secret whose name starts with prefix, case and all, through a name filter.

    The name filter matches prefixes without regard to case, so names are checked again here. A call refused as a
    whole for one secret (WHOLE_READ_REFUSED) falls back to the listed names, read 20 at a time by name. Any other
    failed call raises: with no list of names there is nobody to hand the error to.
    """
    params = dict(Filters=[{"Key": "name", "Values": [prefix]}], MaxResults=BATCH_GET_SIZE)
    outcomes = {}
    while True:
        try:
            answer = calls("batch_get_secret_value", **params)
        except ClientError as error:
            if error_of(error)["code"] not in WHOLE_READ_REFUSED:
                raise
            return read_current_by_ids(calls, list_names_by_prefix(calls, prefix), concurrency)
        for entry in answer.get("SecretValues", []):
            if entry.get("Name", "").startswith(prefix):
                outcomes[entry["Name"]] = _outcome_of_value(entry)
        for error in answer.get("Errors", []):
            secret_id = error.get("SecretId") or ""
            name = secret_id.split(":secret:", 1)[-1][:-7] if secret_id.startswith(ARN_PREFIX) else secret_id
            if name.startswith(prefix):
                outcomes[name] = CurrentValue(error_code=error.get("ErrorCode") or "Error",
                                              error_message=error.get("Message") or "")
        if not answer.get("NextToken"):
            return outcomes
        params["NextToken"] = answer["NextToken"]


def list_names_by_prefix(calls, prefix: str) -> List[str]:
    """Names of the live secrets under prefix (ListSecrets, no values), for a stage other than AWSCURRENT."""
    params = dict(Filters=[{"Key": "name", "Values": [prefix]}], MaxResults=LIST_PAGE_SIZE)
    names = []
    while True:
        page = calls("list_secrets", **params)
        names += [entry["Name"] for entry in page.get("SecretList", []) if entry.get("Name", "").startswith(prefix)]
        if not page.get("NextToken"):
            return sorted(names)
        params["NextToken"] = page["NextToken"]


def read_stage_by_ids(calls, full_names: Sequence[str], stage: str, concurrency: int) -> Dict[str, CurrentValue]:
    """Values of one staging label: GetSecretValue with VersionStage, the only call that reads a stage."""

    def read(secret_id):
        try:
            return secret_id, _outcome_of_value(calls("get_secret_value", SecretId=secret_id, VersionStage=stage))
        except (BotoCoreError, ClientError) as error:
            return secret_id, _outcome_of_error(error_of(error))

    if not full_names:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(full_names)))) as pool:
        return dict(pool.map(read, full_names))


def read_all(calls, request: ReadRequest, concurrency: int) -> Dict[str, CurrentValue]:
    """Outcomes by full name: requested order for names, name order for a prefix."""
    if request.version_stage == CURRENT_STAGE:
        if request.whole_prefix:
            outcomes = read_current_by_prefix(calls, request.prefix, concurrency)
            return {name: outcomes[name] for name in sorted(outcomes)}
        return read_current_by_ids(calls, request.full_names, concurrency)
    names = request.full_names or tuple(list_names_by_prefix(calls, request.prefix))
    outcomes = read_stage_by_ids(calls, names, request.version_stage, concurrency)
    return {name: outcomes[name] for name in names}


# --------------------------------------------------------------------------- results


def problem_kind(outcome: CurrentValue) -> Optional[str]:
    """missing, denied or deleted for the errors the on_* options govern; None for any other error."""
    if outcome.error_code == "ResourceNotFoundException":
        return "missing"
    if outcome.error_code == "AccessDeniedException":
        return "denied"
    message = (outcome.error_message or "").lower()
    if outcome.error_code == "InvalidRequestException" and ("marked for deletion" in message
                                                            or "marked deleted" in message):
        return "deleted"
    return None


class LookupReadError(Exception):
    """Secrets that could not be read and whose on_* option (or error kind) says to fail."""


def _value_of(name: str, outcome: CurrentValue, parse_json: bool):
    if outcome.binary is not None:
        return base64.b64encode(outcome.binary).decode("ascii")
    if outcome.string is None:
        raise LookupReadError("secret {0!r} has no value in the requested stage".format(name))
    if not parse_json:
        return outcome.string
    try:
        return json.loads(outcome.string)
    except ValueError as error:
        # JSONDecodeError's message carries only a position; its .doc (the value) is never used.
        position = "line {0} column {1}".format(error.lineno, error.colno) if hasattr(error, "lineno") else "?"
        raise LookupReadError("secret {0!r} is not valid JSON (at {1}); use json=false to read it as text"
                              .format(name, position)) from None


def assemble(outcomes: Dict[str, CurrentValue], request: ReadRequest, warn: Callable[[str], None]) -> dict:
    """The lookup's dict (full name -> value), after on_missing/on_denied/on_deleted.

    Every failure is collected before raising, so one run names all of them.
    """
    # AWS text in the failures is masked for every value this lookup read, in one linear scan each.
    masker = Masker()
    for outcome in outcomes.values():
        masker.add_value(outcome.binary if outcome.binary is not None else outcome.string)
    values_by_name = {}
    failures = []
    for name, outcome in outcomes.items():
        if not outcome.failed:
            try:
                values_by_name[name] = _value_of(name, outcome, request.parse_json)
            except LookupReadError as error:
                failures.append(str(error))
            continue
        kind = problem_kind(outcome)
        action = request.on_problem.get(kind, "error") if kind else "error"
        reason = "{0}: {1}".format(outcome.error_code, masker.mask(outcome.error_message or "")).rstrip(": ")
        if action == "warn":
            warn("Skipping secret {0!r} ({1}, {2}={3}): {4}".format(name, kind, PROBLEM_OPTIONS[kind], action, reason))
        elif action == "error":
            failures.append("secret {0!r}{1}: {2}".format(name, " is " + kind if kind else " could not be read",
                                                          reason))
    if failures:
        raise LookupReadError("; ".join(failures))
    return values_by_name

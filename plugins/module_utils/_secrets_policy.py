# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Resource policies: parsing, rendering `readers`, and comparing as normalised JSON.

Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

# Stands for "remove the resource policy": the user gave {} or "".
REMOVE_POLICY = "remove"

READERS_SID = "EnvopsAwsSecretsReaders"
READER_ACTIONS = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
POLICY_VERSION = "2012-10-17"
# Secrets Manager's limit on a resource policy, in characters of the JSON text sent.
MAX_POLICY_CHARACTERS = 20480

# Roles, users (with paths) and accounts, as ARNs; a bare 12-digit account id is an account too.
READER_ARN_PATTERN = re.compile(
    r"^(?:\d{12}|arn:aws(?:-[a-z]+)*:iam::\d{12}:(?:root|(?:role|user)/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,128}))$"
)


class PolicyError(ValueError):
    """A policy that cannot be used; the message says why."""


def parse_policy(policy) -> object:
    """A dict, REMOVE_POLICY for {} or "", or None when unset. JSON strings are parsed."""
    if policy is None:
        return None
    if isinstance(policy, str):
        if not policy.strip():
            return REMOVE_POLICY
        try:
            policy = json.loads(policy)
        except ValueError as error:
            raise PolicyError("resource_policy is not valid JSON ({0})".format(error)) from None
    if not isinstance(policy, dict):
        raise PolicyError("resource_policy must be a JSON object, not a {0}".format(type(policy).__name__))
    if not policy:
        return REMOVE_POLICY
    statements = policy.get("Statement")
    if statements is None or not isinstance(statements, (dict, list)):
        raise PolicyError("resource_policy has no Statement")
    return policy


def bad_reader_arns(readers: Sequence[str]) -> List[str]:
    return [reader for reader in readers if not READER_ARN_PATTERN.fullmatch(str(reader))]


def _principal(reader: str) -> str:
    if reader.isdigit():
        return "arn:aws:iam::{0}:root".format(reader)
    return reader


def render_policy(resource_policy, readers: Optional[Sequence[str]]):
    """The policy to hold: the declared one plus a least-privilege statement for `readers`.

    None when neither is managed, REMOVE_POLICY when the result has no statement.
    """
    if resource_policy is None and readers is None:
        return None
    base = {} if resource_policy in (None, REMOVE_POLICY) else resource_policy
    statements = base.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else list(statements)
    if readers is not None:
        statements = [statement for statement in statements if statement.get("Sid") != READERS_SID]
        if readers:
            statements.append({
                "Sid": READERS_SID,
                "Effect": "Allow",
                "Principal": {"AWS": sorted({_principal(reader) for reader in readers})},
                "Action": list(READER_ACTIONS),
                "Resource": "*",
            })
    if not statements:
        return REMOVE_POLICY
    return dict(base, Version=base.get("Version", POLICY_VERSION), Statement=statements)


def policies_differ(current: Optional[dict], desired) -> bool:
    """Compare as normalised JSON: statement order and string-versus-list forms never count."""
    if desired is None:
        return False
    if desired == REMOVE_POLICY:
        return current is not None
    if current is None:
        return True
    return compare_policies(current, desired, default_version=POLICY_VERSION)


def load_current_policy(text: Optional[str]) -> Optional[dict]:
    """The policy GetResourcePolicy returned, or None."""
    if not text:
        return None
    try:
        policy = json.loads(text)
    except ValueError:
        return {"unparseable": text}
    return policy or None


@dataclass(frozen=True)
class ReadersOnly:
    """`readers` without `resource_policy`: only the readers statement is managed, in the current policy."""

    readers: Tuple[str, ...]


def policy_text(policy: dict) -> str:
    """The JSON text PutResourcePolicy is sent, which is what its size limit counts."""
    return json.dumps(policy, sort_keys=True)


def policy_too_large(policy) -> Optional[str]:
    """A message when the policy's text is over Secrets Manager's limit, else None."""
    if not isinstance(policy, dict):
        return None
    length = len(policy_text(policy))
    if length <= MAX_POLICY_CHARACTERS:
        return None
    return "the resource policy is {0} characters, over the limit of {1}".format(length, MAX_POLICY_CHARACTERS)


def merge_readers(current_policy: Optional[dict], readers_only: ReadersOnly):
    """The current policy with only the readers statement replaced (or removed, for no readers).

    Statements set outside this task are kept as they are. REMOVE_POLICY when nothing is left.
    """
    return render_policy(current_policy, readers_only.readers)


POLICY_NOT_READ = {"code": "PolicyNotRead",
                   "message": "readers are merged into the current resource policy, which cannot be read while the "
                              "secret is scheduled for deletion; restore it first, then manage readers"}
POLICY_NOT_PARSED = {"code": "PolicyNotParsed",
                     "message": "the current resource policy is not valid JSON, so readers cannot be merged into it"}


def policy_write(declared_policy, current) -> Tuple[object, Optional[str], Optional[dict]]:
    """(the policy once applied, "put", "delete" or None, error) for a declared policy and a current secret.

    The planner and the pre-plan ValidateResourcePolicy pass both ask here, so they agree on what is put.
    A policy of None is not managed; `readers` alone are merged into the current policy.
    """
    if declared_policy is None:
        return None, None, None
    if isinstance(declared_policy, ReadersOnly):
        if current is not None and not current.policy_read:
            return None, None, dict(POLICY_NOT_READ)
        current_policy = current.policy if current is not None else None
        if isinstance(current_policy, dict) and "unparseable" in current_policy:
            return None, None, dict(POLICY_NOT_PARSED)
        declared_policy = merge_readers(current_policy, declared_policy)
        too_large = policy_too_large(declared_policy)
        if too_large:
            return None, None, {"code": "PolicyTooLarge", "message": too_large + " once the readers are merged in"}
    after = None if declared_policy == REMOVE_POLICY else declared_policy
    unknown = current is not None and not current.policy_read  # a deleted secret's policy cannot be read
    if not unknown and not policies_differ(current.policy if current is not None else None, declared_policy):
        return after, None, None
    if after is None:
        return after, ("delete" if current is not None else None), None
    return after, "put", None

# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Validation of aws_secrets_manager_set's options into declared secrets.

Every check runs before the first AWS call and every problem is collected, so one error
message names all offending items at once. Internal to the envops.aws_secrets collection.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import OWNER_TAG_KEY
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import OWNER_TAG_VALUE
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import PolicyError
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import ReadersOnly
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import bad_reader_arns
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import parse_policy
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import policy_too_large
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import render_policy
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import MAX_VALUE_BYTES
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import SecretPayload
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import binary_payload
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import decode_base64
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import json_payload
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_mask import payload_forms
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import payload_size
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import string_payload

# Every pattern is used with fullmatch(): "$" alone also matches before a final newline.
NAME_PATTERN = re.compile(r"[A-Za-z0-9/_+=.@-]+")
MAX_NAME_LENGTH = 512
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256
MAX_TAGS = 50
MIN_CONCURRENCY, MAX_CONCURRENCY = 1, 64
MAX_PASSWORD_LENGTH = 4096
VALUE_OPTIONS = ("value", "json_value", "binary_value", "generate")
LAMBDA_ARN_PATTERN = re.compile(r"arn:aws(?:-[a-z]+)*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]{1,64}(?::[\w$-]+)?")
REGION_PATTERN = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
DURATION_PATTERN = re.compile(r"(?:[1-9]|1\d|2[0-4])h")
# ECS and Lambda take environment-variable names of letters, digits and underscores, not starting with a digit.
ENV_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MIN_ROTATION_DAYS, MAX_ROTATION_DAYS = 1, 1000


@dataclass(frozen=True)
class DeclaredSecret:
    """One secret as the task declares it. None in an attribute means "not managed"."""

    label: str  # where it came from, for messages: "names[3]" or "secrets[0]"
    full_name: str
    state: str
    description: Optional[str] = None
    tags: Optional[dict] = None
    purge_tags: bool = True
    kms_key_id: Optional[str] = None
    payload: Optional[SecretPayload] = field(default=None, repr=False)
    generate: Optional[dict] = None
    overwrite: bool = False
    recovery_window: int = 30
    restore: bool = True
    policy: object = None  # rendered policy dict, REMOVE_POLICY, or None (not managed)
    block_public_policy: bool = True
    rotation: Optional[dict] = None  # {"enabled", "lambda_arn", "rules", "rotate_immediately"}
    replicas: Optional[Tuple[Tuple[str, Optional[str]], ...]] = None  # (region, kms_key_id)
    purge_replicas: bool = True
    force_overwrite_replica: bool = False
    current_version_id: Optional[str] = None
    readers: Optional[Tuple[str, ...]] = None  # the declared readers, for the cross-account KMS check
    json_merge: bool = False  # manage only the declared top-level keys of json_value
    adopt: bool = False  # add the ownership tag to an existing secret that lacks it
    env_name: Optional[str] = None  # the variable name in ecs_secrets / lambda_environment; None: derived


@dataclass
class Declaration:
    """The validated task: declared secrets in input order, plus what applies to all of them."""

    secrets: List[DeclaredSecret]
    prefix: str
    prune: bool
    prune_recovery_window: int
    concurrency: int
    fail_fast: bool
    sensitive_values: set = field(repr=False)


class DeclarationError(Exception):
    """Bad input: the message lists every offending item."""

    def __init__(self, problems: List[str]):
        self.problems = problems
        super().__init__(
            "Invalid input, nothing was changed ({0} problem{1}):\n- {2}".format(
                len(problems), "" if len(problems) == 1 else "s", "\n- ".join(problems)
            )
        )


def _describe(label: str, name: Optional[str]) -> str:
    return "{0} ({1!r})".format(label, name) if name else label


def _check_name(full_name: str) -> List[str]:
    problems = []
    if not full_name:
        problems.append("the name is empty")
    elif len(full_name) > MAX_NAME_LENGTH:
        problems.append(
            "the full name is {0} characters long, over the limit of {1}".format(len(full_name), MAX_NAME_LENGTH)
        )
    if full_name and not NAME_PATTERN.fullmatch(full_name):
        bad = sorted({char for char in full_name if not NAME_PATTERN.fullmatch(char)})
        problems.append(
            "the name has characters Secrets Manager does not allow ({0}); use letters, digits and /_+=.@-".format(
                " ".join(repr(char) for char in bad)
            )
        )
    return problems


def _check_prefix(prefix: str) -> List[str]:
    if prefix and not NAME_PATTERN.fullmatch(prefix):
        return ["prefix {0!r} has characters Secrets Manager does not allow".format(prefix)]
    return []


def _check_concurrency(concurrency: int) -> List[str]:
    if MIN_CONCURRENCY <= concurrency <= MAX_CONCURRENCY:
        return []
    return ["concurrency is {0}; it must be {1} to {2}".format(concurrency, MIN_CONCURRENCY, MAX_CONCURRENCY)]


def _check_recovery_window(window: int, where: str) -> List[str]:
    if window == 0 or 7 <= window <= 30:
        return []
    return ["{0} is {1}; it must be 0 (delete without recovery) or 7 to 30 days".format(where, window)]


def _check_tags(tags: dict, where: str) -> Tuple[dict, List[str]]:
    """Tags as strings; AWS keeps tag values as strings, so 8080 and "8080" are one tag."""
    problems = []
    normalised = {}
    for key, value in tags.items():
        key_text = str(key)
        if isinstance(value, (dict, list)):
            problems.append(
                "{0}: tag {1!r} has a {2} value; tag values are strings".format(where, key_text, type(value).__name__)
            )
            continue
        if value is None:
            # Almost always a variable that rendered to nothing; an empty tag must be asked for as "".
            problems.append(
                "{0}: tag {1!r} has no value (null); give a string, or \"\" for an empty tag".format(where, key_text)
            )
            continue
        value_text = str(value)
        if isinstance(value, bool):
            value_text = value_text.lower()
        if not key_text or len(key_text) > MAX_TAG_KEY_LENGTH:
            problems.append(
                "{0}: tag key {1!r} must be 1 to {2} characters".format(where, key_text, MAX_TAG_KEY_LENGTH)
            )
        if key_text.lower().startswith("aws:"):
            problems.append("{0}: tag key {1!r} uses the reserved prefix 'aws:'".format(where, key_text))
        if key_text == OWNER_TAG_KEY:
            problems.append("{0}: tag key {1!r} is the collection's ownership tag; it is set on the secrets the module "
                            "creates, and adopt: true sets it on existing ones".format(where, key_text))
        if len(value_text) > MAX_TAG_VALUE_LENGTH:
            problems.append(
                "{0}: the value of tag {1!r} is over {2} characters".format(where, key_text, MAX_TAG_VALUE_LENGTH)
            )
        normalised[key_text] = value_text
    if len(normalised) > MAX_TAGS:
        problems.append("{0}: {1} tags, over the limit of {2}".format(where, len(normalised), MAX_TAGS))
    return normalised, problems


def _check_generate(generate: dict, where: str) -> List[str]:
    problems = []
    length = generate.get("length")
    if length is None or not 1 <= length <= MAX_PASSWORD_LENGTH:
        problems.append("{0}: generate.length is {1}; it must be 1 to {2}".format(where, length, MAX_PASSWORD_LENGTH))
    if all(
        generate.get(option)
        for option in ("exclude_punctuation", "exclude_numbers", "exclude_uppercase", "exclude_lowercase")
    ) and not generate.get("include_space"):
        problems.append("{0}: generate excludes every kind of character".format(where))
    if generate.get("json_key") == "":
        problems.append("{0}: generate.json_key is empty".format(where))
    return problems


def _policy_of(policy_option, readers, where: str) -> Tuple[object, List[str]]:
    """The rendered policy from resource_policy and readers."""
    problems = []
    try:
        parsed = parse_policy(policy_option)
    except PolicyError as error:
        return None, ["{0}: {1}".format(where, error)]
    if readers is not None:
        bad = bad_reader_arns(readers)
        if bad:
            problems.append("{0}: readers are not IAM role, user or account ARNs: {1}".format(
                where, ", ".join(repr(reader) for reader in bad)))
    if problems:
        return None, problems
    if parsed is None and readers is not None:
        # Only the readers statement is managed; it is merged into the current policy once that is read.
        return ReadersOnly(tuple(str(reader) for reader in readers)), []
    rendered = render_policy(parsed, readers)
    too_large = policy_too_large(rendered)
    if too_large:
        return None, ["{0}: {1}".format(where, too_large)]
    return rendered, []


def _rotation_of(rotation: Optional[dict], where: str) -> Tuple[Optional[dict], List[str]]:
    """The declared rotation as the API names it; the schedule is either days or an expression."""
    if rotation is None:
        return None, []
    if not rotation.get("enabled", True):
        return {"enabled": False}, []
    problems = []
    lambda_arn = rotation.get("lambda_arn")
    if not lambda_arn:
        problems.append("{0}: rotation needs lambda_arn (or enabled: false to cancel rotation)".format(where))
    elif not LAMBDA_ARN_PATTERN.fullmatch(lambda_arn):
        problems.append("{0}: rotation.lambda_arn {1!r} is not a Lambda function ARN".format(where, lambda_arn))
    days, expression = rotation.get("automatically_after_days"), rotation.get("schedule_expression")
    rules = {}
    if (days is None) == (expression is None):
        problems.append("{0}: rotation needs exactly one of automatically_after_days and schedule_expression".format(
            where))
    elif days is not None:
        if not MIN_ROTATION_DAYS <= days <= MAX_ROTATION_DAYS:
            problems.append("{0}: rotation.automatically_after_days is {1}; it must be {2} to {3}".format(
                where, days, MIN_ROTATION_DAYS, MAX_ROTATION_DAYS))
        rules["AutomaticallyAfterDays"] = days
    else:
        if not expression.startswith(("rate(", "cron(")) or not expression.endswith(")"):
            problems.append("{0}: rotation.schedule_expression {1!r} must be rate(...) or cron(...)".format(
                where, expression))
        rules["ScheduleExpression"] = expression
    if rotation.get("duration") is not None:
        if not DURATION_PATTERN.fullmatch(rotation["duration"]):
            problems.append("{0}: rotation.duration {1!r} must be 1h to 24h".format(where, rotation["duration"]))
        rules["Duration"] = rotation["duration"]
    if problems:
        return None, problems
    return {"enabled": True, "lambda_arn": lambda_arn, "rules": rules,
            "rotate_immediately": bool(rotation.get("rotate_immediately"))}, []


def _declared_replicas(replica_regions: Optional[list], where: str, primary_region: Optional[str] = None):
    if replica_regions is None:
        return None, []
    problems = []
    seen = set()
    for replica in replica_regions:
        region = replica.get("region") or ""
        if not REGION_PATTERN.fullmatch(region):
            problems.append("{0}: replica region {1!r} is not an AWS region name".format(where, region))
        elif primary_region and region == primary_region:
            problems.append("{0}: replica region {1!r} is the region the secret itself is in; a secret cannot be "
                            "replicated to its own region".format(where, region))
        if region in seen:
            problems.append("{0}: replica region {1!r} is listed twice".format(where, region))
        seen.add(region)
    replicas = tuple(sorted((replica["region"], replica.get("kms_key_id")) for replica in replica_regions))
    return replicas, problems


def _item_or_module(item: dict, params: dict, option: str):
    return item[option] if item.get(option) is not None else params.get(option)


def _declared_readers(item: dict, params: dict) -> Optional[Tuple[str, ...]]:
    readers = _item_or_module(item, params, "readers")
    return None if readers is None else tuple(str(reader) for reader in readers)


def _payload_of(item: dict, where: str) -> Tuple[Optional[SecretPayload], List[str]]:
    """The stored form of the item's value option; messages never quote the value."""
    try:
        if item.get("value") is not None:
            payload = string_payload(item["value"])
        elif item.get("json_value") is not None:
            document, problem = _json_document(item["json_value"])
            if problem:
                return None, ["{0}: json_value {1}".format(where, problem)]
            payload = json_payload(document)
        elif item.get("binary_value") is not None:
            payload = binary_payload(decode_base64(item["binary_value"]))
        else:
            return None, []
        size = payload_size(payload)  # UTF-8 bytes: a lone surrogate cannot be encoded
    except UnicodeEncodeError:
        return None, ["{0}: the value has text that is not valid Unicode (a lone surrogate)".format(where)]
    except ValueError as error:
        return None, ["{0}: binary_value {1}".format(where, error)]
    except TypeError:
        return None, ["{0}: json_value cannot be stored as JSON".format(where)]
    if size > MAX_VALUE_BYTES:
        return None, ["{0}: the value is {1} bytes, over the limit of {2}".format(where, size, MAX_VALUE_BYTES)]
    if size == 0:
        return None, ["{0}: the value is empty; Secrets Manager does not store an empty value".format(where)]
    return payload, []


def _json_document(json_value) -> Tuple[object, Optional[str]]:
    """A JSON object or array, given as such or as JSON text; messages never quote the value."""
    document = json_value
    if isinstance(json_value, str):
        try:
            document = json.loads(json_value)
        except ValueError:
            return None, "is not valid JSON text"
    if isinstance(document, (dict, list)):
        return document, None
    return None, "must be a JSON object or array, not a {0}; give a plain string as value".format(
        "JSON text of a scalar" if isinstance(json_value, str) else type(json_value).__name__)


def _name_problem(name) -> Optional[str]:
    """An empty, null or whitespace-only name would otherwise become exactly the prefix."""
    if name is None:
        return "the name is null"
    if not str(name).strip():
        return "the name is empty or only whitespace"
    return None


def _declared_items(params: dict) -> List[Tuple[str, dict]]:
    """names and secrets as one list of (label, item) in input order."""
    items = [("names[{0}]".format(index), {"name": name}) for index, name in enumerate(params.get("names") or [])]
    items += [("secrets[{0}]".format(index), item) for index, item in enumerate(params.get("secrets") or [])]
    return items


def declare(params: dict, region: Optional[str] = None) -> Declaration:
    """Validate the module's params; raise DeclarationError naming every offending item.

    region is the module's own region, where a replica cannot go; None skips that check.
    """
    problems: List[str] = []
    sensitive_values: set = set()
    prefix = params.get("prefix") or ""

    problems += _check_prefix(prefix)
    concurrency = params.get("concurrency")
    problems += _check_concurrency(concurrency)
    problems += _check_recovery_window(params["recovery_window"], "recovery_window")
    if params.get("prune") and not prefix:
        problems.append("prune needs a prefix: without one it would consider every secret in the account")
    elif params.get("prune") and not prefix.endswith("/"):
        problems.append(
            "prune needs a prefix that ends in '/': ListSecrets matches names as text, so prefix {0!r} would also "
            "take in the secrets of other paths, such as {1!r}. Write prefix: {2!r} to prune only the secrets under "
            "that path".format(prefix, prefix + "-other/db", prefix + "/")
        )
    module_tags = None
    if params.get("tags") is not None:
        module_tags, tag_problems = _check_tags(params["tags"], "tags")
        problems += tag_problems
    if params.get("generate") is not None:
        problems += _check_generate(params["generate"], "generate")

    module_policy, policy_problems = _policy_of(params.get("resource_policy"), params.get("readers"), "module")
    module_rotation, rotation_problems = _rotation_of(params.get("rotation"), "module")
    module_replicas, replica_problems = _declared_replicas(params.get("replica_regions"), "module", region)
    problems += policy_problems + rotation_problems + replica_problems

    items = _declared_items(params)
    if not items and not params.get("prune"):
        problems.append("nothing is declared: give names or secrets (or prune with a prefix)")

    declared: List[DeclaredSecret] = []
    first_label_by_name = {}
    first_label_by_env_name = {}
    for label, item in items:
        name = item.get("name")
        where = _describe(label, name)
        full_name = prefix + (name or "")
        if _name_problem(name):
            item_problems = ["{0}: {1}".format(label if name is None else "{0} ({1!r})".format(label, name),
                                               _name_problem(name))]
        else:
            item_problems = ["{0}: {1}".format(where, problem) for problem in _check_name(full_name)]
        if full_name in first_label_by_name:
            item_problems.append(
                "{0}: duplicate of {1}; the full name {2!r} is declared twice".format(
                    where, first_label_by_name[full_name], full_name
                )
            )
        else:
            first_label_by_name[full_name] = label

        given_value_options = [option for option in VALUE_OPTIONS if item.get(option) is not None]
        if len(given_value_options) > 1:
            item_problems.append(
                "{0}: give at most one of {1}; got {2}".format(
                    where, ", ".join(VALUE_OPTIONS), ", ".join(given_value_options)
                )
            )
            payload = None
        else:
            payload, payload_problems = _payload_of(item, where)
            item_problems += payload_problems
        if payload is not None:
            sensitive_values |= payload_forms(payload)

        recovery_window = item.get("recovery_window")
        if recovery_window is None:
            recovery_window = params["recovery_window"]
        else:
            item_problems += _check_recovery_window(recovery_window, "{0}: recovery_window".format(where))

        tags = module_tags
        if item.get("tags") is not None:
            item_tags, tag_problems = _check_tags(item["tags"], where)
            item_problems += tag_problems
            tags = dict(module_tags or {}, **item_tags)
        if tags is not None and len(tags) + 1 > MAX_TAGS:
            # The ownership tag joins the declared ones on every secret the module creates or adopts.
            item_problems.append(
                "{0}: {1} tags once merged, plus the ownership tag {2}={3}, over the limit of {4}".format(
                    where, len(tags), OWNER_TAG_KEY, OWNER_TAG_VALUE, MAX_TAGS)
            )

        policy = module_policy
        if item.get("resource_policy") is not None or item.get("readers") is not None:
            policy, policy_problems = _policy_of(_item_or_module(item, params, "resource_policy"),
                                                 _item_or_module(item, params, "readers"), where)
            item_problems += policy_problems
        rotation = module_rotation
        if item.get("rotation") is not None:
            rotation, rotation_problems = _rotation_of(item["rotation"], where)
            item_problems += rotation_problems
        replicas = module_replicas
        if item.get("replica_regions") is not None:
            replicas, replica_problems = _declared_replicas(item["replica_regions"], where, region)
            item_problems += replica_problems
        current_version_id = item.get("current_version_id")
        if current_version_id is not None and given_value_options:
            item_problems.append(
                "{0}: current_version_id picks an existing version; it cannot go with {1}".format(
                    where, ", ".join(given_value_options))
            )

        json_merge = bool(_item_or_module(item, params, "json_merge"))
        if item.get("json_merge") and item.get("json_value") is None:
            item_problems.append("{0}: json_merge manages the keys of json_value, which is not given".format(where))
        json_merge = json_merge and payload is not None and payload.kind == "json"
        if json_merge and not isinstance(payload.parsed_json, dict):
            item_problems.append("{0}: json_merge needs json_value to be a JSON object".format(where))
        env_name = item.get("env_name")
        if env_name is not None:
            if not ENV_NAME_PATTERN.fullmatch(env_name):
                item_problems.append("{0}: env_name {1!r} must be letters, digits and underscores, not starting "
                                     "with a digit".format(where, env_name))
            elif env_name in first_label_by_env_name:
                item_problems.append("{0}: env_name {1!r} is also given to {2}".format(
                    where, env_name, first_label_by_env_name[env_name]))
            else:
                first_label_by_env_name[env_name] = label

        generate = item.get("generate")
        if generate is not None:
            item_problems += _check_generate(generate, where)
        elif payload is None and not given_value_options:
            generate = params.get("generate")

        problems += item_problems
        if item_problems:
            continue
        declared.append(
            DeclaredSecret(
                label=label,
                full_name=full_name,
                state=item.get("state") or params["state"],
                description=item["description"] if item.get("description") is not None else params.get("description"),
                tags=tags,
                purge_tags=_item_or_module(item, params, "purge_tags"),
                kms_key_id=item.get("kms_key_id") or params.get("kms_key_id"),
                payload=payload,
                generate=generate if payload is None else None,
                overwrite=item["overwrite"] if item.get("overwrite") is not None else params["overwrite"],
                recovery_window=recovery_window,
                restore=_item_or_module(item, params, "restore"),
                policy=policy,
                block_public_policy=_item_or_module(item, params, "block_public_policy"),
                rotation=rotation,
                replicas=replicas,
                purge_replicas=_item_or_module(item, params, "purge_replicas"),
                force_overwrite_replica=_item_or_module(item, params, "force_overwrite_replica"),
                current_version_id=current_version_id,
                readers=_declared_readers(item, params),
                json_merge=json_merge,
                adopt=bool(_item_or_module(item, params, "adopt")),
                env_name=env_name,
            )
        )

    if problems:
        raise DeclarationError(problems)
    return Declaration(
        secrets=declared,
        prefix=prefix,
        prune=bool(params.get("prune")),
        prune_recovery_window=params["recovery_window"],
        concurrency=concurrency,
        fail_fast=bool(params.get("fail_fast")),
        sensitive_values=sensitive_values,
    )


def info_problems(params: dict) -> Tuple[List[str], Optional[dict]]:
    """aws_secrets_manager_info's input checks, the same rules as the set module's: (problems, tags)."""
    problems = []
    prefix = params.get("prefix") or ""
    problems += _check_prefix(prefix)
    for index, name in enumerate(params.get("names") or []):
        label = "names[{0}]".format(index)
        if _name_problem(name):
            problems.append("{0}: {1}".format(label if name is None else "{0} ({1!r})".format(label, name),
                                              _name_problem(name)))
            continue
        where = _describe(label, name)
        problems += ["{0}: {1}".format(where, problem) for problem in _check_name(prefix + (name or ""))]
    problems += _check_concurrency(params.get("concurrency"))
    tags = None
    if params.get("tags") is not None:
        tags, tag_problems = _check_tags(params["tags"], "tags")
        problems += tag_problems
    return problems, tags

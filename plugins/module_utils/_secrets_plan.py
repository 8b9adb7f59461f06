# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Planning: what each secret needs, computed without calling AWS.

plan_* functions are pure: declaration + CurrentState -> SecretPlan, whose writes are an ordered list of
steps. Check mode reports the plan; a real run carries out the very same steps, so both give the same
result and diff.
Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import List, Optional, Tuple

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import Declaration
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import DeclaredSecret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import MAX_TAGS
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_kms import same_key_text
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import OWNED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import OWNER_TAG_KEY
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import OWNER_TAG_VALUE
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import SERVICE
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import UNOWNED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import is_owned
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import owning_service
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_owner import ownership_of
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import policy_text
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import policy_write
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentState
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentValue
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import prunable
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import prune_candidates
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import MAX_VALUE_BYTES
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import SecretPayload
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import VALUE_NONE
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import VALUE_SET
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import VALUE_WILL_CHANGE
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import VALUE_WILL_GENERATE
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import dump_json
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import json_payload
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import payload_size
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import write_token

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
DELETED, RESTORED, ABSENT, FAILED = "deleted", "restored", "absent", "failed"
# Left alone because of ownership: an undeclared secret prune may not delete, or a service's secret.
SKIPPED = "skipped"
ACTIONS = (CREATED, UPDATED, UNCHANGED, DELETED, RESTORED, ABSENT, FAILED, SKIPPED)
CHANGING_ACTIONS = (CREATED, UPDATED, DELETED, RESTORED)

DEFAULT_KMS_ALIAS = "alias/aws/secretsmanager"


@dataclass(frozen=True)
class Step:
    """One write of a plan: a boto3 operation and its parameters, with the changes it makes.

    Parameters never hold a value: apply adds SecretId (the ARN, once the secret exists) and, for a step
    that writes_value, the payload. Check mode reports the same steps that a real run carries out.
    """

    operation: str
    params: dict = field(default_factory=dict)
    changes: Tuple[str, ...] = ()
    writes_value: bool = False


@dataclass(frozen=True)
class SecretPlan:
    """What one secret needs: its ordered write steps and the diff. Built once, never changed."""

    full_name: str
    label: str
    action: str
    declared: Optional[DeclaredSecret] = None
    current: Optional[CurrentSecret] = None
    changes: Tuple[str, ...] = ()
    steps: Tuple[Step, ...] = ()
    error: Optional[dict] = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    # json_merge: the stored object with the declared keys merged in; written instead of the declared payload.
    merged_payload: Optional[SecretPayload] = field(default=None, repr=False)
    ownership: Optional[str] = None  # owned, unowned or service once the plan is applied; None when absent

    @property
    def arn(self) -> Optional[str]:
        return self.current.arn if self.current else None

    @property
    def has_writes(self) -> bool:
        return bool(self.steps)

    @property
    def operations(self) -> Tuple[str, ...]:
        return tuple(step.operation for step in self.steps)

    def step(self, operation: str) -> Optional[Step]:
        """The plan's step of that operation, or None."""
        return next((step for step in self.steps if step.operation == operation), None)

    @property
    def value_token(self) -> Optional[str]:
        """The ClientRequestToken of the value write, which every retry sends again."""
        return next((step.params.get("ClientRequestToken") for step in self.steps if step.writes_value), None)

    @property
    def policy_managed(self) -> bool:
        return self.declared is not None and self.declared.policy is not None

    @property
    def rotation_enabled(self) -> bool:
        """Whether rotation is on once the plan is applied."""
        if self.declared is not None and self.declared.rotation is not None and self.action != FAILED:
            return self.declared.rotation["enabled"]
        return bool(self.current and self.current.rotation_enabled)


def failed_plan(full_name: str, label: str, declared: Optional[DeclaredSecret], current: Optional[CurrentSecret],
                error: dict, before: Optional[dict] = None) -> SecretPlan:
    """The one way to make a plan that cannot be carried out: no steps, and a diff that shows no change."""
    before = dict(before or {})
    return SecretPlan(full_name=full_name, label=label, action=FAILED, declared=declared, current=current,
                      error=dict(error), before=before, after=dict(before), ownership=ownership_of(current))


class _Draft:
    """A plan while it is built: its changes and steps in order, and the diff's "after"."""

    def __init__(self):
        self.changes: List[str] = []
        self.steps: List[Step] = []
        self.after: dict = {}

    def add(self, operation: str, changes: Tuple[str, ...] = (), writes_value: bool = False, **params) -> None:
        self.steps.append(Step(operation, params, tuple(changes), writes_value))


def same_kms_key(current: Optional[str], declared: str) -> bool:
    """Whether the declared key is the one in use, as text; no key in use means the AWS managed default."""
    return same_key_text(current, declared)


def _keys_match(kms_keys, region: Optional[str], current: Optional[str], declared: str):
    """(same key?, error): by key ARN where DescribeKey resolved both, else as text."""
    if kms_keys is None:
        return same_kms_key(current, declared), None
    return kms_keys.same_key(region, current, declared)


def _state_label(current: Optional[CurrentSecret]) -> str:
    if current is None:
        return "absent"
    return "scheduled for deletion" if current.scheduled_for_deletion else "present"


def _managed_view(declared: DeclaredSecret, current: Optional[CurrentSecret]) -> dict:
    """The managed attributes as they stand now, for the diff's "before"."""
    view = {"state": _state_label(current)}
    if current is None:
        return view
    if declared is None or declared.description is not None:
        view["description"] = current.description or ""
    if declared is None or declared.tags is not None:
        view["tags"] = dict(current.tags)
    if declared is None or declared.kms_key_id is not None:
        view["kms_key_id"] = current.kms_key_id or DEFAULT_KMS_ALIAS
    if declared is None or declared.payload is not None or declared.generate is not None:
        view["value"] = VALUE_SET if current.has_value else VALUE_NONE
    if declared is not None and declared.policy is not None:
        view["resource_policy"] = current.policy
    if declared is not None and declared.rotation is not None:
        view["rotation"] = _rotation_view(current)
    if (declared is None or declared.replicas is not None) and current.replicas is not None:
        view["replicas"] = [{"region": replica["region"], "kms_key_id": replica["kms_key_id"]}
                            for replica in current.replicas]
    if declared is not None and declared.current_version_id is not None:
        view["current_version_id"] = current.current_version_id
    return view


def _rotation_view(current: CurrentSecret) -> dict:
    if not current.rotation_enabled:
        return {"enabled": False}
    return {"enabled": True, "lambda_arn": current.rotation_lambda_arn, "rules": dict(current.rotation_rules)}


_RATE_IN_DAYS = re.compile(r"rate\(\s*(\d+)\s+days?\s*\)")


def _schedule_key(rules: dict):
    """One form for "every N days", however it was said: AutomaticallyAfterDays or rate(N days)."""
    expression = (rules.get("ScheduleExpression") or "").strip()
    match = _RATE_IN_DAYS.fullmatch(expression)
    if match:
        return ("days", int(match.group(1)))
    if expression:
        return ("expression", " ".join(expression.split()))
    if rules.get("AutomaticallyAfterDays"):
        return ("days", int(rules["AutomaticallyAfterDays"]))
    return None


def rotation_matches(current: CurrentSecret, declared_rotation: dict) -> bool:
    """Whether the service's rotation is the declared one; only declared rule keys are compared."""
    if not current.rotation_enabled or current.rotation_lambda_arn != declared_rotation["lambda_arn"]:
        return False
    declared_rules = declared_rotation["rules"]
    if _schedule_key(current.rotation_rules) != _schedule_key(declared_rules):
        return False
    return "Duration" not in declared_rules or current.rotation_rules.get("Duration") == declared_rules["Duration"]


def replica_failed(replica: dict) -> bool:
    return (replica.get("status") or "").lower() == "failed"


def replication_failure(region: str, status_message: Optional[str]) -> dict:
    """The error of a secret whose replica AWS reports as Failed, with AWS's own status message."""
    return {"code": "ReplicationFailed",
            "message": "the replica in {0} failed: {1}. force_overwrite_replica: true removes it and replicates "
                       "again, overwriting a secret of the same name there".format(
                           region, status_message or "no status message")}


def _value_decision(declared: DeclaredSecret, current: CurrentSecret, current_value: Optional[CurrentValue]):
    """(write the value?, marker for the diff, error): never regenerate, never overwrite unasked."""
    if declared.payload is None:
        if declared.generate is not None and not current.has_value:
            return True, VALUE_WILL_GENERATE, None
        return False, VALUE_SET if current.has_value else VALUE_NONE, None
    if not current.has_value:
        return True, VALUE_WILL_CHANGE, None
    if not declared.overwrite:
        return False, VALUE_SET, None
    if current.scheduled_for_deletion:
        # A deleted secret's value cannot be read: after the restore the declared value is written.
        return True, VALUE_WILL_CHANGE, None
    if current_value is None:
        return False, VALUE_SET, {"code": "NotRead", "message": "the current value was not read"}
    if current_value.error_code:
        return False, VALUE_SET, {"code": current_value.error_code, "message": current_value.error_message}
    if declared.payload.matches(current_value.string, current_value.binary):
        return False, VALUE_SET, None
    return True, VALUE_WILL_CHANGE, None


def _same_json(stored: object, declared: object) -> bool:
    """Type-strict: true is not 1, and 1 is not 1.0."""
    return dump_json(stored) == dump_json(declared)


def _merge_decision(declared: DeclaredSecret, current: CurrentSecret, current_value: Optional[CurrentValue]):
    """(merged payload or None, keys added, keys replaced, error) for json_merge on a secret that has a value.

    Only the declared top-level keys are managed: stored keys that are not declared are kept as they are.
    Messages name keys and kinds, never a value.
    """
    if current.scheduled_for_deletion:
        return None, [], [], {"code": "JsonMergeNeedsValue",
                              "message": "json_merge needs the stored value, which cannot be read while the secret is "
                                         "scheduled for deletion; restore it first (a run without json_merge)"}
    if current_value is None:
        return None, [], [], {"code": "NotRead", "message": "the current value was not read"}
    if current_value.error_code:
        return None, [], [], {"code": current_value.error_code, "message": current_value.error_message}
    stored = None
    if current_value.string is not None:
        try:
            stored = json.loads(current_value.string)
        except ValueError:
            stored = None
    if not isinstance(stored, dict):
        kind = "binary" if current_value.string is None else (
            "not JSON" if stored is None else "a JSON {0}".format(type(stored).__name__))
        return None, [], [], {"code": "NotJsonObject",
                              "message": "json_merge needs the stored value to be a JSON object, and it is "
                                         "{0}; give value or json_value without json_merge to replace it".format(kind)}
    merged, added, replaced = dict(stored), [], []
    for key, value in declared.payload.parsed_json.items():
        if key not in stored:
            merged[key] = value
            added.append(key)
        elif declared.overwrite and not _same_json(stored[key], value):
            merged[key] = value
            replaced.append(key)
    if not added and not replaced:
        return None, [], [], None
    payload = json_payload(merged)
    size = payload_size(payload)
    if size > MAX_VALUE_BYTES:
        return None, [], [], {"code": "ValueTooLarge", "message": "the merged value is {0} bytes, over the limit of "
                                                                  "{1}".format(size, MAX_VALUE_BYTES)}
    return payload, sorted(added), sorted(replaced), None


def _plan_tags(draft: _Draft, declared: DeclaredSecret, current: CurrentSecret) -> Tuple[List[Step], Optional[dict]]:
    """(tag steps, error): declared tags, merged with the ownership tag; purge_tags never removes it, adopt adds it.

    The changes and the diff go in the draft now; the steps run after the metadata update.
    """
    adopting = declared.adopt and not is_owned(current)
    if declared.tags is None and not adopting:
        return [], None
    if declared.tags is not None:
        desired, purge = dict(declared.tags), declared.purge_tags
    else:
        desired, purge = {}, False
    if OWNER_TAG_KEY in current.tags:
        desired[OWNER_TAG_KEY] = current.tags[OWNER_TAG_KEY]
    if adopting:
        desired[OWNER_TAG_KEY] = OWNER_TAG_VALUE
    tags_to_set, tags_to_remove = compare_aws_tags(current.tags, desired, purge)
    after_tags = {key: value for key, value in current.tags.items() if key not in tags_to_remove}
    after_tags.update(tags_to_set)
    if len(after_tags) > MAX_TAGS:
        return [], {"code": "TooManyTags",
                    "message": "{0} tags once merged with the current ones, over the limit of {1}".format(
                        len(after_tags), MAX_TAGS)}
    labels = []
    if declared.tags is not None:
        draft.after["tags"] = after_tags
        if set(tags_to_set) - {OWNER_TAG_KEY} or tags_to_remove:
            labels.append("tags")
    if adopting:
        draft.after["ownership"] = OWNED
        labels.append("ownership")
    draft.changes += labels
    steps = []
    if tags_to_set:
        steps.append(Step("tag_resource", {"Tags": ansible_dict_to_boto3_tag_list(tags_to_set)}, tuple(labels)))
    if tags_to_remove:
        steps.append(Step("untag_resource", {"TagKeys": list(tags_to_remove)}, tuple(labels)))
    return steps, None


def _plan_policy(draft: _Draft, declared: DeclaredSecret, current: Optional[CurrentSecret]) -> Optional[dict]:
    after_policy, write, error = policy_write(declared.policy, current)
    if error or declared.policy is None:
        return error
    draft.after["resource_policy"] = after_policy
    if write == "put":
        draft.add("put_resource_policy", ("resource_policy",), ResourcePolicy=policy_text(after_policy),
                  BlockPublicPolicy=declared.block_public_policy)
    elif write == "delete":
        draft.add("delete_resource_policy", ("resource_policy",))
    if write:
        draft.changes.append("resource_policy")
    return None


def _plan_replicas(draft: _Draft, declared: DeclaredSecret, current: Optional[CurrentSecret],
                   kms_keys) -> Optional[dict]:
    if declared.replicas is None:
        return None
    current_replicas = {replica["region"]: replica for replica in (current.replicas or ())} if current else {}
    to_remove, to_add = [], []
    for region, kms_key_id in declared.replicas:
        existing = current_replicas.get(region)
        failed = existing is not None and replica_failed(existing)
        if failed and not declared.force_overwrite_replica:
            return replication_failure(region, existing.get("status_message"))
        if existing is not None and not failed:
            same, key_error = (True, None) if kms_key_id is None else _keys_match(
                kms_keys, region, existing["kms_key_id"], kms_key_id)
            if key_error:
                return key_error
            if same:
                continue
        if existing is not None:
            to_remove.append(region)  # a replica is re-keyed by replacing it
        to_add.append(dict({"Region": region}, **({"KmsKeyId": kms_key_id} if kms_key_id else {})))
    if declared.purge_replicas:
        to_remove += sorted(region for region in current_replicas if region not in dict(declared.replicas))
    kept = {region: replica["kms_key_id"] for region, replica in current_replicas.items() if region not in to_remove}
    kept.update({entry["Region"]: entry.get("KmsKeyId") for entry in to_add})
    draft.after["replicas"] = [{"region": region, "kms_key_id": kept[region]} for region in sorted(kept)]
    if to_remove:
        draft.add("remove_regions_from_replication", ("replicas",), RemoveReplicaRegions=to_remove)
    if to_add:
        draft.add("replicate_secret_to_regions", ("replicas",), AddReplicaRegions=to_add,
                  ForceOverwriteReplicaSecret=declared.force_overwrite_replica)
    if to_add or to_remove:
        draft.changes.append("replicas")
    return None


def _plan_rotation(draft: _Draft, declared: DeclaredSecret, current: Optional[CurrentSecret]) -> None:
    rotation = declared.rotation
    if rotation is None:
        return
    if not rotation["enabled"]:
        draft.after["rotation"] = {"enabled": False}
        if current is None or not current.rotation_enabled:
            return
        draft.add("cancel_rotate_secret", ("rotation",))
    else:
        draft.after["rotation"] = {"enabled": True, "lambda_arn": rotation["lambda_arn"],
                                   "rules": dict(rotation["rules"])}
        if current is not None and rotation_matches(current, rotation):
            return
        draft.add("rotate_secret", ("rotation",), RotationLambdaARN=rotation["lambda_arn"],
                  RotationRules=dict(rotation["rules"]), RotateImmediately=rotation["rotate_immediately"])
    draft.changes.append("rotation")


def _plan_version_stage(draft: _Draft, declared: DeclaredSecret, current: Optional[CurrentSecret]) -> Optional[dict]:
    target = declared.current_version_id
    if target is None:
        return None
    draft.after["current_version_id"] = target
    current_version_id = current.current_version_id if current else None
    if target == current_version_id:
        return None
    known = set(current.version_ids) | set(current.all_version_ids or ()) if current else set()
    if target not in known:
        return {"code": "UnknownVersionId", "message": "version {0} does not exist for this secret".format(target)}
    move = {"VersionStage": "AWSCURRENT", "MoveToVersionId": target}
    if current_version_id:
        move["RemoveFromVersionId"] = current_version_id
    draft.add("update_secret_version_stage", ("current_version_id",), **move)
    draft.changes.append("current_version_id")
    return None


def _plan_access(draft: _Draft, declared: DeclaredSecret, current: Optional[CurrentSecret],
                 kms_keys=None) -> Optional[dict]:
    """Policy, replicas, rotation and version stage, in this order, once the secret exists; the first error."""
    error = _plan_policy(draft, declared, current) or _plan_replicas(draft, declared, current, kms_keys)
    if error:
        return error
    _plan_rotation(draft, declared, current)
    return _plan_version_stage(draft, declared, current)


def _refused_policy(draft: _Draft, policy_error: Optional[dict]) -> Optional[dict]:
    """ValidateResourcePolicy's refusal of the policy this plan puts, if it puts one."""
    if policy_error and any(step.operation == "put_resource_policy" for step in draft.steps):
        return policy_error
    return None


def _plan_create(declared: DeclaredSecret, policy_error: Optional[dict] = None) -> SecretPlan:
    draft = _Draft()
    draft.after = {"state": "present"}
    create = {"Name": declared.full_name}
    writes_value = declared.payload is not None or declared.generate is not None
    if writes_value:
        draft.changes.append("value")
        draft.after["value"] = VALUE_WILL_CHANGE if declared.payload is not None else VALUE_WILL_GENERATE
    if declared.description is not None:
        create["Description"] = declared.description
        draft.changes.append("description")
        draft.after["description"] = declared.description
    # Every secret the module creates carries the ownership tag, so a later prune may delete it.
    create["Tags"] = ansible_dict_to_boto3_tag_list(dict(declared.tags or {}, **{OWNER_TAG_KEY: OWNER_TAG_VALUE}))
    if declared.tags is not None:
        if declared.tags:
            draft.changes.append("tags")
        draft.after["tags"] = dict(declared.tags, **{OWNER_TAG_KEY: OWNER_TAG_VALUE})
    if declared.kms_key_id is not None:
        create["KmsKeyId"] = declared.kms_key_id
        draft.changes.append("kms_key_id")
        draft.after["kms_key_id"] = declared.kms_key_id
    if writes_value:
        create["ClientRequestToken"] = write_token(declared.full_name, "create", None, (), None, None)
    draft.add("create_secret", tuple(draft.changes), writes_value, **create)
    before = {"state": "absent"}
    error = _plan_access(draft, declared, None) or _refused_policy(draft, policy_error)
    if error:
        return failed_plan(declared.full_name, declared.label, declared, None, error, before)
    return SecretPlan(full_name=declared.full_name, label=declared.label, action=CREATED, declared=declared,
                      changes=tuple(draft.changes), steps=tuple(draft.steps), before=before, after=draft.after,
                      ownership=OWNED)


def _replaced_value(current: CurrentSecret, current_value: Optional[CurrentValue]) -> Optional[bytes]:
    """The stored value a write replaces, as bytes, where it was read; it keys the write token."""
    if current_value is None or current_value.error_code or current.scheduled_for_deletion:
        return None
    if current_value.binary is not None:
        return current_value.binary
    return current_value.string.encode("utf-8") if current_value.string is not None else None


def plan_present(
    declared: DeclaredSecret, current: Optional[CurrentSecret], current_value: Optional[CurrentValue] = None,
    kms_keys=None, policy_error: Optional[dict] = None,
) -> SecretPlan:
    """Bring one secret to its declared attributes; attributes left unset are not touched.

    policy_error is ValidateResourcePolicy's refusal of the policy the plan would put.
    """
    if current is None:
        return _plan_create(declared, policy_error)
    before = _managed_view(declared, current)

    def failed(error: dict) -> SecretPlan:
        return failed_plan(declared.full_name, declared.label, declared, current, error, before)

    if current.scheduled_for_deletion and not declared.restore:
        return failed({"code": "ScheduledForDeletion",
                       "message": "the secret is scheduled for deletion and restore is false"})
    draft = _Draft()
    draft.after = {"state": "present"}
    if current.scheduled_for_deletion:
        draft.add("restore_secret")
    merged_payload = None
    if declared.json_merge and declared.payload is not None and current.has_value:
        merged_payload, keys_added, keys_replaced, value_error = _merge_decision(declared, current, current_value)
        write_value = merged_payload is not None
        value_marker = VALUE_WILL_CHANGE if write_value else VALUE_SET
        if write_value:
            # Key names only: the diff says which keys change, never what they hold.
            draft.after["json_keys"] = {"added": keys_added, "replaced": keys_replaced}
    else:
        write_value, value_marker, value_error = _value_decision(declared, current, current_value)
    if declared.payload is not None or declared.generate is not None:
        draft.after["value"] = value_marker
    if value_error:
        return failed(value_error)
    update = {}
    if write_value:
        draft.changes.append("value")
    if declared.description is not None:
        draft.after["description"] = declared.description
        if declared.description != (current.description or ""):
            update["Description"] = declared.description
            draft.changes.append("description")
    tag_steps, error = _plan_tags(draft, declared, current)
    if error:
        return failed(error)
    adopting = "ownership" in draft.changes
    if adopting:
        before = dict(before, ownership=UNOWNED)
    if declared.kms_key_id is not None:
        draft.after["kms_key_id"] = declared.kms_key_id
        same_key, key_error = _keys_match(kms_keys, None, current.kms_key_id, declared.kms_key_id)
        if key_error:
            return failed(key_error)
        if not same_key:
            update["KmsKeyId"] = declared.kms_key_id
            draft.changes.append("kms_key_id")
        else:
            draft.after["kms_key_id"] = before["kms_key_id"]
    if write_value:
        update["ClientRequestToken"] = write_token(current.name, "value", current.current_version_id,
                                                   current.version_ids, declared.payload,
                                                   _replaced_value(current, current_value))
    if update:
        # Description, key and value go in one call; a value alone is a new version.
        operation = "update_secret" if set(update) - {"ClientRequestToken"} else "put_secret_value"
        labels = tuple(label for label in draft.changes if label in ("value", "description", "kms_key_id"))
        draft.add(operation, labels, write_value, **update)
    draft.steps += tag_steps
    error = _plan_access(draft, declared, current, kms_keys) or _refused_policy(draft, policy_error)
    if error:
        return failed(error)
    if current.scheduled_for_deletion:
        action = RESTORED
    else:
        action = UPDATED if draft.changes else UNCHANGED
    return SecretPlan(full_name=declared.full_name, label=declared.label, action=action, declared=declared,
                      current=current, changes=tuple(draft.changes), steps=tuple(draft.steps), before=before,
                      after=draft.after, merged_payload=merged_payload,
                      ownership=OWNED if adopting else ownership_of(current))


def _delete_params(recovery_window: int) -> dict:
    if recovery_window == 0:
        return {"ForceDeleteWithoutRecovery": True}
    return {"RecoveryWindowInDays": recovery_window}


def plan_absent(
    full_name: str, label: str, recovery_window: int, current: Optional[CurrentSecret],
    declared: Optional[DeclaredSecret] = None,
) -> SecretPlan:
    """Delete a secret; one already scheduled is only purged now when the window is 0."""
    if current is None or (current.scheduled_for_deletion and recovery_window != 0):
        return SecretPlan(full_name=full_name, label=label, action=ABSENT, declared=declared, current=current,
                          ownership=ownership_of(current))
    steps = []
    if current.replicas:
        # AWS refuses to delete a secret that still has replicas.
        steps.append(Step("remove_regions_from_replication",
                          {"RemoveReplicaRegions": [replica["region"] for replica in current.replicas]}))
    steps.append(Step("delete_secret", _delete_params(recovery_window)))
    return SecretPlan(full_name=full_name, label=label, action=DELETED, declared=declared, current=current,
                      steps=tuple(steps), before=_managed_view(declared, current),
                      after={"state": "absent" if recovery_window == 0 else "scheduled for deletion"},
                      ownership=ownership_of(current))


def plan_secret(declared: DeclaredSecret, state: CurrentState) -> SecretPlan:
    """One declared secret against the state read for it."""
    current = state.secrets.get(declared.full_name)
    if declared.full_name in state.errors:
        plan = failed_plan(declared.full_name, declared.label, declared, current, state.errors[declared.full_name])
    elif declared.state == "absent":
        plan = plan_absent(declared.full_name, declared.label, declared.recovery_window, current, declared)
    else:
        plan = plan_present(declared, current, state.values.get(current.arn) if current else None,
                            state.kms_keys, state.policy_errors.get(declared.full_name))
    if current is not None and owning_service(current):
        return _left_to_service(plan)
    return plan


def _plan_prune(name: str, declaration: Declaration, state: CurrentState) -> SecretPlan:
    current = state.secrets[name]
    if not prunable(current):
        # Not this collection's to delete: reported, and left alone.
        return SecretPlan(full_name=name, label="pruned", action=SKIPPED, current=current,
                          ownership=ownership_of(current))
    if name in state.errors:
        return failed_plan(name, "pruned", None, current, state.errors[name])
    return plan_absent(name, "pruned", declaration.prune_recovery_window, current)


def plan_all(declaration: Declaration, state: CurrentState) -> List[SecretPlan]:
    """Plans in input order, then prunes in name order. A secret whose reads failed is planned as failed.

    Keys are compared by ARN where state.kms_keys resolved them, else as text.
    """
    return ([plan_secret(declared, state) for declared in declaration.secrets]
            + [_plan_prune(name, declaration, state) for name in prune_candidates(declaration, state.secrets)])


def resume_create(plan: SecretPlan, current: CurrentSecret) -> SecretPlan:
    """A create whose own CreateSecret went through before its answer was lost: the steps after it."""
    return replace(plan, current=current, steps=tuple(step for step in plan.steps if step.operation != "create_secret"))


def _left_to_service(plan: SecretPlan) -> SecretPlan:
    """A declared secret that an AWS service owns is never written: what would change is listed, not done."""
    if plan.action != FAILED and not plan.has_writes:
        return replace(plan, ownership=SERVICE)
    return SecretPlan(full_name=plan.full_name, label=plan.label, action=SKIPPED, declared=plan.declared,
                      current=plan.current, changes=plan.changes, before=plan.before, after=dict(plan.before),
                      ownership=SERVICE)

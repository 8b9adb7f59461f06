# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Planning: what each secret needs, computed without calling AWS.

plan_* functions are pure: declared state + current state -> SecretPlan. Check mode reports the
plan; a real run applies the very same plan, so both give the same result and diff.
Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

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
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import REMOVE_POLICY
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import ReadersOnly
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import merge_readers
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import policy_text
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import policy_too_large
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import policies_differ
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import DetailRequest
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentValue
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


@dataclass
class SecretPlan:
    """What one secret needs. The API parameters never hold a value: apply adds it."""

    full_name: str
    label: str
    action: str
    declared: Optional[DeclaredSecret] = None
    current: Optional[CurrentSecret] = None
    changes: List[str] = field(default_factory=list)
    restore: bool = False
    create: Optional[dict] = None  # CreateSecret parameters
    update: Optional[dict] = None  # UpdateSecret metadata parameters
    write_value: bool = False
    value_token: Optional[str] = None
    tags_to_set: Dict[str, str] = field(default_factory=dict)
    tags_to_remove: List[str] = field(default_factory=list)
    delete: Optional[dict] = None  # DeleteSecret parameters
    put_policy: Optional[dict] = None  # PutResourcePolicy parameters
    delete_policy: bool = False
    replicas_to_remove: List[str] = field(default_factory=list)
    replicas_to_add: List[dict] = field(default_factory=list)  # AddReplicaRegions entries
    force_overwrite_replica: bool = False
    rotate: Optional[dict] = None  # RotateSecret parameters
    cancel_rotation: bool = False
    stage_move: Optional[dict] = None  # UpdateSecretVersionStage parameters
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
        return bool(
            self.restore or self.create is not None or self.update or self.write_value
            or self.tags_to_set or self.tags_to_remove or self.delete is not None
            or self.put_policy or self.delete_policy or self.replicas_to_remove or self.replicas_to_add
            or self.rotate or self.cancel_rotation or self.stage_move
        )

    @property
    def policy_managed(self) -> bool:
        return self.declared is not None and self.declared.policy is not None

    @property
    def rotation_enabled(self) -> bool:
        """Whether rotation is on once the plan is applied."""
        if self.declared is not None and self.declared.rotation is not None and self.action != FAILED:
            return self.declared.rotation["enabled"]
        return bool(self.current and self.current.rotation_enabled)


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


def details_needed(declared: Optional[DeclaredSecret], current: Optional[CurrentSecret]) -> DetailRequest:
    """What the plan must read beyond the listing, for this one secret."""
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


def replica_failed(replica: dict) -> bool:
    return (replica.get("status") or "").lower() == "failed"


def replication_failure(region: str, status_message: Optional[str]) -> dict:
    """The error of a secret whose replica AWS reports as Failed, with AWS's own status message."""
    return {"code": "ReplicationFailed",
            "message": "the replica in {0} failed: {1}. force_overwrite_replica: true removes it and replicates "
                       "again, overwriting a secret of the same name there".format(
                           region, status_message or "no status message")}


def _readers_merged(plan: SecretPlan, declared: DeclaredSecret, current: Optional[CurrentSecret]):
    """The policy to hold when only `readers` is managed: the current one with the readers statement."""
    current_policy = current.policy if current else None
    if current is not None and not current.policy_read:
        plan.error = {"code": "PolicyNotRead",
                      "message": "readers are merged into the current resource policy, which cannot be read while "
                                 "the secret is scheduled for deletion; restore it first, then manage readers"}
        return None
    if isinstance(current_policy, dict) and "unparseable" in current_policy:
        plan.error = {"code": "PolicyNotParsed",
                      "message": "the current resource policy is not valid JSON, so readers cannot be merged into it"}
        return None
    return merge_readers(current_policy, declared.policy)


def _plan_access(plan: SecretPlan, declared: DeclaredSecret, current: Optional[CurrentSecret],
                 kms_keys=None) -> None:
    """Policy, replicas, rotation and version stage: what differs goes in the plan, in this order."""
    declared_policy = declared.policy
    if isinstance(declared_policy, ReadersOnly):
        declared_policy = _readers_merged(plan, declared, current)
        if plan.error:
            return
        too_large = policy_too_large(declared_policy)
        if too_large:
            plan.error = {"code": "PolicyTooLarge", "message": too_large + " once the readers are merged in"}
            return
    if declared_policy is not None:
        desired = None if declared_policy == REMOVE_POLICY else declared_policy
        plan.after["resource_policy"] = desired
        current_policy = current.policy if current else None
        unknown = current is not None and not current.policy_read  # a deleted secret's policy cannot be read
        if unknown or policies_differ(current_policy, declared_policy):
            if desired is None:
                plan.delete_policy = current is not None
            else:
                plan.put_policy = {"ResourcePolicy": policy_text(desired),
                                   "BlockPublicPolicy": declared.block_public_policy}
            if plan.put_policy or plan.delete_policy:
                plan.changes.append("resource_policy")

    if declared.replicas is not None:
        current_replicas = {replica["region"]: replica for replica in (current.replicas or ())} if current else {}
        declared_regions = dict(declared.replicas)
        for region, kms_key_id in declared.replicas:
            existing = current_replicas.get(region)
            failed = existing is not None and replica_failed(existing)
            if failed and not declared.force_overwrite_replica:
                plan.error = replication_failure(region, existing.get("status_message"))
                return
            if existing is not None and not failed and kms_key_id is not None:
                same, key_error = _keys_match(kms_keys, region, existing["kms_key_id"], kms_key_id)
                if key_error:
                    plan.error = key_error
                    return
                if same:
                    continue
            elif existing is not None and not failed:
                continue
            if existing is not None:
                plan.replicas_to_remove.append(region)  # a replica is re-keyed by replacing it
            plan.replicas_to_add.append(dict({"Region": region}, **({"KmsKeyId": kms_key_id} if kms_key_id else {})))
        if declared.purge_replicas:
            plan.replicas_to_remove += sorted(region for region in current_replicas if region not in declared_regions)
        plan.force_overwrite_replica = declared.force_overwrite_replica
        kept = {region: replica["kms_key_id"] for region, replica in current_replicas.items()
                if region not in plan.replicas_to_remove}
        kept.update({entry["Region"]: entry.get("KmsKeyId") for entry in plan.replicas_to_add})
        plan.after["replicas"] = [{"region": region, "kms_key_id": kept[region]} for region in sorted(kept)]
        if plan.replicas_to_add or plan.replicas_to_remove:
            plan.changes.append("replicas")

    if declared.rotation is not None:
        if not declared.rotation["enabled"]:
            plan.after["rotation"] = {"enabled": False}
            plan.cancel_rotation = bool(current and current.rotation_enabled)
        else:
            plan.after["rotation"] = {"enabled": True, "lambda_arn": declared.rotation["lambda_arn"],
                                      "rules": dict(declared.rotation["rules"])}
            if current is None or not rotation_matches(current, declared.rotation):
                plan.rotate = {"RotationLambdaARN": declared.rotation["lambda_arn"],
                               "RotationRules": dict(declared.rotation["rules"]),
                               "RotateImmediately": declared.rotation["rotate_immediately"]}
        if plan.rotate or plan.cancel_rotation:
            plan.changes.append("rotation")

    if declared.current_version_id is not None:
        target = declared.current_version_id
        plan.after["current_version_id"] = target
        current_version_id = current.current_version_id if current else None
        if target != current_version_id:
            known = set(current.version_ids) | set(current.all_version_ids or ()) if current else set()
            if target not in known:
                plan.error = {"code": "UnknownVersionId",
                              "message": "version {0} does not exist for this secret".format(target)}
                return
            plan.stage_move = {"VersionStage": "AWSCURRENT", "MoveToVersionId": target}
            if current_version_id:
                plan.stage_move["RemoveFromVersionId"] = current_version_id
            plan.changes.append("current_version_id")


def _plan_create(declared: DeclaredSecret) -> SecretPlan:
    create = {"Name": declared.full_name}
    changes = []
    after = {"state": "present"}
    writes_value = declared.payload is not None or declared.generate is not None
    if writes_value:
        changes.append("value")
        after["value"] = VALUE_WILL_CHANGE if declared.payload is not None else VALUE_WILL_GENERATE
    if declared.description is not None:
        create["Description"] = declared.description
        changes.append("description")
        after["description"] = declared.description
    # Every secret the module creates carries the ownership tag, so a later prune may delete it.
    create["Tags"] = ansible_dict_to_boto3_tag_list(dict(declared.tags or {}, **{OWNER_TAG_KEY: OWNER_TAG_VALUE}))
    if declared.tags is not None:
        if declared.tags:
            changes.append("tags")
        after["tags"] = dict(declared.tags, **{OWNER_TAG_KEY: OWNER_TAG_VALUE})
    if declared.kms_key_id is not None:
        create["KmsKeyId"] = declared.kms_key_id
        changes.append("kms_key_id")
        after["kms_key_id"] = declared.kms_key_id
    plan = SecretPlan(
        full_name=declared.full_name,
        label=declared.label,
        action=CREATED,
        declared=declared,
        changes=changes,
        create=create,
        write_value=writes_value,
        value_token=write_token(declared.full_name, "create", None, (), None, None) if writes_value else None,
        before={"state": "absent"},
        after=after,
        ownership=OWNED,
    )
    _plan_access(plan, declared, None)
    if plan.error:
        return _failed(plan)
    return plan


def _failed(plan: SecretPlan) -> SecretPlan:
    """A plan that cannot be carried out: nothing of it runs, and its diff shows no change."""
    failed = SecretPlan(full_name=plan.full_name, label=plan.label, action=FAILED, declared=plan.declared,
                        current=plan.current, error=plan.error, before=plan.before, after=dict(plan.before),
                        ownership=ownership_of(plan.current))
    return failed


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


def _plan_tags(plan: SecretPlan, declared: DeclaredSecret, current: CurrentSecret) -> None:
    """Declared tags, merged with the ownership tag: purge_tags never removes it, adopt adds it."""
    adopting = declared.adopt and not is_owned(current)
    if declared.tags is None and not adopting:
        return
    if declared.tags is not None:
        desired, purge = dict(declared.tags), declared.purge_tags
    else:
        desired, purge = {}, False
    if OWNER_TAG_KEY in current.tags:
        desired[OWNER_TAG_KEY] = current.tags[OWNER_TAG_KEY]
    if adopting:
        desired[OWNER_TAG_KEY] = OWNER_TAG_VALUE
    plan.tags_to_set, plan.tags_to_remove = compare_aws_tags(current.tags, desired, purge)
    after_tags = dict(current.tags)
    for key in plan.tags_to_remove:
        after_tags.pop(key, None)
    after_tags.update(plan.tags_to_set)
    if len(after_tags) > MAX_TAGS:
        plan.error = {"code": "TooManyTags", "message": "{0} tags once merged with the current ones, over the limit "
                                                        "of {1}".format(len(after_tags), MAX_TAGS)}
        return
    if declared.tags is not None:
        plan.after["tags"] = after_tags
        if set(plan.tags_to_set) - {OWNER_TAG_KEY} or plan.tags_to_remove:
            plan.changes.append("tags")
    if adopting:
        plan.before["ownership"], plan.after["ownership"] = UNOWNED, OWNED
        plan.changes.append("ownership")
        plan.ownership = OWNED


def plan_present(
    declared: DeclaredSecret, current: Optional[CurrentSecret], current_value: Optional[CurrentValue] = None,
    kms_keys=None,
) -> SecretPlan:
    """Bring one secret to its declared attributes; attributes left unset are not touched."""
    if current is None:
        return _plan_create(declared)
    plan = SecretPlan(
        full_name=declared.full_name,
        label=declared.label,
        action=UNCHANGED,
        declared=declared,
        current=current,
        before=_managed_view(declared, current),
        after={"state": "present"},
    )
    if current.scheduled_for_deletion:
        if not declared.restore:
            plan.action = FAILED
            plan.error = {
                "code": "ScheduledForDeletion",
                "message": "the secret is scheduled for deletion and restore is false",
            }
            plan.after = dict(plan.before)
            return plan
        plan.restore = True

    plan.ownership = ownership_of(current)
    if declared.json_merge and declared.payload is not None and current.has_value:
        plan.merged_payload, keys_added, keys_replaced, value_error = _merge_decision(declared, current, current_value)
        write_value = plan.merged_payload is not None
        value_marker = VALUE_WILL_CHANGE if write_value else VALUE_SET
        if write_value:
            # Key names only: the diff says which keys change, never what they hold.
            plan.after["json_keys"] = {"added": keys_added, "replaced": keys_replaced}
    else:
        write_value, value_marker, value_error = _value_decision(declared, current, current_value)
    if declared.payload is not None or declared.generate is not None:
        plan.after["value"] = value_marker
    if value_error:
        plan.action = FAILED
        plan.error = value_error
        plan.after = dict(plan.before)
        return plan
    if write_value:
        plan.write_value = True
        plan.changes.append("value")
        replaced = None
        if current_value is not None and not current_value.error_code and not current.scheduled_for_deletion:
            replaced = current_value.binary if current_value.binary is not None else (
                current_value.string.encode("utf-8") if current_value.string is not None else None)
        plan.value_token = write_token(current.name, "value", current.current_version_id, current.version_ids,
                                       declared.payload, replaced)

    update = {}
    if declared.description is not None:
        plan.after["description"] = declared.description
        if declared.description != (current.description or ""):
            update["Description"] = declared.description
            plan.changes.append("description")
    _plan_tags(plan, declared, current)
    if plan.error:
        return _failed(plan)
    if declared.kms_key_id is not None:
        plan.after["kms_key_id"] = declared.kms_key_id
        same_key, key_error = _keys_match(kms_keys, None, current.kms_key_id, declared.kms_key_id)
        if key_error:
            plan.error = key_error
            return _failed(plan)
        if not same_key:
            update["KmsKeyId"] = declared.kms_key_id
            plan.changes.append("kms_key_id")
        else:
            plan.after["kms_key_id"] = plan.before["kms_key_id"]
    plan.update = update or None
    _plan_access(plan, declared, current, kms_keys)
    if plan.error:
        return _failed(plan)

    if plan.restore:
        plan.action = RESTORED
    elif plan.changes:
        plan.action = UPDATED
    return plan


def _delete_params(recovery_window: int) -> dict:
    if recovery_window == 0:
        return {"ForceDeleteWithoutRecovery": True}
    return {"RecoveryWindowInDays": recovery_window}


def plan_absent(
    full_name: str, label: str, recovery_window: int, current: Optional[CurrentSecret],
    declared: Optional[DeclaredSecret] = None,
) -> SecretPlan:
    """Delete a secret; one already scheduled is only purged now when the window is 0."""
    plan = SecretPlan(full_name=full_name, label=label, action=ABSENT, declared=declared, current=current)
    if current is None or (current.scheduled_for_deletion and recovery_window != 0):
        return plan
    plan.action = DELETED
    plan.delete = _delete_params(recovery_window)
    # AWS refuses to delete a secret that still has replicas.
    plan.replicas_to_remove = [replica["region"] for replica in (current.replicas or ())]
    plan.before = _managed_view(declared, current)
    plan.after = {"state": "absent" if recovery_window == 0 else "scheduled for deletion"}
    return plan


def _read_failure(full_name: str, label: str, declared, current, error: dict) -> SecretPlan:
    return SecretPlan(full_name=full_name, label=label, action=FAILED, declared=declared, current=current,
                      error=dict(error))


def prune_candidates(declaration: Declaration, current_by_name: Dict[str, CurrentSecret]) -> List[str]:
    """Names under the prefix that are not declared and not already scheduled for deletion."""
    if not declaration.prune:
        return []
    declared_names = {declared.full_name for declared in declaration.secrets}
    # A prefix ends in "/" whenever prune is on, so a name that starts with it is under that path.
    return [name for name in sorted(current_by_name)
            if name not in declared_names and name.startswith(declaration.prefix)
            and not current_by_name[name].scheduled_for_deletion]


def plan_all(
    declaration: Declaration,
    current_by_name: Dict[str, CurrentSecret],
    values_by_arn: Optional[Dict[str, CurrentValue]] = None,
    read_errors_by_name: Optional[Dict[str, dict]] = None,
    kms_keys=None,
) -> List[SecretPlan]:
    """Plans in input order, then prunes in name order. A secret whose reads failed is planned as failed.

    kms_keys (a _secrets_kms.KmsKeys that has resolved kms_references) compares keys by ARN; without it,
    keys are compared as text.
    """
    values_by_arn = values_by_arn or {}
    read_errors_by_name = read_errors_by_name or {}
    plans = []
    for declared in declaration.secrets:
        current = current_by_name.get(declared.full_name)
        if declared.full_name in read_errors_by_name:
            plans.append(_read_failure(declared.full_name, declared.label, declared, current,
                                       read_errors_by_name[declared.full_name]))
        elif declared.state == "absent":
            plans.append(plan_absent(declared.full_name, declared.label, declared.recovery_window, current, declared))
        else:
            current_value = values_by_arn.get(current.arn) if current else None
            plans.append(plan_present(declared, current, current_value, kms_keys))
        if current is not None and owning_service(current):
            plans[-1] = _left_to_service(plans[-1])
    for name in prune_candidates(declaration, current_by_name):
        current = current_by_name[name]
        if not prunable(current):
            # Not this collection's to delete: reported, and left alone.
            plans.append(SecretPlan(full_name=name, label="pruned", action=SKIPPED, current=current,
                                    ownership=ownership_of(current)))
        elif name in read_errors_by_name:
            plans.append(_read_failure(name, "pruned", None, current, read_errors_by_name[name]))
        else:
            plans.append(plan_absent(name, "pruned", declaration.prune_recovery_window, current))
    for plan in plans:
        if plan.ownership is None:
            plan.ownership = ownership_of(plan.current)
    return plans


def prunable(current: CurrentSecret) -> bool:
    """Prune deletes only undeclared secrets that carry the ownership tag and that no AWS service owns."""
    return is_owned(current) and not owning_service(current)


def _left_to_service(plan: SecretPlan) -> SecretPlan:
    """A declared secret that an AWS service owns is never written: what would change is listed, not done."""
    if plan.action != FAILED and not plan.has_writes:
        plan.ownership = SERVICE
        return plan
    return SecretPlan(full_name=plan.full_name, label=plan.label, action=SKIPPED, declared=plan.declared,
                      current=plan.current, changes=list(plan.changes), before=plan.before, after=dict(plan.before),
                      ownership=SERVICE)


def detail_requests(declaration: Declaration, current_by_name: Dict[str, CurrentSecret]):
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
        if not prunable(current_by_name[name]):
            continue
        request = details_needed(None, current_by_name[name])
        if request:
            requests[name] = (current_by_name[name], request)
    return requests


def values_to_read(declaration: Declaration, current_by_name: Dict[str, CurrentSecret]) -> List[str]:
    """ARNs whose value a comparison needs: declared values with overwrite (or json_merge, which merges into
    the stored object) on existing, readable secrets."""
    arns = []
    for declared in declaration.secrets:
        current = current_by_name.get(declared.full_name)
        if (
            declared.state == "present"
            and declared.payload is not None
            and (declared.overwrite or declared.json_merge)
            and current is not None
            and not owning_service(current)
            and current.has_value
            and not current.scheduled_for_deletion
        ):
            arns.append(current.arn)
    return arns


def policies_to_validate(plans: List[SecretPlan]) -> Dict[int, tuple]:
    """Plan index -> (secret ARN or None, policy JSON) for every policy the plans would put."""
    return {index: (plan.arn, plan.put_policy["ResourcePolicy"]) for index, plan in enumerate(plans)
            if plan.put_policy and not plan.error}


def fail_plans(plans: List[SecretPlan], errors_by_index: Dict[int, dict]) -> List[SecretPlan]:
    """The plans, with those that have an error turned into failed plans that do nothing."""
    return [_failed(_with_error(plan, errors_by_index[index])) if index in errors_by_index else plan
            for index, plan in enumerate(plans)]


def _with_error(plan: SecretPlan, error: dict) -> SecretPlan:
    plan.error = dict(error)
    return plan

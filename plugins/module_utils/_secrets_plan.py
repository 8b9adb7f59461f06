# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Planning: what each secret needs, computed without calling AWS.

plan_* functions are pure: declared state + current state -> SecretPlan. Check mode reports the
plan; a real run applies the very same plan, so both give the same result and diff.
Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import Declaration
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import DeclaredSecret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentValue
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import VALUE_NONE
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import VALUE_SET
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import VALUE_WILL_CHANGE
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import VALUE_WILL_GENERATE
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import request_token

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
DELETED, RESTORED, ABSENT, FAILED = "deleted", "restored", "absent", "failed"
ACTIONS = (CREATED, UPDATED, UNCHANGED, DELETED, RESTORED, ABSENT, FAILED)
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
    error: Optional[dict] = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)

    @property
    def arn(self) -> Optional[str]:
        return self.current.arn if self.current else None

    @property
    def has_writes(self) -> bool:
        return bool(
            self.restore or self.create is not None or self.update or self.write_value
            or self.tags_to_set or self.tags_to_remove or self.delete is not None
        )


def _kms_key_tail(key: str) -> str:
    """"key/<id>" or "alias/<name>" from any form: ARN, alias name or bare key id."""
    if key.startswith("arn:"):
        key = key.split(":", 5)[-1]
    if key.startswith(("key/", "alias/")):
        return key
    return "key/" + key


def same_kms_key(current: Optional[str], declared: str) -> bool:
    """Whether the declared key is the one in use; no key in use means the AWS managed default."""
    return _kms_key_tail(current or DEFAULT_KMS_ALIAS) == _kms_key_tail(declared)


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
    return view


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
    if declared.tags is not None:
        if declared.tags:
            create["Tags"] = ansible_dict_to_boto3_tag_list(declared.tags)
            changes.append("tags")
        after["tags"] = dict(declared.tags)
    if declared.kms_key_id is not None:
        create["KmsKeyId"] = declared.kms_key_id
        changes.append("kms_key_id")
        after["kms_key_id"] = declared.kms_key_id
    return SecretPlan(
        full_name=declared.full_name,
        label=declared.label,
        action=CREATED,
        declared=declared,
        changes=changes,
        create=create,
        write_value=writes_value,
        value_token=request_token(declared.full_name, "create", None, ()) if writes_value else None,
        before={"state": "absent"},
        after=after,
    )


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


def plan_present(
    declared: DeclaredSecret, current: Optional[CurrentSecret], current_value: Optional[CurrentValue] = None
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
        plan.value_token = request_token(current.name, "value", current.current_version_id, current.version_ids)

    update = {}
    if declared.description is not None:
        plan.after["description"] = declared.description
        if declared.description != (current.description or ""):
            update["Description"] = declared.description
            plan.changes.append("description")
    if declared.tags is not None:
        plan.tags_to_set, plan.tags_to_remove = compare_aws_tags(current.tags, declared.tags, declared.purge_tags)
        plan.after["tags"] = dict(current.tags)
        for key in plan.tags_to_remove:
            plan.after["tags"].pop(key, None)
        plan.after["tags"].update(plan.tags_to_set)
        if plan.tags_to_set or plan.tags_to_remove:
            plan.changes.append("tags")
    if declared.kms_key_id is not None:
        plan.after["kms_key_id"] = declared.kms_key_id
        if not same_kms_key(current.kms_key_id, declared.kms_key_id):
            update["KmsKeyId"] = declared.kms_key_id
            plan.changes.append("kms_key_id")
        else:
            plan.after["kms_key_id"] = plan.before["kms_key_id"]
    plan.update = update or None

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
    plan.before = _managed_view(declared, current)
    plan.after = {"state": "absent" if recovery_window == 0 else "scheduled for deletion"}
    return plan


def plan_all(
    declaration: Declaration,
    current_by_name: Dict[str, CurrentSecret],
    values_by_arn: Optional[Dict[str, CurrentValue]] = None,
) -> List[SecretPlan]:
    """Plans in input order, then prunes in name order."""
    values_by_arn = values_by_arn or {}
    plans = []
    for declared in declaration.secrets:
        current = current_by_name.get(declared.full_name)
        if declared.state == "absent":
            plans.append(plan_absent(declared.full_name, declared.label, declared.recovery_window, current, declared))
        else:
            current_value = values_by_arn.get(current.arn) if current else None
            plans.append(plan_present(declared, current, current_value))
    if declaration.prune:
        declared_names = {declared.full_name for declared in declaration.secrets}
        for name in sorted(current_by_name):
            current = current_by_name[name]
            if name in declared_names or current.scheduled_for_deletion:
                continue
            plans.append(plan_absent(name, "pruned", declaration.prune_recovery_window, current))
    return plans


def values_to_read(declaration: Declaration, current_by_name: Dict[str, CurrentSecret]) -> List[str]:
    """ARNs whose value a comparison needs: declared values with overwrite on existing, readable secrets."""
    arns = []
    for declared in declaration.secrets:
        current = current_by_name.get(declared.full_name)
        if (
            declared.state == "present"
            and declared.payload is not None
            and declared.overwrite
            and current is not None
            and current.has_value
            and not current.scheduled_for_deletion
        ):
            arns.append(current.arn)
    return arns

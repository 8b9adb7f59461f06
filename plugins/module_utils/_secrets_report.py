# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module's result: per-secret entries, summary, ARNs, diff and the failure message.

Built from plans (check mode) or plans plus outcomes (a real run) by the same code, so both
look alike. Nothing here ever holds a value: plans carry markers only.
Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_apply import Outcome
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_apply import api_operation_name
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import ABSENT
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import ACTIONS
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import CHANGING_ACTIONS
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import CREATED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import DELETED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import FAILED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import SKIPPED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import SecretPlan
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import replica_failed
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_policy import policies_differ

MAX_FAILED_NAMED = 50
# Secrets Manager appends "-" and six characters to make an ARN; a name that already ends that
# way makes partial-ARN lookups ambiguous.
ARN_SUFFIX_LOOKALIKE = re.compile(r"-[A-Za-z0-9]{6}\Z")


def env_var_name(short_name: str) -> str:
    """The environment variable a secret is exposed as: "db/password" -> DB_PASSWORD.

    Upper case; every run of characters other than letters and digits becomes one underscore; no
    leading or trailing underscore; a leading digit gets an underscore in front ("2fa" -> _2FA).
    """
    name = re.sub(r"[^A-Z0-9]+", "_", short_name.upper()).strip("_")
    if not name or name[0].isdigit():
        name = "_" + name
    return name


def _replica_entry(region: str, status: Optional[str], message: Optional[str]) -> dict:
    entry = {"region": region, "status": status}
    if replica_failed({"status": status}):
        entry["status_message"] = message
    return entry


def _replicas_of(plan: SecretPlan, outcome: Optional[Outcome]) -> List[dict]:
    if plan.action in (DELETED, ABSENT):
        return []
    if outcome is not None and outcome.replica_statuses is not None:
        return [_replica_entry(status.get("Region"), status.get("Status"), status.get("StatusMessage"))
                for status in sorted(outcome.replica_statuses, key=lambda status: status.get("Region") or "")]
    current_replicas = (plan.current.replicas if plan.current else None) or ()
    by_region = {replica["region"]: replica for replica in current_replicas}
    if "replicas" in plan.after and not (outcome is not None and outcome.action == FAILED):
        regions = [replica["region"] for replica in plan.after["replicas"]]
    else:
        regions = sorted(by_region)  # a failed secret: the replicas as they are
    return [_replica_entry(region, by_region.get(region, {}).get("status"),
                           by_region.get(region, {}).get("status_message")) for region in regions]


def _failed_rotation_enabled(plan: SecretPlan, outcome: Outcome) -> bool:
    """Rotation as it is after a failure: changed only by a RotateSecret or CancelRotateSecret that went through."""
    if "rotate_secret" in outcome.done_steps:
        return True
    if "cancel_rotate_secret" in outcome.done_steps:
        return False
    return bool(plan.current and plan.current.rotation_enabled)


def _failed_policy_managed(plan: SecretPlan, outcome: Outcome) -> bool:
    """For a failed secret: whether the declared policy is in place."""
    declared = plan.declared
    if declared is None or declared.policy is None:
        return False
    if {"put_resource_policy", "delete_resource_policy"} & set(outcome.done_steps):
        return True
    current = plan.current
    if current is None or not current.policy_read:
        return False
    return not policies_differ(current.policy, declared.policy)


def _entry(plan: SecretPlan, outcome: Optional[Outcome]) -> dict:
    if outcome is None:
        # Check mode, or nothing to write: the plan is the result, and its steps are the calls it would make.
        outcome = Outcome(action=plan.action, changes=list(plan.changes), arn=plan.arn, error=plan.error,
                          done_steps=list(plan.operations))
    changed = outcome.action in CHANGING_ACTIONS or (outcome.action == FAILED and outcome.wrote)
    entry = {
        "name": plan.full_name,
        "arn": outcome.arn,
        "action": outcome.action,
        "changed": changed,
        "changes": outcome.changes,
        "steps": [api_operation_name(operation) for operation in outcome.done_steps],
    }
    if outcome.action == FAILED:
        entry["rotation_enabled"] = _failed_rotation_enabled(plan, outcome)
        entry["policy_managed"] = _failed_policy_managed(plan, outcome)
    else:
        entry["rotation_enabled"] = plan.rotation_enabled
        entry["policy_managed"] = plan.policy_managed
    entry["replicas"] = _replicas_of(plan, outcome)
    entry["ownership"] = plan.ownership
    if outcome.version_id:
        entry["version_id"] = outcome.version_id
    if outcome.error:
        entry["error"] = dict(outcome.error)
    return entry


def _short_name(name: str, prefix: str) -> str:
    return name[len(prefix):] if prefix and name.startswith(prefix) else name


def env_names(plans: List[SecretPlan], prefix: str) -> Dict[str, str]:
    """Full name -> environment-variable name: the declared env_name, or the one derived from the name."""
    names = {}
    for plan in plans:
        declared_env_name = plan.declared.env_name if plan.declared is not None else None
        names[plan.full_name] = declared_env_name or env_var_name(_short_name(plan.full_name, prefix))
    return names


def env_name_collisions(plans: List[SecretPlan], env_name_by_name: Dict[str, str]) -> List[str]:
    """One warning for each variable name that more than one declared, present secret maps to."""
    names_by_env_name: Dict[str, List[str]] = {}
    for plan in plans:
        if plan.declared is not None and plan.declared.state == "present":
            names_by_env_name.setdefault(env_name_by_name[plan.full_name], []).append(plan.full_name)
    return [
        "secrets {0} all map to the environment variable {1}; ecs_secrets and lambda_environment keep only {2}. "
        "Give the others an env_name.".format(", ".join(repr(name) for name in names), env_name, repr(names[0]))
        for env_name, names in names_by_env_name.items() if len(names) > 1
    ]


def arn_suffix_warnings(plans: List[SecretPlan]) -> List[str]:
    """Warn about a name that looks like it ends in an ARN's random suffix, only when it is being created."""
    return [
        "{0} ({1!r}): the name ends with a hyphen and six characters, which Secrets Manager may confuse with "
        "the random suffix of an ARN".format(plan.label, plan.full_name)
        for plan in plans if plan.action == CREATED and ARN_SUFFIX_LOOKALIKE.search(plan.full_name)
    ]


def build_result(
    plans: List[SecretPlan], outcomes: Dict[int, Outcome], with_diff: bool, prefix: str = "",
    warn: Optional[Callable[[str], None]] = None,
) -> dict:
    """changed, secrets, summary, arns, ecs_secrets, lambda_environment and (with --diff) diff.

    warn, when given, receives the warnings about the names: variable-name collisions and ARN-suffix look-alikes.
    """
    entries = [_entry(plan, outcomes.get(index)) for index, plan in enumerate(plans)]
    env_name_by_name = env_names(plans, prefix)
    if warn is not None:
        for warning in arn_suffix_warnings(plans) + env_name_collisions(plans, env_name_by_name):
            warn(warning)
    summary = {action: 0 for action in ACTIONS}
    for entry in entries:
        summary[entry["action"]] += 1
    summary["total"] = len(entries)
    result = {
        "changed": any(entry["changed"] for entry in entries),
        "secrets": entries,
        "summary": summary,
        "arns": {
            entry["name"]: entry["arn"]
            for plan, entry in zip(plans, entries)
            # An undeclared secret that prune left alone is not this task's to wire.
            if entry["arn"] and entry["action"] not in (DELETED, ABSENT)
            and not (entry["action"] == SKIPPED and plan.declared is None)
        },
    }
    wired = []
    wired_env_names = set()
    for name, arn in result["arns"].items():  # input order: the first secret of a colliding name wins
        env_name = env_name_by_name.get(name) or env_var_name(_short_name(name, prefix))
        if env_name not in wired_env_names:
            wired_env_names.add(env_name)
            wired.append((env_name, arn))
    result["ecs_secrets"] = [{"name": env_name, "valueFrom": arn} for env_name, arn in wired]
    result["lambda_environment"] = dict(wired)
    if with_diff:
        changing = [plan for plan in plans if plan.action in CHANGING_ACTIONS]
        result["diff"] = {
            "before": {plan.full_name: plan.before for plan in changing},
            "after": {plan.full_name: plan.after for plan in changing},
        }
    return result


def _failure_label(entry: dict) -> str:
    error = entry.get("error", {})
    if entry["changed"] and error.get("step"):
        # Partly applied: say where it stopped, since the earlier steps did change the secret.
        return "{0} ({1} at {2}, after earlier changes were written)".format(
            entry["name"], error.get("code", "Error"), error["step"])
    return "{0} ({1})".format(entry["name"], error.get("code", "Error"))


def failure_message(result: dict) -> Optional[str]:
    """One line naming every failed secret and its AWS error code, or None."""
    failed = [entry for entry in result["secrets"] if entry["action"] == FAILED]
    if not failed:
        return None
    named = ", ".join(_failure_label(entry) for entry in failed[:MAX_FAILED_NAMED])
    more = "" if len(failed) <= MAX_FAILED_NAMED else " and {0} more".format(len(failed) - MAX_FAILED_NAMED)
    return "Failed on {0} of {1} secrets: {2}{3}".format(len(failed), len(result["secrets"]), named, more)

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
from typing import Dict, List, Optional

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_apply import Outcome
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import ABSENT
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import ACTIONS
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import CHANGING_ACTIONS
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import DELETED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import FAILED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import SKIPPED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import SecretPlan

MAX_FAILED_NAMED = 50


def env_var_name(short_name: str) -> str:
    """The environment variable a secret is exposed as: "db/password" -> DB_PASSWORD.

    Upper case; every run of characters other than letters and digits becomes one underscore; no
    leading or trailing underscore; a leading digit gets an underscore in front ("2fa" -> _2FA).
    """
    name = re.sub(r"[^A-Z0-9]+", "_", short_name.upper()).strip("_")
    if not name or name[0].isdigit():
        name = "_" + name
    return name


def _replicas_of(plan: SecretPlan, outcome: Optional[Outcome]) -> List[dict]:
    if plan.action in (DELETED, ABSENT):
        return []
    if outcome is not None and outcome.replica_statuses is not None:
        return [{"region": status.get("Region"), "status": status.get("Status")}
                for status in sorted(outcome.replica_statuses, key=lambda status: status.get("Region") or "")]
    current_replicas = (plan.current.replicas if plan.current else None) or ()
    status_by_region = {replica["region"]: replica["status"] for replica in current_replicas}
    if "replicas" in plan.after:
        regions = [replica["region"] for replica in plan.after["replicas"]]
    else:
        regions = sorted(status_by_region)
    return [{"region": region, "status": status_by_region.get(region)} for region in regions]


def _entry(plan: SecretPlan, outcome: Optional[Outcome]) -> dict:
    if outcome is None:
        # Check mode, or nothing to write: the plan is the result.
        outcome = Outcome(action=plan.action, changes=list(plan.changes), arn=plan.arn, error=plan.error)
    changed = outcome.action in CHANGING_ACTIONS or (outcome.action == FAILED and outcome.wrote)
    entry = {
        "name": plan.full_name,
        "arn": outcome.arn,
        "action": outcome.action,
        "changed": changed,
        "changes": outcome.changes,
    }
    entry["rotation_enabled"] = plan.rotation_enabled
    entry["replicas"] = _replicas_of(plan, outcome)
    entry["policy_managed"] = plan.policy_managed
    entry["ownership"] = plan.ownership
    if outcome.version_id:
        entry["version_id"] = outcome.version_id
    if outcome.error:
        entry["error"] = dict(outcome.error)
    return entry


def build_result(plans: List[SecretPlan], outcomes: Dict[int, Outcome], with_diff: bool, prefix: str = "") -> dict:
    """changed, secrets, summary, arns, ecs_secrets, lambda_environment and (with --diff) diff."""
    entries = [_entry(plan, outcomes.get(index)) for index, plan in enumerate(plans)]
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
    wired = [(env_var_name(name[len(prefix):] if name.startswith(prefix) else name), arn)
             for name, arn in result["arns"].items()]
    result["ecs_secrets"] = [{"name": env_name, "valueFrom": arn} for env_name, arn in wired]
    result["lambda_environment"] = dict(wired)
    if with_diff:
        changing = [plan for plan in plans if plan.action in CHANGING_ACTIONS]
        result["diff"] = {
            "before": {plan.full_name: plan.before for plan in changing},
            "after": {plan.full_name: plan.after for plan in changing},
        }
    return result


def failure_message(result: dict) -> Optional[str]:
    """One line naming every failed secret and its AWS error code, or None."""
    failed = [entry for entry in result["secrets"] if entry["action"] == FAILED]
    if not failed:
        return None
    named = ", ".join(
        "{0} ({1})".format(entry["name"], entry.get("error", {}).get("code", "Error"))
        for entry in failed[:MAX_FAILED_NAMED]
    )
    more = "" if len(failed) <= MAX_FAILED_NAMED else " and {0} more".format(len(failed) - MAX_FAILED_NAMED)
    return "Failed on {0} of {1} secrets: {2}{3}".format(len(failed), len(result["secrets"]), named, more)

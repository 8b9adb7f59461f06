# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What aws_secrets_manager_info reports about a secret. It never reads a value.

Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import DetailRequest
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import list_versions
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import read_details


def _date(value) -> Optional[str]:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc).isoformat()
    return value


def secret_view(current: CurrentSecret, versions: Optional[List[dict]] = None, with_policy: bool = False) -> dict:
    """One secret's metadata, snake_cased, with dates as ISO 8601 strings."""
    view = {
        "name": current.name,
        "arn": current.arn,
        "description": current.description or "",
        "tags": dict(current.tags),
        "kms_key_id": current.kms_key_id,
        "primary_region": current.primary_region,
        "created_date": _date(current.created_date),
        "deleted_date": _date(current.deleted_date),
        "scheduled_for_deletion": current.scheduled_for_deletion,
        "current_version_id": current.current_version_id,
        "rotation": {
            "enabled": current.rotation_enabled,
            "lambda_arn": current.rotation_lambda_arn,
            "rules": {
                "automatically_after_days": current.rotation_rules.get("AutomaticallyAfterDays"),
                "schedule_expression": current.rotation_rules.get("ScheduleExpression"),
                "duration": current.rotation_rules.get("Duration"),
            },
            "last_rotated_date": _date(current.last_rotated_date),
            "next_rotation_date": _date(current.next_rotation_date),
        },
    }
    if current.replicas is not None:
        view["replicas"] = [dict(replica) for replica in current.replicas]
    if versions is not None:
        view["versions"] = sorted(
            (
                {
                    "version_id": version["VersionId"],
                    "stages": list(version.get("VersionStages", [])),
                    "created_date": _date(version.get("CreatedDate")),
                }
                for version in versions
            ),
            # Oldest first. Dates have one-second resolution, so ties keep the service's order (a stable sort),
            # never the order of the random version IDs.
            key=lambda version: version["created_date"] or "",
        )
    if with_policy:
        view["resource_policy"] = current.policy
    return view


def describe_all(
    calls, current_by_name: Dict[str, CurrentSecret], include_replicas: bool, include_versions: bool,
    include_policy: bool, concurrency: int,
) -> List[dict]:
    """Views of every secret, in name order; per-secret reads run in parallel and only when asked for.

    Replicas the listing already gave are used as they are: DescribeSecret is only for the others.
    """

    def describe(name: str) -> dict:
        current = current_by_name[name]
        readable = not current.scheduled_for_deletion
        request = DetailRequest(replicas=include_replicas and current.replicas is None,
                                policy=include_policy and readable)
        if request:
            current = read_details(calls, current, request)
        versions = list_versions(calls, current.arn) if include_versions and readable else None
        return secret_view(current, versions, with_policy=include_policy)

    names = sorted(current_by_name)
    if not names:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(names)))) as pool:
        return list(pool.map(describe, names))


def missing_names(wanted: List[str], current_by_name: Dict[str, CurrentSecret]) -> List[str]:
    """The declared full names that were not found, in the order given, each once."""
    missing = []
    for name in wanted:
        if name not in current_by_name and name not in missing:
            missing.append(name)
    return missing

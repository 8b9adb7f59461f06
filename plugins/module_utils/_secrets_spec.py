# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Argument spec of aws_secrets_manager_set.

Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import copy

DEFAULT_CONCURRENCY = 8
DEFAULT_RECOVERY_WINDOW = 30

GENERATE_OPTIONS = dict(
    length=dict(type="int", default=32),
    exclude_characters=dict(type="str", default=""),
    exclude_punctuation=dict(type="bool", default=False),
    exclude_numbers=dict(type="bool", default=False),
    exclude_uppercase=dict(type="bool", default=False),
    exclude_lowercase=dict(type="bool", default=False),
    include_space=dict(type="bool", default=False),
    require_each_included_type=dict(type="bool", default=True),
    json_key=dict(type="str", no_log=False),
)

ROTATION_OPTIONS = dict(
    enabled=dict(type="bool", default=True),
    lambda_arn=dict(type="str"),
    automatically_after_days=dict(type="int"),
    schedule_expression=dict(type="str"),
    duration=dict(type="str"),
    rotate_immediately=dict(type="bool", default=False),
)

REPLICA_OPTIONS = dict(
    region=dict(type="str", required=True),
    kms_key_id=dict(type="str"),
)

# Options that an item and the module both take; the item's wins. None means "not managed".
SHARED_ACCESS_OPTIONS = dict(
    resource_policy=dict(type="raw"),
    readers=dict(type="list", elements="str"),
    rotation=dict(type="dict", options=ROTATION_OPTIONS),
    replica_regions=dict(type="list", elements="dict", options=REPLICA_OPTIONS),
)

# Item options default to None so "left unset" can be told apart from "set": item overrides module.
SECRET_ITEM_OPTIONS = dict(
    name=dict(type="str", required=True),
    description=dict(type="str"),
    tags=dict(type="dict"),
    kms_key_id=dict(type="str"),
    value=dict(type="str", no_log=True),
    # raw: a JSON object or array (or JSON text of one); _secrets_declare checks which.
    json_value=dict(type="raw", no_log=True),
    binary_value=dict(type="str", no_log=True),
    generate=dict(type="dict", options=GENERATE_OPTIONS),
    overwrite=dict(type="bool"),
    state=dict(type="str", choices=["present", "absent"]),
    recovery_window=dict(type="int"),
    block_public_policy=dict(type="bool"),
    purge_replicas=dict(type="bool"),
    force_overwrite_replica=dict(type="bool"),
    current_version_id=dict(type="str"),
    json_merge=dict(type="bool"),
    adopt=dict(type="bool"),
    env_name=dict(type="str"),
    purge_tags=dict(type="bool"),
    restore=dict(type="bool"),
    **copy.deepcopy(SHARED_ACCESS_OPTIONS),
)


def concurrency_option() -> dict:
    return dict(type="int", default=DEFAULT_CONCURRENCY)


def info_module_argument_spec() -> dict:
    """The argument spec of aws_secrets_manager_info, without amazon.aws's connection options."""
    return dict(
        names=dict(type="list", elements="str", default=[]),
        prefix=dict(type="str", default=""),
        tags=dict(type="dict"),
        include_replicas=dict(type="bool", default=False),
        include_versions=dict(type="bool", default=False),
        include_policy=dict(type="bool", default=False),
        concurrency=concurrency_option(),
    )


def set_module_argument_spec() -> dict:
    """The argument spec of aws_secrets_manager_set, without amazon.aws's connection options."""
    return dict(
        names=dict(type="list", elements="str", default=[]),
        # The values inside are no_log suboptions; the list itself (names, settings) is safe to show.
        secrets=dict(type="list", elements="dict", default=[], no_log=False, options=copy.deepcopy(SECRET_ITEM_OPTIONS)),
        prefix=dict(type="str", default=""),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        description=dict(type="str"),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        kms_key_id=dict(type="str"),
        generate=dict(type="dict", options=copy.deepcopy(GENERATE_OPTIONS)),
        overwrite=dict(type="bool", default=False),
        recovery_window=dict(type="int", default=DEFAULT_RECOVERY_WINDOW),
        restore=dict(type="bool", default=True),
        prune=dict(type="bool", default=False),
        concurrency=concurrency_option(),
        fail_fast=dict(type="bool", default=False),
        block_public_policy=dict(type="bool", default=True),
        purge_replicas=dict(type="bool", default=True),
        force_overwrite_replica=dict(type="bool", default=False),
        json_merge=dict(type="bool", default=False),
        adopt=dict(type="bool", default=False),
        **copy.deepcopy(SHARED_ACCESS_OPTIONS),
    )

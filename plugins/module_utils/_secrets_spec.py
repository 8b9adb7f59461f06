# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Argument specs of aws_secrets_manager_set and aws_secrets_manager_info, the one schema of the collection.

Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import copy

DEFAULT_CONCURRENCY = 8
DEFAULT_RECOVERY_WINDOW = 30

# GetRandomPassword's own switches, all off unless asked for.
_GENERATE_SWITCHES = ("exclude_punctuation", "exclude_numbers", "exclude_uppercase", "exclude_lowercase",
                      "include_space")

GENERATE_OPTIONS = dict(
    length=dict(type="int", default=32),
    exclude_characters=dict(type="str", default=""),
    **{switch: dict(type="bool", default=False) for switch in _GENERATE_SWITCHES},
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
    resource_policy=dict(type="raw"),
    readers=dict(type="list", elements="str"),
    rotation=dict(type="dict", options=ROTATION_OPTIONS),
    replica_regions=dict(type="list", elements="dict", options=REPLICA_OPTIONS),
)


# The defaults of the module-wide options an item may override; the item's option of the same name gives the type.
# None: unset means "not managed". Two groups, so the spec keeps its order (prune, concurrency, fail_fast between).
_MODULE_WIDE_DEFAULTS = dict(state="present", description=None, tags=None, purge_tags=True, kms_key_id=None,
                             generate=None, overwrite=False, recovery_window=DEFAULT_RECOVERY_WINDOW, restore=True)
_MODULE_WIDE_ACCESS_DEFAULTS = dict(block_public_policy=True, purge_replicas=True, force_overwrite_replica=False,
                                    json_merge=False, adopt=False, resource_policy=None, readers=None, rotation=None,
                                    replica_regions=None)


def common_options() -> dict:
    """names, prefix and concurrency, which both modules take alike.

    Their docs are the envops.aws_secrets.common doc fragment; each module adds what it does with the names.
    """
    return dict(
        names=dict(type="list", elements="str", default=[]),
        prefix=dict(type="str", default=""),
        concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
    )


def _module_wide(defaults: dict) -> dict:
    """Module-wide options typed as the item options they are defaults for, so the two cannot drift apart."""
    options = {}
    for option, default in defaults.items():
        item_option = copy.deepcopy(SECRET_ITEM_OPTIONS[option])
        options[option] = dict(type=item_option.pop("type"), **({} if default is None else {"default": default}),
                               **item_option)
    return options


def info_module_argument_spec() -> dict:
    """The argument spec of aws_secrets_manager_info, without amazon.aws's connection options."""
    common = common_options()
    return dict(
        names=common["names"],
        prefix=common["prefix"],
        tags=dict(type="dict"),
        include_replicas=dict(type="bool", default=False),
        include_versions=dict(type="bool", default=False),
        include_policy=dict(type="bool", default=False),
        concurrency=common["concurrency"],
    )


def set_module_argument_spec() -> dict:
    """The argument spec of aws_secrets_manager_set, without amazon.aws's connection options."""
    common = common_options()
    return dict(
        names=common["names"],
        # The values inside are no_log suboptions; the list itself (names, settings) is safe to show.
        secrets=dict(type="list", elements="dict", default=[], no_log=False, options=copy.deepcopy(SECRET_ITEM_OPTIONS)),
        prefix=common["prefix"],
        **_module_wide(_MODULE_WIDE_DEFAULTS),
        prune=dict(type="bool", default=False),
        concurrency=common["concurrency"],
        fail_fast=dict(type="bool", default=False),
        **_module_wide(_MODULE_WIDE_ACCESS_DEFAULTS),
    )

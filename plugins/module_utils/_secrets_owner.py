# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Ownership: which secrets this collection may prune, and which belong to an AWS service.

A secret the module creates carries the ownership tag. Prune deletes only undeclared secrets that
carry it; a secret with OwningService (rds!..., for example) is never modified, tagged or pruned.
Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

from typing import Optional

# Namespaced so that it never collides with another tool's "managed-by" tag (external-secrets,
# Terraform modules) on the same secret: adopting a secret never overwrites their tag.
OWNER_TAG_KEY = "envops:managed-by"
OWNER_TAG_VALUE = "envops.aws_secrets"

OWNED, UNOWNED, SERVICE = "owned", "unowned", "service"


def is_owned(current) -> bool:
    """Whether the secret carries this collection's ownership tag."""
    return current is not None and (current.tags or {}).get(OWNER_TAG_KEY) == OWNER_TAG_VALUE


def owning_service(current) -> Optional[str]:
    """The AWS service that owns the secret, or None."""
    return getattr(current, "owning_service", None) if current is not None else None


def ownership_of(current) -> Optional[str]:
    """owned, unowned or service for an existing secret; None for one that does not exist."""
    if current is None:
        return None
    if owning_service(current):
        return SERVICE
    return OWNED if is_owned(current) else UNOWNED

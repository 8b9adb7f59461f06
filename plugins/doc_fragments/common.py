# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """What aws_secrets_manager_set and aws_secrets_manager_info document alike.

    The spec behind it is _secrets_spec.common_options(). ansible-core merges a fragment's options into a
    module's one key deep, so each module gives only its own description of names and prefix (what it does with
    them), and takes the type and default from here. Return values cannot be shared this way: ansible-core reads
    RETURN from the module file alone (see docs/development.md).
    """

    DOCUMENTATION = r"""
options:
  names:
    type: list
    elements: str
    default: []
  prefix:
    type: str
    default: ""
  concurrency:
    description: The most AWS calls in flight at once, 1 to 64.
    type: int
    default: 8
"""

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the work is done on the controller by plugins/action/environment_secrets_run.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: environment_secrets_run
short_description: Resolve one environment's inputs and run aws_secrets_manager_set for it (the environment_secrets role's step)
version_added: 0.1.0
description:
  - The step of the role C(envops.aws_secrets.environment_secrets)
    that does the work; the role's README describes the inputs.
  - Takes no input of its own but O(resolve_only). Reads the role's variables (C(environment_secrets_*)) from the host's
    variables, else the environment variables E(ENVIRONMENT_INFO), E(STACK_JOB_SETTINGS), E(AWS_CREDENTIAL_ID),
    E(SECRET_NAMES), E(AWS_URL) of the controller, else their defaults.
  - Parses the JSON texts and checks everything with the argument spec of
    M(envops.aws_secrets.aws_secrets_manager_set) and its rules before any AWS call. One message names every problem,
    with the variable or environment variable, the item's index and its name.
  - Then resolves the credentials (a named entry, optionally assuming its C(role_arn); a profile; or the default
    chain with E(AWS_SECURITY_TOKEN)), checks the environment's C(account_id) against the caller identity, and runs
    M(envops.aws_secrets.aws_secrets_manager_set) once, in check mode for a dry run or a drift report.
  - Its result never holds a secret value nor a credential.
author:
  - Envops Platform Engineering (@envops)
options:
  resolve_only:
    description:
      - Only read and check the inputs, and return the environment's context. Makes no AWS call.
    type: bool
    default: false
attributes:
  action:
    support: full
    description: Runs on the controller.
  check_mode:
    support: full
    description: In check mode the module runs in check mode; assuming a role and reading the caller identity still run.
  diff_mode:
    support: full
    description: The module's diff, values as markers only.
notes:
  - Meant to be called by the role C(envops.aws_secrets.environment_secrets).
"""

EXAMPLES = r"""
- name: Read and check the environment's inputs
  envops.aws_secrets.environment_secrets_run:
    resolve_only: true
  register: inputs

- name: Bring the environment's secrets to the declared state
  envops.aws_secrets.environment_secrets_run: {}
  register: run
  no_log: true
"""

RETURN = r"""
environment:
  description: The resolved environment, without any value or credential.
  returned: unless the inputs are bad
  type: dict
  sample: {"name": "staging", "prefix": "staging/", "region": "eu-west-1", "account_id": null, "mode": "apply",
           "dry_run": false, "check_mode": false, "diff": false, "fail_on_drift": false,
           "credential": "the default AWS credential chain", "role_arn": null,
           "sources": {"kms_key_id": "ENVIRONMENT_INFO.kms_key_id"}}
problems:
  description: Every problem of the inputs, when they are bad.
  returned: on bad input
  type: list
  elements: str
result:
  description: The result of M(envops.aws_secrets.aws_secrets_manager_set), without its invocation.
  returned: unless O(resolve_only)
  type: dict
summary_lines:
  description: The one-screen summary of the environment, or its drift report.
  returned: unless O(resolve_only)
  type: list
  elements: str
drift:
  description: In drift mode, the declared names missing in AWS and the secrets under the prefix that are not declared.
  returned: in drift mode
  type: dict
  sample: {"environment": "staging", "prefix": "staging/", "region": "eu-west-1", "missing": ["staging/api-key"],
           "extra": [], "error": null}
drift_failure:
  description: The failure message when the environment drifted and C(environment_secrets_fail_on_drift) is set.
  returned: in drift mode, on drift
  type: str
"""

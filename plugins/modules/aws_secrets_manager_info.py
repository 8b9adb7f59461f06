#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: aws_secrets_manager_info
short_description: List AWS Secrets Manager secrets and their settings, never their values
version_added: 0.1.0
description:
  - Lists the secrets selected by O(names), O(prefix) and O(tags). It uses C(ListSecrets) with filters, 100 secrets a
    page.
  - Reports each secret's metadata, rotation, replicas and, on request, versions and resource policy.
  - It never reads a secret value and needs no write permission.
  - Secrets scheduled for deletion are included, with their C(deleted_date).
author:
  - Envops Platform Engineering (@envops)
options:
  names:
    description:
      - Names of the secrets to report, after O(prefix) is added. A name that does not exist is left out of
        RV(secrets) and listed in RV(missing).
      - An empty, null or whitespace-only name is refused before any AWS call.
      - Without O(names), every secret under O(prefix) is reported. With neither, every secret in the region is.
  prefix:
    description: Prepended to every name in O(names); alone, selects every secret whose name starts with it.
  tags:
    description: Report only secrets that carry every one of these tags, with these values.
    type: dict
  include_replicas:
    description:
      - Report each secret's replicas with their status, from one C(DescribeSecret) per secret.
      - Off by default, so the module reads with C(ListSecrets) only. C(ListSecrets) returns a replicated
        secret's RV(secrets[].primary_region) but not its replica regions (botocore's model of
        C(SecretListEntry) has no C(ReplicationStatus)). Where a listing does carry them, they are used and no
        C(DescribeSecret) is made for that secret.
    type: bool
    default: false
  include_versions:
    description:
      - Report each secret's versions (ID, staging labels, creation date). This takes one C(ListSecretVersionIds)
        per secret.
    type: bool
    default: false
  include_policy:
    description: Report each secret's resource policy. This takes one C(GetResourcePolicy) per secret.
    type: bool
    default: false
notes:
  - "Permissions: C(secretsmanager:ListSecrets), plus C(secretsmanager:DescribeSecret) with O(include_replicas),
    C(secretsmanager:ListSecretVersionIds) with O(include_versions) and C(secretsmanager:GetResourcePolicy) with
    O(include_policy)."
extends_documentation_fragment: [envops.aws_secrets.common, amazon.aws.common.modules, amazon.aws.region.modules,
                                 amazon.aws.boto3]
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode changes nothing.
  diff_mode:
    support: none
    description: The module changes nothing, so there is nothing to diff.
"""

EXAMPLES = r"""
- name: Report the payments secrets in staging, with versions and policies
  envops.aws_secrets.aws_secrets_manager_info:
    prefix: staging/payments/
    include_versions: true
    include_policy: true
  register: payments

- name: Find every secret a team owns
  envops.aws_secrets.aws_secrets_manager_info:
    tags:
      team: payments
  register: team_secrets

- name: Report the replicas of the replicated secrets, one DescribeSecret each
  envops.aws_secrets.aws_secrets_manager_info:
    prefix: shared/
    include_replicas: true
  register: replicated

- name: Show which secrets rotate
  ansible.builtin.debug:
    msg: "{{ payments.secrets | selectattr('rotation.enabled') | map(attribute='name') | list }}"
"""

RETURN = r"""
secrets:
  description: The selected secrets, in name order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The secret's name.
      type: str
      sample: staging/payments/db
    arn:
      description: The secret's ARN.
      type: str
    description:
      description: The description, or an empty string.
      type: str
    tags:
      description: The tags.
      type: dict
    kms_key_id:
      description: The KMS key, or V(null) for the AWS managed key.
      type: str
    primary_region:
      description: The primary region, for a replicated secret.
      type: str
    created_date:
      description: When the secret was created (ISO 8601).
      type: str
    deleted_date:
      description: When the secret will be deleted (ISO 8601), or V(null) when it is not scheduled for deletion.
      type: str
    scheduled_for_deletion:
      description: Whether the secret is scheduled for deletion.
      type: bool
    current_version_id:
      description: The version labelled AWSCURRENT, or V(null) for a secret with no value.
      type: str
    rotation:
      description: Rotation settings.
      type: dict
      contains:
        enabled:
          description: Whether rotation is on.
          type: bool
        lambda_arn:
          description: The rotation function.
          type: str
        rules:
          description: C(automatically_after_days), C(schedule_expression) and C(duration), as the service returns them.
          type: dict
        last_rotated_date:
          description: The last rotation (ISO 8601).
          type: str
        next_rotation_date:
          description: The next scheduled rotation (ISO 8601).
          type: str
    replicas:
      description: Replicas with C(region), C(kms_key_id), C(status) and C(status_message).
      type: list
      elements: dict
      returned: when O(include_replicas=true), or when the listing gave them
    versions:
      description:
        - Versions with C(version_id), C(stages) and C(created_date), oldest first.
        - Versions created in the same second keep the order the service lists them in.
      type: list
      elements: dict
      returned: when O(include_versions=true) and the secret is not scheduled for deletion
    resource_policy:
      description: The resource policy, or V(null) when there is none or the secret is scheduled for deletion.
      type: dict
      returned: when O(include_policy=true)
arns:
  description: Name to ARN of every selected secret.
  returned: always
  type: dict
missing:
  description:
    - The full names given in O(names) (prefix included) that were not found, in the order given.
    - A secret excluded by O(tags) counts as not found. Without O(names), the list is empty.
  returned: always
  type: list
  elements: str
  sample: ["staging/payments/old-token"]
api_calls:
  description: The AWS API calls the module made, by operation, without retries.
  returned: always
  type: dict
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing SDK

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import SecretsManagerCalls
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import client_config
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import info_problems
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_info import describe_all
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_info import missing_names
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import info_module_argument_spec
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import list_current


def main():
    module = AnsibleAWSModule(
        argument_spec=info_module_argument_spec(),
        supports_check_mode=True,
    )
    params = module.params
    problems, tags = info_problems(params)
    if problems:
        module.fail_json(msg="Invalid input ({0} problem{1}):\n- {2}".format(
            len(problems), "" if len(problems) == 1 else "s", "\n- ".join(problems)), problems=problems)

    calls = SecretsManagerCalls(module.client("secretsmanager", config=client_config(params["concurrency"])))
    try:
        wanted = [params["prefix"] + name for name in params["names"]]
        current_by_name = list_current(calls, wanted, params["prefix"], params["concurrency"], tags=tags)
        if wanted:
            current_by_name = {name: current for name, current in current_by_name.items() if name in wanted}
        secrets = describe_all(calls, current_by_name, params["include_replicas"], params["include_versions"],
                               params["include_policy"], params["concurrency"])
    except (BotoCoreError, ClientError) as error:
        module.fail_json_aws(error, msg="Could not read the secrets")
    module.exit_json(
        changed=False,
        secrets=secrets,
        arns={secret["name"]: secret["arn"] for secret in secrets},
        missing=missing_names(wanted, current_by_name),
        api_calls=dict(calls.calls_by_operation),
    )


if __name__ == "__main__":
    main()

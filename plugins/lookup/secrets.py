# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: secrets
short_description: Read many AWS Secrets Manager secrets in a few BatchGetSecretValue calls
version_added: 0.1.0
description:
  - Returns one dictionary that maps each secret's full name (O(prefix) + term) to its value.
  - With O(prefix) and no terms, returns every secret whose name starts with O(prefix).
  - Values of the C(AWSCURRENT) stage are read with C(BatchGetSecretValue) only, 20 secrets a call (by name, or
    through a name filter for a prefix), never with one C(GetSecretValue) per secret. 45 secrets take 3 calls.
  - Other stages (O(version_stage)) take one C(GetSecretValue) per secret, because C(BatchGetSecretValue) returns
    only C(AWSCURRENT).
  - When the service refuses a prefix's filtered read as a whole because one secret under it cannot be read (one
    scheduled for deletion, or one without a value), the lookup lists the names (C(ListSecrets), which leaves out
    secrets scheduled for deletion) and reads them by name, 20 a call. A call by name refused as a whole is split in
    halves until the secret that cannot be read is alone. O(on_missing), O(on_denied) and O(on_deleted) then apply
    to that secret only.
  - Warnings and errors name the secret and the AWS error code, never a value. The lookup's result is the value
    itself, so a task that prints it, or registers a result containing it, needs C(no_log=true).
author:
  - Envops Platform Engineering (@envops)
options:
  _terms:
    description:
      - Names of the secrets to read. O(prefix) is put in front of each one.
      - Without O(prefix), a term can also be a secret's ARN.
      - Optional when O(prefix) is given.
    type: list
    elements: str
    required: false
  prefix:
    description:
      - Put in front of every term. Without terms, every secret whose name starts with it is read.
      - The match is exact, case included (the service's name filter ignores case; the lookup checks again).
    type: str
    default: ""
  json:
    description:
      - 'Parse every value as JSON, so that a value like C({"user": "app", "password": "..."}) becomes a dictionary.'
      - A value that is not valid JSON is an error that names the secret, not the value.
    type: bool
    default: false
  version_stage:
    description:
      - The staging label to read, for example V(AWSPREVIOUS) or V(AWSPENDING).
      - Any stage other than V(AWSCURRENT) takes one C(GetSecretValue) per secret.
      - With O(prefix) and no terms, a stage other than V(AWSCURRENT) first lists the names with C(ListSecrets).
    type: str
    default: AWSCURRENT
  on_missing:
    description:
      - What to do with a secret that does not exist (or has no version in O(version_stage)).
      - V(error) fails the lookup and names the secret; V(skip) leaves it out of the result; V(warn) leaves it out
        and warns. O(on_denied) and O(on_deleted) take the same three choices.
    type: str
    default: error
    choices: [error, skip, warn]
  on_denied:
    description: What to do with a secret the caller may not read (C(AccessDeniedException)), as for O(on_missing).
    type: str
    default: error
    choices: [error, skip, warn]
  on_deleted:
    description:
      - What to do with a named secret that is scheduled for deletion, as for O(on_missing).
      - With O(prefix) and no terms, secrets scheduled for deletion are not returned by the service at all.
    type: str
    default: error
    choices: [error, skip, warn]
notes:
  - Errors of any other kind (a KMS key that cannot decrypt, a throttled call that kept failing) always fail the lookup,
    and name every secret concerned.
  - A binary secret (C(SecretBinary)) is returned base64-encoded, as text.
  - "Permissions: C(secretsmanager:BatchGetSecretValue) and C(secretsmanager:GetSecretValue) on every secret read
    (AWS checks both), C(secretsmanager:ListSecrets) for a prefix, and C(kms:Decrypt) for secrets under a
    customer-managed key."
  - Calls are retried with jittered backoff on throttling and transient errors, like the modules of this collection.
seealso:
  - module: envops.aws_secrets.aws_secrets_manager_set
  - module: envops.aws_secrets.aws_secrets_manager_info
  - plugin: amazon.aws.secretsmanager_secret
    plugin_type: lookup
extends_documentation_fragment:
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
"""

EXAMPLES = r"""
- name: Read two secrets of the orders service into one dictionary
  ansible.builtin.set_fact:
    orders_secrets: "{{ lookup('envops.aws_secrets.secrets', 'db', 'api', prefix='prod/orders/') }}"
  no_log: true
  # orders_secrets == {"prod/orders/db": "...", "prod/orders/api": "..."}

- name: Write every secret under prod/orders/ as a systemd EnvironmentFile (also an ECS environmentFiles file)
  vars:
    orders_env: "{{ lookup('envops.aws_secrets.secrets', prefix='prod/orders/') }}"
  ansible.builtin.copy:
    dest: /etc/orders/secrets.env
    owner: root
    group: orders
    mode: "0640"
    # prod/orders/db_password -> DB_PASSWORD=...
    content: |
      {% for name, value in orders_env | dictsort %}
      {{ name | regex_replace('^prod/orders/', '') | regex_replace('[^A-Za-z0-9_]', '_') | upper }}={{ value }}
      {% endfor %}
  no_log: true

- name: Render a Kubernetes Secret manifest from JSON secrets (values base64-encoded, as the API wants them)
  vars:
    orders_json: "{{ lookup('envops.aws_secrets.secrets', 'db', 'api', prefix='prod/orders/', json=true) }}"
    manifest:
      apiVersion: v1
      kind: Secret
      type: Opaque
      metadata:
        name: orders
        namespace: orders
      data:
        DB_PASSWORD: "{{ orders_json['prod/orders/db'].password | b64encode }}"
        API_TOKEN: "{{ orders_json['prod/orders/api'].token | b64encode }}"
  ansible.builtin.copy:
    dest: "{{ playbook_dir }}/orders-secret.yaml"
    mode: "0600"
    content: "{{ manifest | to_nice_yaml }}"
  no_log: true

- name: Read what is there, warn about what is missing or denied, in another region and profile
  ansible.builtin.set_fact:
    shared_secrets: >-
      {{ lookup('envops.aws_secrets.secrets', 'smtp', 'sentry', 'legacy', prefix='shared/',
                on_missing='warn', on_denied='warn', on_deleted='skip',
                region='eu-west-1', profile='ops') }}
  no_log: true

- name: Read the previous version of the database password, during a rotation rollback
  ansible.builtin.set_fact:
    previous_db: "{{ lookup('envops.aws_secrets.secrets', 'prod/orders/db', version_stage='AWSPREVIOUS') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One dictionary, full secret name to value (a string, or with O(json) the parsed JSON).
    - Secrets skipped by O(on_missing), O(on_denied) or O(on_deleted) are not in it.
  type: list
  elements: dict
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AWSLookupBase reports the missing SDK

from ansible.errors import AnsibleLookupError
from ansible.utils.display import Display

from ansible_collections.amazon.aws.plugins.plugin_utils.lookup import AWSLookupBase
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import RateLimiter
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import SecretsManagerCalls
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import client_config
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import error_of
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._secrets_lookup import PROBLEM_OPTIONS
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._secrets_lookup import LookupInputError
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._secrets_lookup import LookupReadError
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._secrets_lookup import assemble
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._secrets_lookup import build_request
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._secrets_lookup import read_all

display = Display()

# BatchGetSecretValue calls (or GetSecretValue calls for another stage) in flight at once.
CONCURRENCY = 4


class LookupModule(AWSLookupBase):
    def run(self, terms, variables=None, **kwargs):
        super().run(terms, variables, **kwargs)
        try:
            request = build_request(
                terms,
                self.get_option("prefix"),
                self.get_option("version_stage"),
                self.get_option("json"),
                {kind: self.get_option(option) for kind, option in PROBLEM_OPTIONS.items()},
            )
        except LookupInputError as error:
            raise AnsibleLookupError("envops.aws_secrets.secrets: {0}".format(error)) from None

        calls = SecretsManagerCalls(self.client("secretsmanager", config=client_config(CONCURRENCY)),
                                    rate_limiter=RateLimiter())
        try:
            values_by_name = assemble(read_all(calls, request, CONCURRENCY), request, self.warn)
        except LookupReadError as error:
            raise AnsibleLookupError("envops.aws_secrets.secrets: {0}".format(error)) from None
        except (BotoCoreError, ClientError) as error:
            # Only a prefix read raises these (a call on named secrets reports its error per secret).
            found = error_of(error)
            raise AnsibleLookupError("envops.aws_secrets.secrets: reading prefix {0!r} failed: {1}: {2}".format(
                request.prefix, found["code"], found["message"])) from None
        display.vvv("envops.aws_secrets.secrets: {0} secret(s) read; calls: {1}".format(
            len(values_by_name), dict(sorted(calls.calls_by_operation.items()))))
        return [values_by_name]

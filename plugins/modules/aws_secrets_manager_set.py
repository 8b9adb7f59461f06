#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: aws_secrets_manager_set
short_description: Bring many AWS Secrets Manager secrets to their declared state in one task
version_added: 0.1.0
description:
  - Creates, updates, tags, encrypts, deletes and restores a whole list of secrets in one task.
  - Reads are batched. Metadata comes from C(ListSecrets) with name-prefix filters, 100 secrets a page.
    Values come from C(BatchGetSecretValue), 20 secrets a call, and are read only when O(overwrite=true) needs a comparison
    or O(json_merge) needs the stored object.
  - Writes run in a bounded pool of threads (O(concurrency)). Once the service throttles an API class, every request of
    that class first takes a token from a rate limiter that the threads share, at 92% of AWS's per-region quota (50 a
    second for C(CreateSecret), for example), so a bulk run is paced by the quota instead of thrashing against it.
  - Throttling, server errors and dropped connections are retried by botocore's standard retry mode alone, the one
    retry layer, with at most 8 requests for one call. Writes carry a C(ClientRequestToken), so a retried write
    never makes a second version.
  - Check mode reports the same plan, result and diff as a real run, and makes no write call.
  - A secret value, given or generated, never appears in the result, the diff, a warning or an error message.
    Nor do its JSON or base64 re-encodings. The diff shows a marker in its place.
  - The output holds no value by construction, so names, ARNs and counts stay exact whatever a JSON value contains.
    The invocation shows each value option as C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER). Text from AWS and botocore
    (error messages) is masked, in time linear in its length, for every form of every value and for each JSON leaf
    that could be secret (a string of six or more characters, or any leaf under a key such as C(password) or
    C(token)).
  - An option left unset is not managed. For example, an existing description or tag set is left alone when
    O(description) or O(tags) is not given.
author:
  - Envops Platform Engineering (@envops)
options:
  names:
    description:
      - Names of secrets that must exist, after O(prefix) is added.
      - An empty, null or whitespace-only name is refused before any AWS call, so that no secret is ever named
        exactly O(prefix).
      - A missing secret is created without a value, or with a generated one when O(generate) is set.
      - Module-wide options (O(description), O(tags), O(kms_key_id), O(state)...) apply to each.
  secrets:
    description:
      - Secrets declared one by one. An item's options override the module-wide ones of the same name.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The secret's name, after O(prefix) is added.
        type: str
        required: true
      description:
        description: The secret's description. Overrides O(description). V("") clears it.
        type: str
      tags:
        description: Tags, merged over the module-wide O(tags). A V(null) value is refused, as for O(tags).
        type: dict
      purge_tags: {description: Overrides O(purge_tags) for this secret., type: bool}
      restore: {description: Overrides O(restore) for this secret., type: bool}
      env_name:
        description:
          - The environment-variable name of this secret in RV(ecs_secrets) and RV(lambda_environment), instead of
            the one derived from its name.
          - Letters, digits and underscores, not starting with a digit. Two secrets cannot be given the same one.
        type: str
      kms_key_id:
        description: KMS key ID, ARN, alias name or alias ARN. Overrides O(kms_key_id).
        type: str
      json_merge:
        description: Overrides O(json_merge) for this secret. V(true) needs O(secrets[].json_value).
        type: bool
      adopt: {description: Overrides O(adopt) for this secret., type: bool}
      value:
        description:
          - The value as a string.
          - Only one of O(secrets[].value), O(secrets[].json_value), O(secrets[].binary_value) and
            O(secrets[].generate) may be given.
        type: str
      json_value:
        description:
          - The value as a JSON object (a dictionary) or a JSON array (a list), or JSON text of one of them.
            It is stored as compact JSON with sorted keys, in UTF-8 (C(Zürich) stays C(Zürich), not C(Z\\u00fcrich)).
          - A scalar (a number, a boolean, a bare string) is refused; give a plain string as O(secrets[].value).
          - The 65,536-byte limit is counted in UTF-8 bytes of the stored text.
          - Compared with the stored value as parsed JSON, so key order, spacing and escaping never count as a
            change, and a value stored escaped by an earlier version is not rewritten.
          - The comparison is type-strict at every depth. V(true) is not V(1), and V(1) is not V(1.0), so with
            O(overwrite=true) a change of type is written.
        type: raw
      binary_value:
        description: The value as base64-encoded bytes, stored as C(SecretBinary).
        type: str
      generate:
        description: Generate the value with C(GetRandomPassword) if the secret has none. Overrides O(generate).
        type: dict
        suboptions: &generate_options
          length:
            description: Number of characters, 1 to 4096.
            type: int
            default: 32
          exclude_characters:
            description: Characters never to use.
            type: str
            default: ""
          exclude_punctuation: {description: Use no punctuation., type: bool, default: false}
          exclude_numbers: {description: Use no digits., type: bool, default: false}
          exclude_uppercase: {description: Use no uppercase letters., type: bool, default: false}
          exclude_lowercase: {description: Use no lowercase letters., type: bool, default: false}
          include_space: {description: Allow the space character., type: bool, default: false}
          require_each_included_type:
            description: Use at least one character of each included kind.
            type: bool
            default: true
          json_key:
            description: 'Store the value as C({"<json_key>": "<generated>"}) instead of a bare string.'
            type: str
      overwrite: {description: Overrides O(overwrite)., type: bool}
      state: {description: Overrides O(state)., type: str, choices: [present, absent]}
      recovery_window: {description: Overrides O(recovery_window)., type: int}
      resource_policy: {description: Overrides O(resource_policy)., type: raw}
      readers: {description: Overrides O(readers)., type: list, elements: str}
      block_public_policy: {description: Overrides O(block_public_policy)., type: bool}
      rotation:
        description: Overrides O(rotation).
        type: dict
        suboptions: &rotation_options
          enabled:
            description: V(false) cancels rotation (C(CancelRotateSecret)); the other keys are then ignored.
            type: bool
            default: true
          lambda_arn:
            description: ARN of the rotation Lambda function. Required when O(rotation.enabled=true).
            type: str
          automatically_after_days:
            description:
              - Rotate every this many days, 1 to 1000.
              - Give exactly one of O(rotation.automatically_after_days) and O(rotation.schedule_expression).
            type: int
          schedule_expression:
            description:
              - A C(rate(...)) or C(cron(...)) expression. C(rate(N days)) counts as the same schedule as
                O(rotation.automatically_after_days=N).
            type: str
          duration:
            description: The rotation window, C(1h) to C(24h).
            type: str
          rotate_immediately:
            description:
              - Rotate at once when the rotation configuration changes. Otherwise the first rotation waits for the
                next scheduled window.
              - An unchanged configuration is never rotated again.
            type: bool
            default: false
      replica_regions:
        description: Overrides O(replica_regions).
        type: list
        elements: dict
        suboptions: &replica_options
          region:
            description:
              - The region to replicate to. The module's own region is refused before any AWS call.
            type: str
            required: true
          kms_key_id:
            description:
              - KMS key for the replica in that region.
              - Unset means the AWS managed key for a new replica, and any key for an existing one.
            type: str
      purge_replicas: {description: Overrides O(purge_replicas)., type: bool}
      force_overwrite_replica: {description: Overrides O(force_overwrite_replica)., type: bool}
      current_version_id:
        description:
          - Make this existing version AWSCURRENT (C(UpdateSecretVersionStage)). The version it replaces becomes
            AWSPREVIOUS.
          - Rolling back to an earlier version is idempotent, so a second run changes nothing.
          - An unknown version ID fails this secret with the code C(UnknownVersionId).
          - It cannot be given together with a value option.
        type: str
  prefix:
    description:
      - Prepended to every name in O(names) and O(secrets), for example C(staging/payments/).
      - With a prefix, one C(ListSecrets) listing covers every declared secret, which is the fewest calls.
        Without one, the listing takes one call for each 10 names.
  state: {description: Whether the secrets should exist. The default for every item., type: str, choices: [present, absent], default: present}
  description:
    description:
      - Default description for every secret. Unset means an existing description is left alone.
      - V("") clears the description (C(UpdateSecret) with an empty C(Description)). moto 5 ignores an empty
        description in C(UpdateSecret) and keeps the old one, so against moto the secret is reported as
        C(updated) again on every run; AWS clears it.
    type: str
  tags:
    description:
      - Default tags for every secret. Unset means existing tags are left alone.
      - The key C(envops:managed-by) is the ownership tag (see O(prune)) and cannot be declared.
      - A secret can hold at most 50 tags, the ownership tag included. More than 49 declared tags are refused before
        any call. With O(purge_tags=false), a secret whose current tags and declared tags add up to more than 50 fails
        with the code C(TooManyTags) before any write to it.
      - A tag whose value is V(null) is refused before any AWS call, naming the tag. It is almost always a
        variable that rendered to nothing; give V("") for an empty tag.
    type: dict
  purge_tags:
    description:
      - Remove tags that are not declared.
      - Applies only to secrets whose tags are given, through O(tags) or O(secrets[].tags).
      - The ownership tag C(envops:managed-by) is never removed.
    type: bool
    default: true
  kms_key_id:
    description:
      - Default KMS key for every secret. Unset means the key in use is left alone.
      - A new secret without a key uses the AWS managed key C(alias/aws/secretsmanager).
      - Keys are compared by key ARN, so an alias, an alias ARN, a key ID and a key ARN of the same key are one key,
        for replicas too. Where the text differs, each distinct reference is resolved once per run with
        C(kms:DescribeKey), a read that check mode makes too. C(alias/aws/secretsmanager) counts as no customer
        managed key.
      - A declared key that DescribeKey does not find fails that secret with the code C(KmsKeyNotFound).
      - Where DescribeKey is denied, keys are compared as text (C(alias/x) and C(key/<id>) differ), with one warning
        naming the references.
    type: str
  generate:
    description:
      - Generate a value for every secret that has none yet and declares no value of its own.
      - A value is generated only when the secret has no current version, never again on later runs.
    type: dict
    suboptions: *generate_options
  overwrite:
    description:
      - Replace an existing value that differs from the declared one.
      - With V(false) (the default), an existing value is never read or replaced. A secret with no value yet
        still gets the declared value.
      - With V(true), the current value is compared and a new version is written only when it differs.
    type: bool
    default: false
  recovery_window:
    description:
      - Days a deleted secret can still be restored, 7 to 30. V(0) deletes without recovery.
      - With V(0), a secret that is already scheduled for deletion is deleted at once.
    type: int
    default: 30
  restore:
    description:
      - Restore a secret that is declared present but scheduled for deletion (action C(restored)).
        The secret is then brought to its declared state.
      - With V(false), such a secret is reported as failed and left alone.
      - A deleted secret's value cannot be read. So with O(overwrite=true) and a declared value, the value is
        written after the restore.
    type: bool
    default: true
  prune:
    description:
      - Delete secrets under O(prefix) that are not declared, with O(recovery_window).
      - Refused without O(prefix), and with a prefix that does not end in C(/). C(ListSecrets) matches names as text,
        so C(staging/pay) would also take in C(staging/payments/...). Names are matched case-sensitively.
      - Only secrets that carry the ownership tag C(envops:managed-by=envops.aws_secrets) are deleted. The module sets
        it on every secret it creates, and O(adopt) sets it on existing declared ones. Other undeclared secrets under
        the prefix, made by hand, by Terraform or by another tool, are reported with the action C(skipped) and
        RV(secrets[].ownership=unowned), and left alone.
      - A secret that an AWS service owns (C(OwningService), for example RDS's managed master passwords) is never
        modified, tagged or pruned. It is reported as C(skipped) with RV(secrets[].ownership=service).
    type: bool
    default: false
  adopt:
    description:
      - Add the ownership tag C(envops:managed-by=envops.aws_secrets) to declared secrets that exist without it
        (change C(ownership)), so that a later O(prune) may delete them once they are no longer declared.
      - Declared secrets are managed with or without the tag; only prune looks at it.
      - This is how secrets made before this collection tagged its own, or by another tool, become owned.
    type: bool
    default: false
  json_merge:
    description:
      - For secrets with O(secrets[].json_value), manage only the declared top-level keys of the stored JSON object,
        for every such secret. An item's own O(secrets[].json_merge) overrides it.
      - Stored keys that are not declared are kept as they are, so a key another writer owns (a rotation Lambda's
        C(password), for example) survives.
      - With O(overwrite=false), only declared keys missing from the stored object are added. With O(overwrite=true),
        declared keys whose values differ are replaced too. Values are compared as typed JSON (V(true) is not V(1),
        V(1) is not V(1.0)).
      - The stored value is read with C(BatchGetSecretValue) even when O(overwrite=false). A stored value that is not
        a JSON object fails that secret with the code C(NotJsonObject). A secret scheduled for deletion cannot be
        merged (code C(JsonMergeNeedsValue)).
      - The diff names the keys that change (C(json_keys.added), C(json_keys.replaced)), never their values.
      - The merge is read-then-write. A key written by someone else between this task's read and its write is lost,
        so do not run it while the other writer (the rotation) runs.
    type: bool
    default: false
  fail_fast:
    description:
      - Stop starting new secrets after the first failure. The ones not attempted are reported as failed with
        the code C(NotAttempted).
      - By default a failure on one secret does not stop the others. The task still fails, naming every failed secret.
    type: bool
    default: false
  resource_policy:
    description:
      - The secret's resource policy, as a dictionary or a JSON string, for every secret. An item's own value
        overrides it.
      - It is compared with the current policy as parsed, normalised JSON. Statement order, a string versus a
        one-element list, and an account ID versus its root ARN never count as a change.
      - A policy over 20,480 characters (Secrets Manager's limit) is refused before any call.
      - Unset (or V(null)) leaves any existing policy alone. Ansible cannot tell V(null) from an option left
        out, so give V({}) or an empty string to remove the policy.
      - Before a changed policy is written, C(ValidateResourcePolicy) checks it, in check mode too.
        A policy it rejects fails that secret with the code C(PolicyValidationFailed).
      - Where the policy cannot be validated, one warning says why, and C(PutResourcePolicy)'s own checks remain.
        The operation may be missing at the endpoint (moto answers HTTP 500). It may be denied, and the warning
        then names the permission C(secretsmanager:ValidateResourcePolicy). Or it may fail after its retries.
    type: raw
  readers:
    description:
      - IAM role, user or account ARNs (or 12-digit account IDs) that may read each secret.
      - They are rendered as one least-privilege statement (Sid C(EnvopsAwsSecretsReaders)). It allows
        C(secretsmanager:GetSecretValue) and C(secretsmanager:DescribeSecret) on that secret to exactly these
        principals.
      - Only that statement is managed. With O(resource_policy) it is added to that policy's statements. Without
        it, it is merged into the secret's current policy (read with C(GetResourcePolicy)), and statements set
        outside this task are kept. An empty list removes only that statement (and the policy, when nothing else is
        left). The diff shows the merged policy.
      - Malformed ARNs are refused before any AWS call.
      - A principal of another account cannot decrypt a secret encrypted with the AWS managed key. Such a secret
        (its declared key, or its current one when none is declared) fails with the code
        C(CrossAccountReadersNeedCustomerKey) before any write to it; the message names the principals.
      - With a customer managed key, its key policy is read once per key (C(kms:GetKeyPolicy)). A warning names each
        reader account the key policy does not let use C(kms:Decrypt), through Secrets Manager where the policy has a
        C(kms:ViaService) condition. It is a check of Allow statements, not a full IAM evaluation. A key policy that
        cannot be read gives a warning, not a failure.
      - The account of the secrets comes from the listing, or from C(sts:GetCallerIdentity) when no declared secret
        exists yet.
    type: list
    elements: str
  block_public_policy: {description: Refuse a policy that would give public access (C(BlockPublicPolicy))., type: bool, default: true}
  rotation:
    description:
      - "Rotation for every secret, or V({enabled: false}) to cancel it. An item's own value overrides it."
      - The rules the service returns are compared with the declared ones, so an unchanged schedule is never
        rotated again. Only the declared rule keys are compared.
      - C(RotateSecret) is a write, so check mode never calls it.
    type: dict
    suboptions: *rotation_options
  replica_regions:
    description:
      - Regions each secret is replicated to, for every secret. An item's own value overrides it.
      - Missing replicas are added. With O(purge_replicas), replicas in other regions are removed.
      - A replica whose declared KMS key differs is re-keyed by replacing it, because AWS cannot change a
        replica's key in place.
      - Deleting a secret first removes its replicas, as AWS requires.
      - A replica that AWS reports as C(Failed), for example because a secret of the same name already exists in
        that region, fails the secret with the code C(ReplicationFailed) and AWS's status message. This happens when
        it is added and on later runs. With O(force_overwrite_replica=true) such a replica is removed and
        replicated again with C(ForceOverwriteReplicaSecret).
    type: list
    elements: dict
    suboptions: *replica_options
  purge_replicas: {description: Remove replicas in regions that O(replica_regions) does not list. Applies only where it is given., type: bool, default: true}
  force_overwrite_replica:
    description:
      - Overwrite a secret of the same name in a replica region (C(ForceOverwriteReplicaSecret)).
      - A replica already in the C(Failed) state is removed and replicated again.
    type: bool
    default: false
notes:
  - Bad input is refused before any AWS call. A single message then names every offending item by its index and name.
    The checks cover names outside Secrets Manager's rules (letters, digits and C(/_+=.@-), 1 to 512 characters with
    the prefix), empty, null or whitespace-only names, duplicate full names, more than one value option, values over
    65,536 bytes (in UTF-8), tags with a V(null) value, a replica in the module's own region, a bad or duplicate
    O(secrets[].env_name), a bad O(recovery_window) and O(concurrency) out of range.
  - A name is checked whole. A final newline does not slip past the check, as it would with Python's C($).
  - The warning about a name that ends with a hyphen and six characters (which Secrets Manager may confuse with an
    ARN's random suffix) is given only when such a secret is being created, once per name.
  - Several secrets can map to the same environment-variable name, for example C(db-password), C(db_password) and
    C(db/password) all give C(DB_PASSWORD). A warning then names them, and RV(ecs_secrets) and
    RV(lambda_environment) keep only the first in input order. O(secrets[].env_name) sets a name of its own.
  - "A failure after a write hides nothing. When a step fails after earlier steps changed the secret (for example
    C(CreateSecret) went through and C(PutResourcePolicy) or C(RotateSecret) then failed), the secret is reported
    as C(failed) with C(changed: true). Its RV(secrets[].arn), RV(secrets[].version_id) and entry in RV(arns) stay.
    RV(secrets[].error) names the failed step and AWS's code. RV(secrets[].rotation_enabled),
    RV(secrets[].replicas) and RV(secrets[].policy_managed) say how things really are after the failure.
    RV(summary) counts it under C(failed). A rerun carries out the remaining steps."
  - C(ListSecrets) can lag writes on AWS. A C(CreateSecret) that meets an existing secret then falls back to
    C(DescribeSecret), and the secret is reconciled instead of failing.
  - Every value write carries a C(ClientRequestToken), which becomes the version's public C(VersionId). It is
    computed once, when the write is planned, so retries within a run send it again and never make a second version.
  - Where the value being replaced was read (O(overwrite=true)), the token is an HMAC-SHA256 keyed by a hash of that
    stored value. It covers the name, the labelled versions the write was planned on and a hash of the new value.
    So two jobs that make the same change on the same state send the same token, and Secrets Manager keeps a single
    version. A different value written on the same state gets a different token, as after a rollback followed by
    a new value, where AWS lists only labelled versions and the state looks as it did before. And without the
    replaced value the token cannot be used to test guesses of the new one.
  - The same value written again on a state seen before repeats its token. Secrets Manager then ignores the write,
    so the module moves C(AWSCURRENT) to the version that already holds that value (C(UpdateSecretVersionStage)).
  - Where no stored value is shared between runs (a create, a secret with no value, a generated value), the token is
    random. A second job that raced the first is reconciled when C(CreateSecret) meets the existing secret, or
    converges on its rerun.
  - When another job changed a secret at the same moment and Secrets Manager refuses this run's write because of
    it, the secret fails with the code C(ConcurrentModification). The message says that another run changed the
    secret at the same time, and that a rerun converges.
  - "Permissions: C(secretsmanager:ListSecrets), plus C(secretsmanager:BatchGetSecretValue) and
    C(secretsmanager:GetSecretValue) when O(overwrite=true). For changes: C(CreateSecret), C(UpdateSecret),
    C(PutSecretValue), C(TagResource), C(UntagResource), C(DeleteSecret), C(RestoreSecret), C(DescribeSecret)
    and C(GetRandomPassword). Add C(kms:GenerateDataKey) and C(kms:Decrypt) for customer managed keys,
    C(kms:DescribeKey) to compare keys named in different forms, and C(kms:GetKeyPolicy) and
    C(sts:GetCallerIdentity) for O(readers) in other accounts."
  - "Ownership: every secret the module creates carries the tag C(envops:managed-by=envops.aws_secrets). The key is
    namespaced so that it never clashes with another tool's C(managed-by) tag. O(prune) deletes only undeclared
    secrets that carry it. Secrets that existed before (made by hand, by Terraform, or by a release of this
    collection without the tag) are managed as before while they are declared; give O(adopt=true) once to tag them,
    after which prune may delete them when they are no longer declared."
extends_documentation_fragment: [envops.aws_secrets.common, amazon.aws.common.modules, amazon.aws.region.modules,
                                 amazon.aws.boto3]
attributes:
  check_mode:
    support: full
    description: Reports the plan a real run would carry out, with no write call.
  diff_mode:
    support: full
    description: Shows each changing secret's managed attributes before and after. Values appear only as markers.
"""

EXAMPLES = r"""
- name: Make sure the environment's secrets exist, generating values for new ones
  envops.aws_secrets.aws_secrets_manager_set:
    prefix: staging/payments/
    names:
      - db-password
      - stripe-api-key
      - session-signing-key
    generate:
      length: 40
      exclude_punctuation: true
    tags:
      environment: staging
      team: payments

- name: Declare secrets one by one, with values from the vault and per-secret settings
  envops.aws_secrets.aws_secrets_manager_set:
    prefix: "{{ env_name }}/"
    kms_key_id: alias/payments
    overwrite: true
    secrets:
      - name: db
        description: Payments database credentials
        json_value:
          username: payments
          password: "{{ vault_payments_db_password }}"
      - name: tls-key
        binary_value: "{{ lookup('ansible.builtin.file', 'tls.key') | b64encode }}"
        tags:
          rotation: manual
      - name: legacy-token
        state: absent
        recovery_window: 7
  register: payments_secrets

- name: Use the ARNs, for example in an ECS task definition
  ansible.builtin.debug:
    msg: "{{ payments_secrets.arns['staging/db'] }}"

- name: Remove every secret under the prefix that is no longer declared
  envops.aws_secrets.aws_secrets_manager_set:
    prefix: staging/payments/
    names: [db-password, stripe-api-key]
    prune: true
    recovery_window: 7

- name: Share a JSON secret with a rotation Lambda, which owns the password key
  envops.aws_secrets.aws_secrets_manager_set:
    prefix: staging/payments/
    overwrite: true
    secrets:
      - name: db
        json_merge: true
        json_value:
          engine: postgres
          host: "{{ db_endpoint }}"
          port: 5432
          dbname: payments
          username: payments_app
        rotation:
          lambda_arn: "{{ rotation_lambda_arn }}"
          automatically_after_days: 30
          rotate_immediately: true

- name: Tag secrets made before (or by hand) as owned, so that prune may delete them later
  envops.aws_secrets.aws_secrets_manager_set:
    prefix: staging/payments/
    names: [db-password, stripe-api-key]
    adopt: true

- name: Point every module of the collection at one endpoint and region
  module_defaults:
    group/envops.aws_secrets.aws:
      region: eu-west-1
      endpoint_url: "{{ secretsmanager_endpoint | default(omit) }}"
  block:
    - name: Create the secrets
      envops.aws_secrets.aws_secrets_manager_set:
        names: [shared/api-key]
        generate: {}
"""

RETURN = r"""
changed:
  description: Whether any secret changed (or would change, in check mode).
  returned: always
  type: bool
secrets:
  description:
    - One entry for each declared secret, in input order (O(names) first, then O(secrets)).
    - Entries for pruned secrets follow, in name order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The full name, prefix included.
      type: str
      sample: staging/payments/db-password
    arn:
      description: The secret's ARN. V(null) for a secret that does not exist, or that check mode would create.
      type: str
      sample: arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging/payments/db-password-AbCdEf
    action:
      description: What was done (or, in check mode, would be done).
      type: str
      sample: created
      choices: [created, updated, unchanged, deleted, restored, absent, failed, skipped]
    ownership:
      description:
        - V(owned) for a secret that carries the ownership tag (or gets it in this run), V(unowned) for one without
          it, V(service) for one an AWS service owns (C(OwningService)), V(null) for one that does not exist.
        - An entry with the action C(skipped) was left alone because of its ownership. A C(skipped) entry of a secret
          that is not declared is one O(prune) did not delete; such entries are not in RV(arns).
      type: str
      choices: [owned, unowned, service]
    changed:
      description: Whether this secret changed.
      type: bool
    changes:
      description: The attributes that differ (or, for a new secret, that are set).
      type: list
      elements: str
      sample: [value, tags]
    steps:
      description:
        - The write calls of this secret's plan, in order, as the API names them.
        - In check mode, the calls a real run would make. In a real run, the calls that were made; for a failed
          secret, the ones that succeeded before the failure.
      type: list
      elements: str
      sample: [CreateSecret, PutResourcePolicy]
    version_id:
      description: The version written, where a value was written.
      type: str
      returned: when a value was written
    rotation_enabled:
      description:
        - Whether rotation is on (or, in check mode, would be on).
        - For a failed secret, whether it is on after the failure.
      type: bool
    replicas:
      description:
        - The secret's replicas with their replication status. The status is V(null) where not known yet.
        - A C(Failed) replica also has C(status_message), AWS's reason.
        - For a failed secret, the replicas as they are after the failure.
      type: list
      elements: dict
      sample: [{"region": "eu-west-1", "status": "InSync"}]
    policy_managed:
      description:
        - Whether this task manages the secret's resource policy.
        - For a failed secret, whether the declared policy is in place.
      type: bool
    error:
      description:
        - The AWS error code and message, where this secret failed.
        - C(step) is the API operation that failed, where the failure came from a write step.
      type: dict
      returned: when the secret failed
      sample: {"code": "AccessDeniedException", "message": "User is not authorized to perform ...",
               "step": "PutResourcePolicy"}
summary:
  description: How many secrets took each action, plus the total.
  returned: always
  type: dict
  sample: {"created": 3, "updated": 0, "unchanged": 97, "deleted": 0, "restored": 0, "absent": 0, "failed": 0,
           "skipped": 0, "total": 100}
arns:
  description: Full name to ARN of every secret that exists (or, in check mode, already exists).
  returned: always
  type: dict
  sample: {"staging/payments/db-password": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging/payments/db-password-AbCdEf"}
ecs_secrets:
  description:
    - Every secret that exists (or, in check mode, already exists), ready for an ECS container definition's
      C(secrets).
    - The name is the environment-variable form of the secret's name without O(prefix). It is upper case, and
      every run of characters other than letters and digits becomes one underscore, with none at the ends. A
      leading digit gets an underscore in front. So C(db/password) gives C(DB_PASSWORD) and C(2fa-seed) gives
      C(_2FA_SEED).
    - O(secrets[].env_name) sets the name instead. Where several secrets map to one name, a warning names them and
      only the first in input order is kept.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging/db/password-AbCdEf"}]
lambda_environment:
  description: The same names as RV(ecs_secrets), mapped to ARNs, for a Lambda function's environment.
  returned: always
  type: dict
  sample: {"DB_PASSWORD": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging/db/password-AbCdEf"}
api_calls:
  description: The AWS API calls the module made, by operation, without retries.
  returned: always
  type: dict
  sample: {"list_secrets": 1, "create_secret": 3}
diff:
  description:
    - With C(--diff), each changing secret's managed attributes before and after, keyed by full name.
    - Values appear only as the markers C((set)), C((none)), C((will change)) or C((will be generated)),
      never as a value or a hash of one.
    - With O(json_merge), C(json_keys) in "after" names the keys added and replaced, never their values.
    - With O(adopt), C(ownership) shows V(unowned) before and V(owned) after.
  returned: in diff mode
  type: dict
  sample: {"before": {"staging/db": {"state": "absent"}},
           "after": {"staging/db": {"state": "present", "value": "(will change)", "tags": {"team": "payments"}}}}
"""

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_module import run_module
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import set_module_argument_spec


def main():
    run_module(set_module_argument_spec())


if __name__ == "__main__":
    main()

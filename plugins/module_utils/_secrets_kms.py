# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS keys: one identity for every way of naming a key, and whether readers can decrypt with it.

The same key can be named by alias, alias ARN, key ID or key ARN, and Secrets Manager reports it
the way it was given. Comparing text would then plan an UpdateSecret (or a replica re-key) on every
run. Each distinct reference is resolved once per run with kms:DescribeKey, a read, and keys are
compared by key ARN; the AWS managed key counts as "no customer key". Where DescribeKey is denied,
keys are compared as text, with one warning.
Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Callable, Dict, Iterable, List, Optional, Tuple

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing SDK

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import error_of

DEFAULT_KMS_ALIAS = "alias/aws/secretsmanager"
AWS_MANAGED, CUSTOMER_MANAGED = "AWS", "CUSTOMER"
KEY_NOT_FOUND_CODES = ("NotFoundException",)


def key_tail(reference: str) -> str:
    """"key/<id>" or "alias/<name>" from any form: ARN, alias name or bare key id."""
    if reference.startswith("arn:"):
        reference = reference.split(":", 5)[-1]
    if reference.startswith(("key/", "alias/")):
        return reference
    return "key/" + reference


def same_key_text(current: Optional[str], declared: str) -> bool:
    """The text comparison: no key in use means the AWS managed default."""
    return key_tail(current or DEFAULT_KMS_ALIAS) == key_tail(declared or DEFAULT_KMS_ALIAS)


def is_default_key(reference: Optional[str]) -> bool:
    """Whether the reference names the AWS managed key of Secrets Manager (or no key at all)."""
    return not reference or key_tail(reference) == DEFAULT_KMS_ALIAS


@dataclass(frozen=True)
class KmsKey:
    """What DescribeKey said about one reference, or why it could not say."""

    reference: str
    arn: Optional[str] = None
    key_manager: Optional[str] = None
    error: Optional[dict] = None

    @property
    def not_found(self) -> bool:
        return bool(self.error) and self.error["code"] in KEY_NOT_FOUND_CODES

    def identity(self) -> Optional[str]:
        """The key ARN, or None for an AWS managed key ("no customer key")."""
        return None if self.key_manager == AWS_MANAGED else self.arn


class KmsKeys:
    """DescribeKey and GetKeyPolicy answers for one run, each reference asked once per region.

    `calls_for_region(region)` gives a counted caller (like SecretsManagerCalls) of the KMS client in
    that region; None is the module's own region.
    """

    def __init__(self, calls_for_region: Callable[[Optional[str]], Callable], concurrency: int):
        self._calls_for_region = calls_for_region
        self._concurrency = concurrency
        self._lock = threading.Lock()
        self._keys: Dict[Tuple[Optional[str], str], KmsKey] = {}
        self._policies: Dict[Tuple[Optional[str], str], Tuple[Optional[dict], Optional[dict]]] = {}
        self.text_compared: List[str] = []  # references compared as text because DescribeKey failed

    def resolve(self, references: Iterable[Tuple[Optional[str], str]]) -> None:
        """Describe every distinct (region, reference) not asked yet, in parallel; never raises."""
        wanted = sorted({(region, reference) for region, reference in references
                         if reference and not is_default_key(reference) and (region, reference) not in self._keys},
                        key=lambda item: (item[0] or "", item[1]))
        if not wanted:
            return
        for region in sorted({region or "" for region, _reference in wanted}):
            self._calls_for_region(region or None)  # clients are made here, not in the worker threads

        def describe(item):
            region, reference = item
            try:
                answer = self._calls_for_region(region)("describe_key", KeyId=reference)
            except (BotoCoreError, ClientError) as error:
                return item, KmsKey(reference=reference, error=error_of(error))
            metadata = answer.get("KeyMetadata") or {}
            return item, KmsKey(reference=reference, arn=metadata.get("Arn"), key_manager=metadata.get("KeyManager"))

        with ThreadPoolExecutor(max_workers=max(1, min(self._concurrency, len(wanted)))) as pool:
            for item, key in pool.map(describe, wanted):
                with self._lock:
                    self._keys[item] = key

    def key(self, region: Optional[str], reference: Optional[str]) -> Optional[KmsKey]:
        return self._keys.get((region, reference)) if reference else None

    def same_key(self, region: Optional[str], current: Optional[str], declared: str) -> Tuple[bool, Optional[dict]]:
        """(whether the declared key is the one in use, error for a declared key that does not exist)."""
        if same_key_text(current, declared):
            return True, None
        declared_key = None if is_default_key(declared) else self.key(region, declared)
        if declared_key is not None and declared_key.not_found:
            return False, {"code": "KmsKeyNotFound", "message": "KMS key {0!r} was not found{1}".format(
                declared, " in " + region if region else "")}
        identities, unresolved = [], []
        for reference in (current, declared):
            key = None if is_default_key(reference) else self.key(region, reference)
            if not is_default_key(reference) and (key is None or key.error):
                unresolved.append(reference)
            identities.append(key.identity() if key is not None else None)
        if unresolved:
            with self._lock:
                self.text_compared.extend(ref for ref in unresolved if ref not in self.text_compared)
            return False, None
        return identities[0] == identities[1], None

    def key_policy(self, region: Optional[str], key_arn: str) -> Tuple[Optional[dict], Optional[dict]]:
        """(the key's default policy, or the error that kept it from being read); asked once per key."""
        if (region, key_arn) not in self._policies:
            try:
                answer = self._calls_for_region(region)("get_key_policy", KeyId=key_arn, PolicyName="default")
                policy = json.loads(answer.get("Policy") or "{}")
                self._policies[(region, key_arn)] = (policy if isinstance(policy, dict) else {}), None
            except (BotoCoreError, ClientError) as error:
                self._policies[(region, key_arn)] = None, error_of(error)
            except ValueError:
                unparseable = {"code": "UnparseablePolicy", "message": "the key policy is not valid JSON"}
                self._policies[(region, key_arn)] = None, unparseable
        return self._policies[(region, key_arn)]

    def warnings(self) -> List[str]:
        if not self.text_compared:
            return []
        return ["kms:DescribeKey could not resolve {0}; these KMS keys were compared as text, so the same key named "
                "two ways (alias and key ARN, for example) counts as a change. Allow kms:DescribeKey to compare "
                "key ARNs.".format(", ".join(repr(reference) for reference in sorted(self.text_compared)))]


def _foreign_readers(declared, own_account: Optional[str]) -> List[str]:
    if not own_account:
        return []
    return [reader for reader in (getattr(declared, "readers", None) or ()) if account_of(reader) not in (None, own_account)]


def kms_references(declared_secrets, current_by_name, own_account: Optional[str] = None) -> List[Tuple[Optional[str], str]]:
    """(region, reference) pairs the plan must resolve: only where the text comparison differs, and
    the key of every secret with readers in other accounts, for the cross-account check."""
    references = []
    for declared in declared_secrets:
        if declared.state != "present":
            continue
        current = current_by_name.get(declared.full_name)
        if current is not None and declared.kms_key_id and not same_key_text(current.kms_key_id, declared.kms_key_id):
            references += [(None, declared.kms_key_id), (None, current.kms_key_id)]
        if current is not None and declared.replicas:
            existing = {replica["region"]: replica.get("kms_key_id") for replica in (current.replicas or ())}
            for region, kms_key_id in declared.replicas:
                if kms_key_id and region in existing and not same_key_text(existing[region], kms_key_id):
                    references += [(region, kms_key_id), (region, existing[region])]
        if _foreign_readers(declared, own_account):
            references.append((None, declared.kms_key_id or (current.kms_key_id if current else None)))
    return [(region, reference) for region, reference in references if reference]


def account_of(principal: str) -> Optional[str]:
    """The account of a reader: a 12-digit ID or the account field of an IAM ARN."""
    principal = str(principal)
    if principal.isdigit():
        return principal
    parts = principal.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


def _as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, (str, dict)) else list(value)


def _statement_principals(statement: dict) -> List[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [str(item) for item in _as_list(principal.get("AWS"))]
    return []


def _conditions_allow(statement: dict, account: str, region: Optional[str]) -> bool:
    """kms:ViaService must admit Secrets Manager and kms:CallerAccount the account; other keys are not judged."""
    service = "secretsmanager.{0}.amazonaws.com".format(region or "*")
    for operator_block in (statement.get("Condition") or {}).values():
        if not isinstance(operator_block, dict):
            continue
        for condition_key, values in operator_block.items():
            values = [str(value) for value in _as_list(values)]
            if condition_key.lower() == "kms:viaservice" and not any(
                    fnmatchcase(service, value) or fnmatchcase(value, service) for value in values):
                return False
            if condition_key.lower() == "kms:calleraccount" and account not in values:
                return False
    return True


def key_policy_lets_decrypt(policy: dict, account: str, region: Optional[str]) -> bool:
    """Whether an Allow statement gives `account` kms:Decrypt, through Secrets Manager where it says so.

    A heuristic for a warning, not an IAM evaluator: Deny, NotAction and NotPrincipal statements and
    condition keys other than kms:ViaService and kms:CallerAccount are not judged.
    """
    statements = _as_list(policy.get("Statement"))
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if not any(fnmatchcase("kms:decrypt", str(action).lower()) for action in _as_list(statement.get("Action"))):
            continue
        principals = _statement_principals(statement)
        if not any(principal == "*" or account_of(principal) == account for principal in principals):
            continue
        if _conditions_allow(statement, account, region):
            return True
    return False


def cross_account_checks(declared_secrets, current_by_name, own_account: Optional[str], kms_keys: KmsKeys,
                         region: Optional[str]) -> Tuple[Dict[str, dict], List[str]]:
    """(errors by secret name, warnings) for readers in other accounts.

    The AWS managed key cannot be used by another account, so such a secret fails before any write.
    A customer managed key's policy is read once per key and each reader account it does not let
    decrypt through Secrets Manager is named in a warning.
    """
    errors, warnings = {}, []
    accounts_missing_by_key: Dict[str, Dict[str, List[str]]] = {}
    unreadable_by_key: Dict[str, Tuple[dict, List[str]]] = {}
    for declared in declared_secrets:
        foreign = _foreign_readers(declared, own_account)
        if declared.state != "present" or not foreign:
            continue
        current = current_by_name.get(declared.full_name)
        reference = declared.kms_key_id or (current.kms_key_id if current else None)
        key = None if is_default_key(reference) else kms_keys.key(None, reference)
        if is_default_key(reference) or (key is not None and key.key_manager == AWS_MANAGED):
            errors[declared.full_name] = {
                "code": "CrossAccountReadersNeedCustomerKey",
                "message": "readers in other accounts ({0}) cannot decrypt a secret encrypted with the AWS managed key "
                           "aws/secretsmanager. Set kms_key_id to a customer managed key whose key policy lets "
                           "those accounts use kms:Decrypt through Secrets Manager.".format(", ".join(foreign)),
            }
            continue
        if key is None or key.error or not key.arn:
            code = key.error["code"] if key is not None and key.error else "NotResolved"
            unreadable_by_key.setdefault(reference, ({"code": code}, []))[1].append(declared.full_name)
            continue
        policy, error = kms_keys.key_policy(None, key.arn)
        if error:
            unreadable_by_key.setdefault(key.arn, (error, []))[1].append(declared.full_name)
            continue
        for account in sorted({account_of(reader) for reader in foreign}):
            if not key_policy_lets_decrypt(policy, account, region):
                accounts_missing_by_key.setdefault(key.arn, {}).setdefault(account, []).append(declared.full_name)
    for key_ref, (error, names) in sorted(unreadable_by_key.items()):
        warnings.append("Could not check KMS key {0} for readers in other accounts ({1}): {2}. Make sure its key "
                        "policy lets their accounts decrypt through Secrets Manager.".format(
                            key_ref, error["code"], ", ".join(sorted(set(names)))))
    for key_arn, names_by_account in sorted(accounts_missing_by_key.items()):
        warnings.append("The key policy of KMS key {0} does not let account{1} {2} decrypt through Secrets Manager, "
                        "so readers there cannot read {3}. Grant kms:Decrypt to those accounts (with kms:ViaService "
                        "secretsmanager.<region>.amazonaws.com).".format(
                            key_arn, "s" if len(names_by_account) > 1 else "", ", ".join(sorted(names_by_account)),
                            ", ".join(sorted({name for names in names_by_account.values() for name in names}))))
    return errors, warnings


def own_account_from(current_by_name) -> Optional[str]:
    """The account of the listed secrets (ListSecrets lists the caller's own), or None when none is listed."""
    for current in current_by_name.values():
        account = account_of(current.arn)
        if account:
            return account
    return None


class AccountUnknown(Exception):
    """sts:GetCallerIdentity failed, so readers in other accounts cannot be told from readers in this one."""

    def __init__(self, error: dict):
        super().__init__(error["code"])
        self.error = error


def check_access(kms_keys: KmsKeys, caller_account: Callable[[], Optional[str]], declared_secrets,
                 current_by_name, region: Optional[str]) -> Tuple[Dict[str, dict], List[str]]:
    """Resolve every KMS key the plans compare, then check readers in other accounts: (errors by name, warnings).

    caller_account() asks STS, only when readers name an account and no listed secret tells the caller's own.
    """
    own_account = own_account_from(current_by_name)
    readers_accounts = {account_of(reader) for declared in declared_secrets for reader in (declared.readers or ())}
    if own_account is None and readers_accounts - {None}:
        try:
            own_account = caller_account()
        except (BotoCoreError, ClientError) as error:
            raise AccountUnknown(error_of(error)) from None
    kms_keys.resolve(kms_references(declared_secrets, current_by_name, own_account))
    return cross_account_checks(declared_secrets, current_by_name, own_account, kms_keys, region)

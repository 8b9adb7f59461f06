# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one pipeline of aws_secrets_manager_set: declare, read, plan, apply, report.

Each stage is one module_utils file, visited once in this order (docs/development.md, "How a task
flows"). run() knows nothing of AnsibleModule: it takes the module's parameters and a factory of
counted callers, so the whole pipeline runs in unit tests on fake callers.
Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing SDK

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_apply import apply_plans
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import error_of
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import Declaration
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import DeclarationError
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_kms import AccountUnknown
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_kms import KmsKeys
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_kms import check_access
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import SKIPPED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import SecretPlan
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_all
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_secret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import resume_create
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_report import build_result
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_report import failure_message
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentSecret
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentState
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import describe_current
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import read_state

# calls_for(service, region, concurrency) -> a counted, masked caller (SecretsManagerCalls) of that service.
CallsFactory = Callable[[str, Optional[str], int], Callable]


class RunFailure(Exception):
    """The run stopped before any write: bad input, or the listing (or STS) failed. `fields` join the result."""

    def __init__(self, msg: str, **fields):
        super().__init__(msg)
        self.msg = msg
        self.fields = fields


@dataclass
class Run:
    """What a run reports: the result, the warnings to emit, and the failure message when a secret failed."""

    result: dict
    warnings: List[str] = field(default_factory=list)
    failure: Optional[str] = None


class Callers:
    """One counted caller per service and region, made on first use; their counts are the result's api_calls."""

    def __init__(self, calls_for: CallsFactory, concurrency: int):
        self._calls_for = calls_for
        self._concurrency = concurrency
        self._lock = threading.Lock()
        self._callers: Dict[Tuple[str, Optional[str]], Callable] = {}
        self._account: List[Optional[str]] = []

    def __call__(self, service: str, region: Optional[str] = None):
        with self._lock:
            if (service, region) not in self._callers:
                self._callers[(service, region)] = self._calls_for(service, region, self._concurrency)
            return self._callers[(service, region)]

    def caller_account(self) -> Optional[str]:
        """The caller's account, from STS, asked once a run."""
        if not self._account:
            self._account.append(self("sts")("get_caller_identity").get("Account"))
        return self._account[0]

    def counts(self) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for calls in self._callers.values():
            for operation, count in calls.calls_by_operation.items():
                counts[operation] = counts.get(operation, 0) + count
        return counts


class StateReads:
    """The read pass, for the whole declaration and again for a secret a CreateSecret found to exist."""

    def __init__(self, callers: Callers, declaration: Declaration, region: Optional[str], masker,
                 warnings: List[str]):
        self.callers = callers
        self.calls = callers("secretsmanager")
        self.declaration = declaration
        self.region = region
        self.masker = masker
        self.warnings = warnings
        self.kms_keys = KmsKeys(lambda key_region: callers("kms", key_region), declaration.concurrency)

    def _check_access(self, declaration: Declaration):
        def check(secrets: Dict[str, CurrentSecret]):
            errors, warnings = check_access(self.kms_keys, self.callers.caller_account, declaration.secrets, secrets,
                                            self.region)
            self.warnings.extend(warnings)
            return self.kms_keys, errors
        return check

    def read(self, declaration: Declaration, listed: Optional[Dict[str, CurrentSecret]] = None) -> CurrentState:
        state = read_state(self.calls, declaration, declaration.concurrency, self._check_access(declaration),
                           self.warnings.append, listed=listed)
        for current_value in state.values.values():
            self.masker.add_value(current_value.binary if current_value.binary is not None else current_value.string)
        return state

    def describe(self, secret_id: str) -> Optional[CurrentSecret]:
        return describe_current(self.calls, secret_id)

    def after_create_conflict(self, plan: SecretPlan) -> Optional[SecretPlan]:
        """The plan for a secret that CreateSecret found to exist after all; None when it does not."""
        current = self.describe(plan.full_name)
        if current is None:
            return None
        if plan.value_token and current.current_version_id == plan.value_token:
            return resume_create(plan, current)
        alone = dataclasses.replace(self.declaration, secrets=[plan.declared], prune=False)
        return plan_secret(plan.declared, self.read(alone, listed={plan.full_name: current}))


def _service_owned_warnings(plans: List[SecretPlan]) -> List[str]:
    message = ("{0} is owned by the AWS service {1!r} (OwningService), so this module never changes it; declared "
               "changes ({2}) were not made")
    return [message.format(plan.full_name, plan.current.owning_service, ", ".join(plan.changes) or "delete")
            for plan in plans if plan.action == SKIPPED and plan.declared is not None]


def run(params: dict, region: Optional[str], calls_for: CallsFactory, masker, check_mode: bool = False,
        with_diff: bool = False) -> Run:
    """Bring the declared secrets to their state; raises RunFailure when nothing could be planned."""
    try:
        declaration = declare(params, region=region)
    except DeclarationError as error:
        raise RunFailure(str(error), problems=error.problems) from None
    masker.add_forms(declaration.sensitive_values)
    callers = Callers(calls_for, declaration.concurrency)
    warnings: List[str] = []
    reads = StateReads(callers, declaration, region, masker, warnings)
    try:
        state = reads.read(declaration)
    except AccountUnknown as failure:
        raise RunFailure("Could not tell the account of the secrets (sts:GetCallerIdentity): {code}: {message}".format(
            **failure.error), error=failure.error) from None
    except (BotoCoreError, ClientError) as error:
        found = error_of(error)
        raise RunFailure("Could not list the current secrets: {code}: {message}".format(**found),
                         error=found) from None
    plans = plan_all(declaration, state)
    warnings += _service_owned_warnings(plans)
    outcomes = {}
    if not check_mode:
        outcomes = apply_plans(plans, reads.calls, declaration.concurrency, declaration.fail_fast, masker.add_forms,
                               reads)
    warnings += reads.kms_keys.warnings()
    result = build_result(plans, outcomes, with_diff=with_diff, prefix=declaration.prefix, warn=warnings.append)
    result["api_calls"] = callers.counts()
    # A reread after a create conflict may say again what the main pass said (ValidateResourcePolicy unavailable).
    return Run(result=result, warnings=list(dict.fromkeys(warnings)), failure=failure_message(result))

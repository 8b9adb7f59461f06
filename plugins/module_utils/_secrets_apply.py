# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Applying plans: each secret's steps in order, secrets in a bounded pool of threads.

Never called in check mode. Internal to the envops.aws_secrets collection: not a public API.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing SDK

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import RETRYABLE_ERROR_CODES
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import error_of
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import CREATED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import FAILED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import SecretPlan
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import Step
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import replica_failed
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import replication_failure
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import generated_payload
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_mask import payload_forms

NOT_ATTEMPTED = {
    "code": "NotAttempted",
    "message": "not attempted: fail_fast stopped the run after an earlier failure",
}
SERVICE_FAILING = {
    "code": "NotAttempted",
    "message": "not attempted: {0} secrets in a row failed with throttling or service errors after every retry",
}
# Codes that say "the service is struggling", as opposed to "this secret is wrong".
TRANSIENT_ERROR_CODES = frozenset(RETRYABLE_ERROR_CODES) | {
    "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "InternalFailure", "ServiceUnavailable",
    "ConnectionClosedError", "EndpointConnectionError", "ReadTimeoutError", "ConnectTimeoutError",
}
MIN_CIRCUIT_THRESHOLD = 4
# What another run changing the same secret at the same moment looks like to the loser.
CONCURRENT_CHANGE = {
    "code": "ConcurrentModification",
    "message": "another run changed this secret at the same time, so Secrets Manager refused this write "
               "({0}); rerun the task to converge",
}


def api_operation_name(operation: str) -> str:
    """boto3's method name as the API names it: put_resource_policy -> PutResourcePolicy."""
    return "".join(part.title() for part in operation.split("_"))


def _is_concurrent_change(operation: Optional[str], error: dict) -> bool:
    message = error.get("message") or ""
    if error["code"] == "ResourceExistsException" and "ClientRequestToken" in message:
        return True  # the token this run derived was used by another run's write of a different value
    # The version this run planned to move AWSCURRENT from is no longer current.
    return (operation == "update_secret_version_stage" and error["code"] == "InvalidParameterException"
            and "AWSCURRENT" in message and ("not found in version" in message or "RemoveFromVersionId" in message))


def failure_of(error: Exception, operation: Optional[str]) -> dict:
    """The error of a failed step: AWS's code and message, and the API operation that failed."""
    failure = error_of(error)
    if _is_concurrent_change(operation, failure):
        failure = dict(CONCURRENT_CHANGE, message=CONCURRENT_CHANGE["message"].format(failure["code"]))
    if operation:
        failure["step"] = api_operation_name(operation)
    return failure


class StepFailure(Exception):
    """A step AWS accepted but whose result is a failure (a replica that failed at once)."""

    def __init__(self, error: dict):
        super().__init__(error["code"])
        self.error = error


@dataclass
class Outcome:
    """What applying one plan did."""

    action: str
    changes: List[str]
    arn: Optional[str] = None
    version_id: Optional[str] = None
    wrote: bool = False
    error: Optional[dict] = None
    replica_statuses: Optional[List[dict]] = None  # as the last replication call returned them
    step: Optional[str] = None  # the operation under way, so a failure can say which step failed
    done_steps: List[str] = field(default_factory=list)  # operations that succeeded, in order


class _SecretWriter:
    """Carries out one plan's steps in order; generated and merged values are registered for masking first.

    `rereads` gives what only a write can reveal: describe(secret_id) for a delete AWS refused, and
    after_create_conflict(plan) for a CreateSecret that met an existing secret (the listing lags on AWS).
    """

    def __init__(self, calls, register_sensitive: Callable[[set], None], rereads):
        self.calls = calls
        self.register_sensitive = register_sensitive
        self.rereads = rereads

    def _payload(self, plan: SecretPlan, generated):
        if plan.merged_payload is not None:
            # Stored keys and declared keys in one text: a form that neither value had on its own.
            self.register_sensitive(payload_forms(plan.merged_payload))
            return plan.merged_payload
        if plan.declared.payload is not None:
            return plan.declared.payload
        if generated[0] is None:
            options = plan.declared.generate
            answer = self.calls(
                "get_random_password",
                PasswordLength=options["length"],
                ExcludeCharacters=options.get("exclude_characters") or "",
                ExcludePunctuation=options["exclude_punctuation"],
                ExcludeNumbers=options["exclude_numbers"],
                ExcludeUppercase=options["exclude_uppercase"],
                ExcludeLowercase=options["exclude_lowercase"],
                IncludeSpace=options["include_space"],
                RequireEachIncludedType=options["require_each_included_type"],
            )
            generated[0] = generated_payload(answer["RandomPassword"], options.get("json_key"))
            self.register_sensitive(payload_forms(generated[0]))
        return generated[0]

    def _call(self, outcome: Outcome, operation: str, **params) -> dict:
        """One call, recorded in the outcome: the step under way, then the steps done."""
        outcome.step = operation
        answer = self.calls(operation, **params)
        outcome.done_steps.append(operation)
        return answer

    def apply(self, plan: SecretPlan, outcome: Outcome) -> None:
        """Carry out the plan's steps; on an exception, `outcome` holds what was done before it.

        A CreateSecret that meets an existing secret is replanned once, from what is read of it then,
        and the replanned steps run instead: a flat second pass, never a recursion.
        """
        generated = [None]  # a generated value is asked for once, and reused by the replanned steps
        try:
            self._run_steps(plan, outcome, generated)
            return
        except is_boto3_error_code(["ResourceExistsException", "InvalidRequestException"]) as conflict:
            if outcome.step != "create_secret":
                raise
            replanned = self.rereads.after_create_conflict(plan)
            if replanned is None:
                raise conflict
        outcome.arn = replanned.arn
        if replanned.action == CREATED:
            # Our own create went through and its answer was lost before a retry.
            outcome.version_id, outcome.wrote = plan.value_token, True
        else:
            outcome.action, outcome.changes = replanned.action, list(replanned.changes)
        if replanned.error:
            outcome.action, outcome.error = FAILED, dict(replanned.error)
            return
        self._run_steps(replanned, outcome, generated)

    def _run_steps(self, plan: SecretPlan, outcome: Outcome, generated) -> None:
        for step in plan.steps:
            params = dict(step.params)
            if step.writes_value:
                params.update(self._payload(plan, generated).api_params())
            if step.operation != "create_secret":
                params["SecretId"] = outcome.arn
            if step.operation == "delete_secret":
                self._delete(outcome, params)
                continue
            answer = self._call(outcome, step.operation, **params)
            outcome.wrote = True
            if step.operation == "create_secret":
                outcome.arn = answer.get("ARN")
                outcome.version_id = answer.get("VersionId")
            elif step.writes_value:
                outcome.version_id = answer.get("VersionId")
                self._make_current_if_ignored(plan, outcome, answer)
            if "ReplicationStatus" in answer:
                outcome.replica_statuses = answer["ReplicationStatus"]
            if step.operation == "replicate_secret_to_regions":
                self._check_new_replicas(step, answer)

    def _delete(self, outcome: Outcome, params: dict) -> None:
        try:
            self._call(outcome, "delete_secret", **params)
        except is_boto3_error_code(["ResourceNotFoundException", "InvalidRequestException"]) as refusal:
            # Already gone or scheduled (an earlier try whose answer was lost, or another job) is done;
            # anything else is a real refusal.
            now = self.rereads.describe(params["SecretId"])
            if now is not None and not (now.scheduled_for_deletion and "RecoveryWindowInDays" in params):
                raise refusal
            outcome.done_steps.append("delete_secret")
        outcome.wrote = True

    @staticmethod
    def _check_new_replicas(step: Step, answer: dict) -> None:
        """A replica AWS reports as Failed at once (a secret of that name exists there) fails the secret."""
        added = {entry["Region"] for entry in step.params["AddReplicaRegions"]}
        for status in answer.get("ReplicationStatus") or []:
            if status.get("Region") in added and replica_failed({"status": status.get("Status")}):
                raise StepFailure(replication_failure(status["Region"], status.get("StatusMessage")))

    def _make_current_if_ignored(self, plan: SecretPlan, outcome: Outcome, answer: dict) -> None:
        """Make our version AWSCURRENT where Secrets Manager kept an earlier version made with this token.

        A token repeats when the same value is written again on a state seen before (after rollbacks):
        Secrets Manager then ignores the write, and the version holding that value stays unlabelled.
        """
        stages = answer.get("VersionStages")
        if stages is None or "AWSCURRENT" in stages or not plan.value_token:
            return
        move = {"VersionStage": "AWSCURRENT", "MoveToVersionId": plan.value_token}
        if plan.current is not None and plan.current.current_version_id:
            move["RemoveFromVersionId"] = plan.current.current_version_id
        self._call(outcome, "update_secret_version_stage", SecretId=plan.arn, **move)


class _CircuitBreaker:
    """Stops starting secrets once `threshold` in a row failed with transient errors.

    During an outage every write exhausts its retries; without this, a run over N secrets would take
    N / concurrency times the longest retry schedule to fail. Any success closes the circuit again.
    """

    def __init__(self, threshold: int):
        self.threshold = threshold
        self._lock = threading.Lock()
        self._failures_in_a_row = 0

    def record(self, outcome: Outcome) -> bool:
        """Count an outcome; True when the circuit is open."""
        with self._lock:
            if outcome.error and outcome.error["code"] in TRANSIENT_ERROR_CODES:
                self._failures_in_a_row += 1
            elif not outcome.error:
                self._failures_in_a_row = 0
            return self._failures_in_a_row >= self.threshold


def apply_plans(
    plans: List[SecretPlan],
    calls,
    concurrency: int,
    fail_fast: bool,
    register_sensitive: Callable[[set], None],
    rereads,
) -> Dict[int, Outcome]:
    """Outcomes by plan index, for the plans that have writes (see _SecretWriter for `rereads`)."""
    writer = _SecretWriter(calls, register_sensitive, rereads)
    circuit = _CircuitBreaker(max(MIN_CIRCUIT_THRESHOLD, concurrency))
    stopped_because = []

    def run(plan: SecretPlan) -> Outcome:
        if stopped_because:
            return Outcome(action=FAILED, changes=list(plan.changes), arn=plan.arn, error=dict(stopped_because[0]))
        # Filled in step by step, so that a failure still reports what was written before it.
        outcome = Outcome(action=plan.action, changes=list(plan.changes), arn=plan.arn)
        try:
            writer.apply(plan, outcome)
        except (BotoCoreError, ClientError, StepFailure) as error:
            outcome.action = FAILED
            if isinstance(error, StepFailure):
                outcome.error = dict(error.error, step=api_operation_name(outcome.step))
            else:
                outcome.error = failure_of(error, outcome.step)
            if fail_fast and not stopped_because:
                stopped_because.append(NOT_ATTEMPTED)
        if circuit.record(outcome) and not stopped_because:
            stopped_because.append(
                dict(SERVICE_FAILING, message=SERVICE_FAILING["message"].format(circuit.threshold))
            )
        return outcome

    indexes = [index for index, plan in enumerate(plans) if plan.has_writes and not plan.error]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        outcomes = list(pool.map(lambda index: run(plans[index]), indexes))
    return dict(zip(indexes, outcomes))

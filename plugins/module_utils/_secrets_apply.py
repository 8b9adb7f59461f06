# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Applying plans: each secret's writes in order, secrets in a bounded pool of threads.

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
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import SKIPPED
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import SecretPlan
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import details_needed
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_present
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import replica_failed
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import replication_failure
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import read_one_value
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import describe_current
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import read_details
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
    """Carries out one plan; generated and merged values are registered for masking before they are sent."""

    def __init__(self, calls, register_sensitive: Callable[[set], None]):
        self.calls = calls
        self.register_sensitive = register_sensitive

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

    def _step(self, outcome: Outcome, operation: str, **params) -> dict:
        """One call, recorded in the outcome: the step under way, then the steps done."""
        outcome.step = operation
        answer = self.calls(operation, **params)
        outcome.done_steps.append(operation)
        return answer

    def apply(self, plan: SecretPlan, generated=None, outcome: Optional[Outcome] = None) -> Outcome:
        """Carry out the plan. On an exception, `outcome` (when given) holds what was done before it."""
        generated = generated if generated is not None else [None]
        if outcome is None:
            outcome = Outcome(action=plan.action, changes=list(plan.changes), arn=plan.arn)
        if plan.delete is not None:
            if plan.replicas_to_remove:
                self._step(outcome, "remove_regions_from_replication", SecretId=plan.arn,
                           RemoveReplicaRegions=list(plan.replicas_to_remove))
                outcome.wrote = True
            try:
                self._step(outcome, "delete_secret", SecretId=plan.arn, **plan.delete)
            except is_boto3_error_code(["ResourceNotFoundException", "InvalidRequestException"]) as refusal:
                # Already gone or scheduled (an earlier try whose answer was lost, or another job) is done;
                # anything else is a real refusal.
                now = describe_current(self.calls, plan.arn)
                if now is not None and not (now.scheduled_for_deletion and "RecoveryWindowInDays" in plan.delete):
                    raise refusal
            outcome.wrote = True
            return outcome
        if plan.restore:
            self._step(outcome, "restore_secret", SecretId=plan.arn)
            outcome.wrote = True
        value_params = {}
        if plan.write_value:
            value_params = dict(self._payload(plan, generated).api_params(), ClientRequestToken=plan.value_token)
        if plan.create is not None:
            reconciled = self._create(plan, value_params, outcome, generated)
            if reconciled:
                return outcome  # the replanned apply did everything
            self._access_steps(plan, outcome)
            return outcome
        if plan.update or value_params:
            operation = "update_secret" if plan.update else "put_secret_value"
            answer = self._step(outcome, operation, SecretId=plan.arn, **dict(plan.update or {}, **value_params))
            outcome.wrote = True
            if value_params:
                outcome.version_id = answer.get("VersionId")
                self._make_current_if_ignored(plan, outcome, answer)
        if plan.tags_to_set:
            self._step(outcome, "tag_resource", SecretId=plan.arn,
                       Tags=[{"Key": key, "Value": value} for key, value in plan.tags_to_set.items()])
            outcome.wrote = True
        if plan.tags_to_remove:
            self._step(outcome, "untag_resource", SecretId=plan.arn, TagKeys=list(plan.tags_to_remove))
            outcome.wrote = True
        self._access_steps(plan, outcome)
        return outcome

    def _access_steps(self, plan: SecretPlan, outcome: Outcome) -> None:
        """Policy, replicas, rotation and version stage, in this order, once the secret exists."""
        replica_additions = None
        if plan.replicas_to_add:
            replica_additions = {"AddReplicaRegions": list(plan.replicas_to_add),
                                 "ForceOverwriteReplicaSecret": plan.force_overwrite_replica}
        steps = [
            ("put_resource_policy", plan.put_policy),
            ("delete_resource_policy", {} if plan.delete_policy else None),
            ("remove_regions_from_replication",
             {"RemoveReplicaRegions": list(plan.replicas_to_remove)} if plan.replicas_to_remove else None),
            ("replicate_secret_to_regions", replica_additions),
            ("rotate_secret", plan.rotate),
            ("cancel_rotate_secret", {} if plan.cancel_rotation else None),
            ("update_secret_version_stage", plan.stage_move),
        ]
        for operation, params in steps:
            if params is None:
                continue
            answer = self._step(outcome, operation, SecretId=outcome.arn, **params)
            outcome.wrote = True
            if "ReplicationStatus" in answer:
                outcome.replica_statuses = answer["ReplicationStatus"]
            if operation == "replicate_secret_to_regions":
                self._check_new_replicas(plan, answer)

    @staticmethod
    def _check_new_replicas(plan: SecretPlan, answer: dict) -> None:
        """A replica AWS reports as Failed at once (a secret of that name exists there) fails the secret."""
        added = {entry["Region"] for entry in plan.replicas_to_add}
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
        self._step(outcome, "update_secret_version_stage", SecretId=plan.arn, **move)

    def _create(self, plan: SecretPlan, value_params: dict, outcome: Outcome, generated) -> bool:
        """CreateSecret; True when the secret existed after all and was reconciled instead."""
        try:
            answer = self._step(outcome, "create_secret", **dict(plan.create, **value_params))
        except is_boto3_error_code(["ResourceExistsException", "InvalidRequestException"]) as conflict:
            # The listing lags writes on AWS: the secret exists (or is scheduled for deletion)
            # after all. Reconcile with what DescribeSecret shows instead of failing.
            current = describe_current(self.calls, plan.full_name)
            if current is None:
                raise conflict
            self._reconcile(plan, current, generated, outcome)
            return True
        outcome.arn = answer.get("ARN")
        outcome.version_id = answer.get("VersionId")
        outcome.wrote = True
        return False

    def _reconcile(self, plan: SecretPlan, current, generated, outcome: Outcome) -> None:
        outcome.arn = current.arn
        if current.owning_service:
            # The name turned out to belong to an AWS service's secret: never written.
            outcome.action, outcome.changes = SKIPPED, []
            return
        if plan.value_token and current.current_version_id == plan.value_token:
            # Our own create went through and its answer was lost before a retry.
            outcome.action, outcome.version_id, outcome.wrote = CREATED, plan.value_token, True
            self._access_steps(plan, outcome)
            return
        current_value = None
        declared = plan.declared
        if declared.payload is not None and (declared.overwrite or declared.json_merge) and current.has_value:
            current_value = read_one_value(self.calls, current.arn)
        request = details_needed(declared, current)
        if request:
            current = read_details(self.calls, current, request)
        replanned = plan_present(declared, current, current_value)
        outcome.action, outcome.changes = replanned.action, list(replanned.changes)
        if replanned.error:
            outcome.action, outcome.error = FAILED, dict(replanned.error)
            return
        self.apply(replanned, generated, outcome)


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
) -> Dict[int, Outcome]:
    """Outcomes by plan index, for the plans that have writes."""
    writer = _SecretWriter(calls, register_sensitive)
    circuit = _CircuitBreaker(max(MIN_CIRCUIT_THRESHOLD, concurrency))
    stopped_because = []

    def run(plan: SecretPlan) -> Outcome:
        if stopped_because:
            return Outcome(action=FAILED, changes=list(plan.changes), arn=plan.arn, error=dict(stopped_because[0]))
        # Filled in step by step, so that a failure still reports what was written before it.
        outcome = Outcome(action=plan.action, changes=list(plan.changes), arn=plan.arn)
        try:
            writer.apply(plan, outcome=outcome)
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

"""A scripted stand-in for SecretsManagerCalls: records calls, answers from a table."""

from botocore.exceptions import ClientError

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_mask import Masker
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_reconcile import Callers
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_reconcile import StateReads
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import CurrentState


def client_error(code, message="scripted", operation="Op"):
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeCalls:
    def __init__(self, answers=None):
        self.answers = answers or {}
        self.made = []

    def __call__(self, operation, **params):
        self.made.append((operation, params))
        answer = self.answers.get(operation, {})
        if callable(answer):
            answer = answer(**params)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def mask(self, text):
        return text

    @property
    def calls_by_operation(self):
        counts = {}
        for operation, _params in self.made:
            counts[operation] = counts.get(operation, 0) + 1
        return counts

    def operations(self):
        return [made[0] for made in self.made]


def state_of(secrets=None, values=None, errors=None, kms_keys=None, policy_errors=None):
    """A CurrentState as the read pass would hand it to the planner."""
    return CurrentState(secrets=dict(secrets or {}), values=dict(values or {}), errors=dict(errors or {}),
                        policy_errors=dict(policy_errors or {}), kms_keys=kms_keys)


def rereads_for(calls, declaration):
    """The pipeline's own rereads (after a create conflict, a refused delete), on the fake callers."""
    callers = Callers(lambda service, region, concurrency: calls, declaration.concurrency)
    return StateReads(callers, declaration, "us-east-1", Masker(), [])


def step_params(plan, operation):
    """The parameters of the plan's step of that operation, or None when it has none."""
    step = plan.step(operation)
    return dict(step.params) if step is not None else None


def writes_value(plan):
    return any(step.writes_value for step in plan.steps)


def metadata_update(plan):
    """What UpdateSecret changes besides the value (description, key), or None."""
    params = {key: value for key, value in (step_params(plan, "update_secret") or {}).items()
              if key != "ClientRequestToken"}
    return params or None


def create_params(plan):
    return {key: value for key, value in step_params(plan, "create_secret").items() if key != "ClientRequestToken"}


def tags_set(plan):
    params = step_params(plan, "tag_resource")
    return boto3_tag_list_to_ansible_dict(params["Tags"]) if params else {}


def tags_removed(plan):
    params = step_params(plan, "untag_resource")
    return list(params["TagKeys"]) if params else []

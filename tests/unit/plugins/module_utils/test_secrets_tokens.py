"""ClientRequestTokens on AWS-shaped version listings (issue 11, item 13).

Real Secrets Manager lists only labelled versions (ListSecrets' SecretVersionsToStages), keeps unlabelled
ones (ListSecretVersionIds with IncludeDeprecated), refuses a reused token with a different value
(ResourceExistsException) and ignores a reused token with the same value. moto keeps unlabelled versions
in its listing, so it cannot show the token reuse; this small model of the service can.
"""

import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_apply import apply_plans
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_plan import plan_all
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import list_current
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import read_state
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import read_values
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import string_payload
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import write_token

from .fakes import client_error
from .fakes import rereads_for
from .fakes import state_of

NAME = "app/db"
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf"


class ServiceModel:
    """One secret as Secrets Manager keeps it: versions with values and staging labels."""

    def __init__(self):
        self.versions = {}  # version id -> {"value": str, "stages": [..]}, in creation order
        self.exists = False
        self.made = []

    def _current(self):
        return next((vid for vid, version in self.versions.items() if "AWSCURRENT" in version["stages"]), None)

    def _new_version(self, token, value):
        if token in self.versions:
            if self.versions[token]["value"] != value:
                raise client_error("ResourceExistsException", "You can't use ClientRequestToken {0} because that "
                                   "value is already in use for a version of secret {1}.".format(token, ARN))
            return {"ARN": ARN, "Name": NAME, "VersionId": token, "VersionStages": list(self.versions[token]["stages"])}
        for version in self.versions.values():
            if "AWSPREVIOUS" in version["stages"]:
                version["stages"].remove("AWSPREVIOUS")
        current = self._current()
        if current:
            self.versions[current]["stages"] = ["AWSPREVIOUS"]
        self.versions[token] = {"value": value, "stages": ["AWSCURRENT"]}
        return {"ARN": ARN, "Name": NAME, "VersionId": token, "VersionStages": ["AWSCURRENT"]}

    def __call__(self, operation, **params):
        self.made.append(operation)
        return getattr(self, operation)(**params)

    # -- the operations the module uses here --------------------------------
    def list_secrets(self, **_):
        if not self.exists:
            return {"SecretList": []}
        labelled = {vid: list(version["stages"]) for vid, version in self.versions.items() if version["stages"]}
        return {"SecretList": [{"Name": NAME, "ARN": ARN, "SecretVersionsToStages": labelled}]}

    def list_secret_version_ids(self, **_):
        return {"Versions": [{"VersionId": vid, "VersionStages": list(version["stages"])}
                             for vid, version in self.versions.items()]}

    def batch_get_secret_value(self, SecretIdList, **_):
        return {"SecretValues": [{"ARN": ARN, "Name": NAME, "SecretString": self.versions[self._current()]["value"]}]}

    def create_secret(self, Name, SecretString, ClientRequestToken, **_):
        self.exists = True
        return self._new_version(ClientRequestToken, SecretString)

    def put_secret_value(self, SecretId, SecretString, ClientRequestToken, **_):
        return self._new_version(ClientRequestToken, SecretString)

    def update_secret_version_stage(self, SecretId, VersionStage, MoveToVersionId, RemoveFromVersionId=None):
        if RemoveFromVersionId and VersionStage not in self.versions[RemoveFromVersionId]["stages"]:
            raise client_error("InvalidParameterException", "Version stage AWSCURRENT not found in version")
        current = self._current()
        for version in self.versions.values():
            if "AWSPREVIOUS" in version["stages"]:
                version["stages"].remove("AWSPREVIOUS")
        self.versions[current]["stages"] = ["AWSPREVIOUS"]
        self.versions[MoveToVersionId]["stages"] = [stage for stage in self.versions[MoveToVersionId]["stages"]
                                                    if stage != "AWSPREVIOUS"] + ["AWSCURRENT"]
        return {"ARN": ARN, "Name": NAME}

    def value_of(self, version_id):
        return self.versions[version_id]["value"]

    def current_value(self):
        return self.versions[self._current()]["value"]


def run_task(service, make_params, **item):
    """What the module's run() does, against the model: declare, read, plan, apply."""
    declaration = declare(make_params(overwrite=True, secrets=[dict({"name": NAME}, **item)]))
    state = read_state(service, declaration, 1, lambda secrets: (None, {}), warn=None)
    assert state.errors == {}
    plans = plan_all(declaration, state)
    outcomes = apply_plans(plans, service, 1, False, set().update, rereads_for(service, declaration))
    return plans[0], outcomes.get(0)


def test_rollback_and_roll_forward_never_reuse_a_token_for_a_new_value(make_params):
    service = ServiceModel()
    version = {}
    _plan, outcome = run_task(service, make_params, value="A")
    version["A"] = outcome.version_id
    _plan, outcome = run_task(service, make_params, value="B")
    version["B"] = outcome.version_id
    run_task(service, make_params, current_version_id=version["A"])
    before_c = service.list_secrets()["SecretList"][0]["SecretVersionsToStages"]
    plan_c, outcome = run_task(service, make_params, value="C")
    version["C"] = outcome.version_id
    assert outcome.action == "updated" and service.current_value() == "C"
    run_task(service, make_params, current_version_id=version["B"])  # B is unlabelled by now: found via the listing
    run_task(service, make_params, current_version_id=version["A"])
    before_d = service.list_secrets()["SecretList"][0]["SecretVersionsToStages"]
    assert before_d == before_c, "the service shows the same labelled versions before D as before C"

    plan_d, outcome = run_task(service, make_params, value="D")
    assert outcome.error is None, outcome.error
    assert plan_d.value_token != plan_c.value_token
    assert outcome.action == "updated" and service.current_value() == "D"
    assert len(set(version.values()) | {outcome.version_id}) == 4
    assert run_task(service, make_params, value="D")[0].action == "unchanged"


def test_the_same_value_again_on_a_state_seen_before_is_made_current(make_params):
    """The same value on the same labelled state gives the same token; AWS ignores the write, so the module
    moves AWSCURRENT to the version that already holds the value, and the rerun is unchanged."""
    service = ServiceModel()
    version = {}
    for value in ("A", "B"):
        version[value] = run_task(service, make_params, value=value)[1].version_id
    run_task(service, make_params, current_version_id=version["A"])
    plan_c, outcome = run_task(service, make_params, value="C")
    version["C"] = outcome.version_id
    run_task(service, make_params, current_version_id=version["B"])
    run_task(service, make_params, current_version_id=version["A"])
    service.made.clear()

    plan_again, outcome = run_task(service, make_params, value="C")
    assert plan_again.value_token == plan_c.value_token
    assert outcome.error is None and outcome.version_id == version["C"]
    assert service.made[-2:] == ["put_secret_value", "update_secret_version_stage"]
    assert service.current_value() == "C"
    assert run_task(service, make_params, value="C")[0].action == "unchanged"


def test_a_retry_within_a_run_sends_the_same_token(make_params):
    service = ServiceModel()
    run_task(service, make_params, value="A")
    sent = []
    real_put = service.put_secret_value

    def lossy_put(**params):
        sent.append(params["ClientRequestToken"])
        answer = real_put(**params)
        if len(sent) == 1:
            raise client_error("ThrottlingException", "answer lost")  # the write went through, the answer did not
        return answer

    service.put_secret_value = lossy_put
    declaration = declare(make_params(overwrite=True, secrets=[{"name": NAME, "value": "B"}]))
    current_by_name = list_current(service, [NAME], "", 1)
    plans = plan_all(declaration, state_of(current_by_name, read_values(service, [ARN], 1)))
    token = plans[0].value_token

    def retrying(operation, **params):
        try:
            return service(operation, **params)
        except Exception:  # pylint: disable=broad-except
            return service(operation, **params)

    outcome = apply_plans(plans, retrying, 1, False, set().update, rereads_for(service, declaration))[0]
    assert sent == [token, token] and outcome.version_id == token
    assert len(service.versions) == 2, "the retry made no second version"


def test_two_runs_making_the_same_change_on_the_same_state_send_the_same_token():
    first = write_token(NAME, "value", "v1", ["v1", "v0"], string_payload("new"), b"old")
    assert first == write_token(NAME, "value", "v1", ["v0", "v1"], string_payload("new"), b"old")
    assert len(first) == 36


@pytest.mark.parametrize("changed", [
    dict(full_name="other"), dict(current_version_id="v2"), dict(version_ids=["v1"]),
    dict(payload=string_payload("newer")), dict(current_value=b"older"),
])
def test_the_token_follows_name_state_and_value(changed):
    args = dict(full_name=NAME, purpose="value", current_version_id="v1", version_ids=["v1", "v0"],
                payload=string_payload("new"), current_value=b"old")
    assert write_token(**args) != write_token(**dict(args, **changed))


def test_the_token_is_no_plain_hash_of_the_value():
    """Without the value it replaced, the token tells nothing: the same new value on the same public state
    gives unrelated tokens for different replaced values, and none is a digest of the value alone."""
    import hashlib
    import uuid

    new = string_payload("hunter2")
    tokens = {write_token(NAME, "value", "v1", ["v1"], new, replaced) for replaced in (b"a", b"b", b"c")}
    assert len(tokens) == 3
    plain = {str(uuid.UUID(bytes=getattr(hashlib, algorithm)(b"hunter2").digest()[:16]))
             for algorithm in ("md5", "sha1", "sha256")}
    assert not tokens & plain
    assert all("hunter2" not in token for token in tokens)


def test_without_a_replaced_value_the_token_is_random():
    assert write_token(NAME, "create", None, (), None, None) != write_token(NAME, "create", None, (), None, None)
    assert write_token(NAME, "value", "v1", ["v1"], string_payload("x"), None) != write_token(
        NAME, "value", "v1", ["v1"], string_payload("x"), None)

"""Issue 11: defects found testing aws_secrets_manager_set / _info as a new user would, against moto.

Each test drives ansible-playbook (installed tarball) through the counting proxy. Where moto cannot show
real AWS's behaviour, a proxy rule defined here imitates it. Bad input is counted: zero AWS calls.
"""

import json

import boto3
import pytest

from tests.integration import test_access_features
from tests.integration.test_set_module import TASK
from tests.integration.test_set_module import play
from tests.support.aws_proxy import _json_or_none
from tests.support.aws_proxy import access_denied_for
from tests.support.aws_proxy import error_response
from tests.support.aws_proxy import json_response

INFO = "envops.aws_secrets.aws_secrets_manager_info"
rotation_lambda = test_access_features.rotation_lambda  # the fixture: a rotation function in moto
POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "Ops", "Effect": "Allow",
                                                  "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                                  "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}


class _Recorder:
    """Keeps the request bodies of some operations (the proxy's call log has no bodies)."""

    def __init__(self, *ops):
        self.ops = set(ops)
        self.bodies = []

    def on_request(self, service, op, body, call_index):  # noqa: ARG002
        if op in self.ops:
            self.bodies.append((op, body))
        return None


def tags_of(sm, name):
    return {tag["Key"]: tag["Value"] for tag in sm.describe_secret(SecretId=name).get("Tags", [])}


def entry_of(run, index=0):
    return run.result(TASK)["secrets"][index]


# --- items 2, 3, 7, 8, 15, 16: bad input, refused before any call ----------------------------------------

BAD_INPUTS = [
    ({"prefix": "c24/", "names": [""]}, "names[0] (''): the name is empty or only whitespace"),
    ({"prefix": "c24/", "names": ["ok", None]}, "names[1] (''): the name is empty or only whitespace"),
    ({"prefix": "c24/", "names": ["  "]}, "names[0] ('  '): the name is empty or only whitespace"),
    ({"prefix": "c24/", "secrets": [{"name": ""}]}, "secrets[0] (''): the name is empty or only whitespace"),
    ({"names": ["db\n"]}, "names[0] ('db\\n'): the name has characters Secrets Manager does not allow ('\\n')"),
    ({"names": ["a"], "replica_regions": [{"region": "us-east-1"}]},
     "replica region 'us-east-1' is the region the secret itself is in"),
    ({"secrets": [{"name": "a", "replica_regions": [{"region": "eu-west-1\n"}]}]}, "is not an AWS region name"),
    ({"names": ["a"], "tags": {"team": None}}, "tags: tag 'team' has no value (null)"),
    ({"secrets": [{"name": "a", "tags": {"owner": None}}]}, "secrets[0] ('a'): tag 'owner' has no value (null)"),
    ({"secrets": [{"name": "a", "env_name": "1X"}]}, "env_name '1X' must be letters, digits and underscores"),
    ({"secrets": [{"name": "a", "env_name": "X"}, {"name": "b", "env_name": "X"}]}, "env_name 'X' is also given"),
    ({"secrets": [{"name": "a", "json_value": 42}]}, "json_value must be a JSON object or array"),
    ({"secrets": [{"name": "a", "json_value": "[1, 2"}]}, "json_value is not valid JSON text"),
]


@pytest.mark.parametrize("args, fragment", BAD_INPUTS, ids=[str(index) for index in range(len(BAD_INPUTS))])
def test_bad_input_is_refused_before_any_aws_call(playbook, aws_proxy, args, fragment):
    run = playbook(play(args))
    assert run.rc != 0
    message = run.result(TASK)["msg"]
    assert fragment in message, message
    assert aws_proxy.calls() == [], "bad input must be refused before the first AWS call"


def test_info_refuses_an_empty_name_before_any_call(playbook, aws_proxy):
    run = playbook(play({"prefix": "c24/", "names": ["", "db\n"]}, module=INFO))
    assert run.rc != 0
    message = run.result(TASK)["msg"]
    assert "names[0] (''): the name is empty" in message and "names[1] ('db\\n')" in message
    assert aws_proxy.calls() == []


# --- item 1: a failure after a write hides nothing -------------------------------------------------------

def test_created_then_failed_reports_the_write_and_the_rerun_converges(
        playbook, aws_proxy, sm, rotation_lambda):  # noqa: F811 - the fixture
    canary = "CANARY-partial-create-1a2b"
    rotation = {"lambda_arn": rotation_lambda, "automatically_after_days": 30}
    args = {"prefix": "pf/", "secrets": [{"name": "a", "value": canary, "resource_policy": POLICY,
                                          "rotation": rotation}, {"name": "b"}]}
    aws_proxy.add_rule(access_denied_for("pf/a", ops=["RotateSecret"]))
    failed = playbook(play(args), diff=True, verbosity=4)
    assert failed.rc != 0
    result = failed.result(TASK)
    entry = result["secrets"][0]
    described = sm.describe_secret(SecretId="pf/a")
    assert entry["action"] == "failed" and entry["changed"] is True
    assert entry["arn"] == described["ARN"] and result["arns"]["pf/a"] == described["ARN"]
    assert entry["version_id"] == next(iter(described["VersionIdsToStages"]))
    assert entry["error"]["code"] == "AccessDeniedException" and entry["error"]["step"] == "RotateSecret"
    assert entry["rotation_enabled"] is False and not described.get("RotationEnabled")
    assert entry["policy_managed"] is True, "PutResourcePolicy went through before RotateSecret failed"
    assert entry["replicas"] == []
    assert result["summary"]["failed"] == 1 and result["summary"]["created"] == 1 and result["changed"] is True
    assert "pf/a (AccessDeniedException at RotateSecret, after earlier changes were written)" in result["msg"]
    failed.assert_no_leak(canary)

    aws_proxy.clear_rules()
    fixed = playbook(play(args), verbosity=4).assert_ok()
    assert entry_of(fixed)["action"] == "updated" and entry_of(fixed)["changes"] == ["rotation"]
    assert entry_of(fixed)["rotation_enabled"] is True
    again = playbook(play(args)).assert_ok()
    assert again.result(TASK)["changed"] is False
    fixed.assert_no_leak(canary)


def test_a_policy_that_failed_after_the_create_is_reported_as_not_in_place(playbook, aws_proxy, sm):
    aws_proxy.add_rule(access_denied_for("pf2/a", ops=["PutResourcePolicy"]))
    failed = playbook(play({"secrets": [{"name": "pf2/a", "resource_policy": POLICY}]}))
    entry = entry_of(failed)
    assert failed.rc != 0 and entry["changed"] is True and entry["arn"]
    assert entry["error"]["step"] == "PutResourcePolicy" and entry["policy_managed"] is False
    assert "version_id" not in entry, "no value was declared, so no version was written"


# --- item 4: type-strict JSON ------------------------------------------------------------------------------

def test_a_json_type_change_is_written(playbook, aws_proxy, sm):
    canary = "CANARY-types-3c4d"
    first = {"flag": True, "port": 1, "password": canary}
    playbook(play({"secrets": [{"name": "types/a", "json_value": first}]})).assert_ok()
    changed = {"flag": 1, "port": 1.0, "password": canary}
    aws_proxy.reset()
    run = playbook(play({"overwrite": True, "secrets": [{"name": "types/a", "json_value": changed}]}),
                   diff=True, verbosity=4).assert_ok()
    assert entry_of(run)["action"] == "updated" and aws_proxy.counts()["PutSecretValue"] == 1
    stored = sm.get_secret_value(SecretId="types/a")["SecretString"]
    assert json.loads(stored) == changed and '"flag":1' in stored and '"port":1.0' in stored
    again = playbook(play({"overwrite": True, "secrets": [{"name": "types/a", "json_value": changed}]}))
    assert again.assert_ok().result(TASK)["changed"] is False
    for each in (run, again):
        each.assert_no_leak(canary)


# --- item 5: UTF-8 JSON --------------------------------------------------------------------------------------

def test_json_is_stored_as_utf8_and_old_escaped_values_are_not_rewritten(playbook, aws_proxy, sm):
    canary = "CANARY-zürich-5e6f"
    value = {"city": "Zürich", "token": canary}
    sm.create_secret(Name="utf8/old", SecretString=json.dumps(value))  # stored escaped, as before
    big = {"text": "ü" * 11000, "token": canary}  # 22 KB of UTF-8; 66 KB once escaped
    args = {"overwrite": True, "secrets": [{"name": "utf8/new", "json_value": value},
                                           {"name": "utf8/old", "json_value": value},
                                           {"name": "utf8/big", "json_value": big}]}
    run = playbook(play(args), verbosity=4).assert_ok()
    assert [entry["action"] for entry in run.result(TASK)["secrets"]] == ["created", "unchanged", "created"]
    assert sm.get_secret_value(SecretId="utf8/new")["SecretString"] == json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert "\\u00fc" in sm.get_secret_value(SecretId="utf8/old")["SecretString"], "the old secret was not rewritten"
    assert len(sm.get_secret_value(SecretId="utf8/big")["SecretString"].encode("utf-8")) < 23000
    aws_proxy.reset()
    again = playbook(play(args)).assert_ok()
    assert again.result(TASK)["changed"] is False and aws_proxy.write_count() == 0
    too_big = playbook(play({"secrets": [{"name": "utf8/huge", "json_value": {"text": "ü" * 33000}}]}))
    assert too_big.rc != 0 and "66011 bytes, over the limit of 65536" in too_big.result(TASK)["msg"]
    for each in (run, again):
        each.assert_no_leak(canary)


# --- item 8: environment-variable names ----------------------------------------------------------------------

def test_env_name_collisions_warn_and_env_name_resolves_them(playbook, sm):
    colliding = playbook(play({"prefix": "env/", "names": ["db-password", "db_password", "db/password"]})).assert_ok()
    result = colliding.result(TASK)
    assert "'env/db-password', 'env/db_password', 'env/db/password' all map to the environment variable " \
           "DB_PASSWORD" in colliding.output
    assert result["lambda_environment"] == {"DB_PASSWORD": result["arns"]["env/db-password"]}
    assert [entry["name"] for entry in result["ecs_secrets"]] == ["DB_PASSWORD"]

    named = playbook(play({"prefix": "env/", "names": ["db-password"], "secrets": [
        {"name": "db_password", "env_name": "DB_PASSWORD_LEGACY"}, {"name": "db/password", "env_name": "DB_PW"}]}))
    result = named.assert_ok().result(TASK)
    assert "all map to the environment variable" not in named.output
    assert sorted(result["lambda_environment"]) == ["DB_PASSWORD", "DB_PASSWORD_LEGACY", "DB_PW"]
    assert result["lambda_environment"]["DB_PW"] == result["arns"]["env/db/password"]


# --- item 9: the ARN-suffix warning only on create -----------------------------------------------------------

def test_the_arn_suffix_warning_is_given_only_when_creating(playbook):
    args = {"names": ["app-config", "db-master"]}
    first = playbook(play(args)).assert_ok()
    warnings = [text for text in first.result(TASK).get("warnings", []) if "hyphen and six characters" in text]
    assert len(warnings) == 2 and warnings[0].startswith("names[0] ('app-config'): the name ends with a hyphen")
    rerun = playbook(play(args)).assert_ok()
    assert "hyphen and six characters" not in rerun.output


# --- item 10: ValidateResourcePolicy -------------------------------------------------------------------------

class _DenyValidation:
    def on_request(self, service, op, body, call_index):  # noqa: ARG002
        if op == "ValidateResourcePolicy":
            return error_response("AccessDeniedException", "User: arn:aws:iam::123456789012:user/ci is not "
                                  "authorized to perform: secretsmanager:ValidateResourcePolicy")
        return None


class _RejectPolicy:
    """What AWS answers for a policy that grants public access."""

    def on_request(self, service, op, body, call_index):  # noqa: ARG002
        if op == "ValidateResourcePolicy":
            return json_response(200, {"PolicyValidationPassed": False, "ValidationErrors": [
                {"CheckName": "BLOCK_PUBLIC_POLICY", "ErrorMessage": "the policy grants public access"}]})
        return None


def test_policy_validation_tells_not_implemented_denied_and_rejected_apart(playbook, aws_proxy, sm):
    moto = playbook(play({"secrets": [{"name": "val/a", "resource_policy": POLICY}]})).assert_ok()
    assert "ValidateResourcePolicy is not implemented at this endpoint (500)" in moto.output

    aws_proxy.add_rule(_DenyValidation())
    denied = playbook(play({"secrets": [{"name": "val/b", "resource_policy": POLICY}]})).assert_ok()
    assert "grant secretsmanager:ValidateResourcePolicy" in denied.output
    assert "not implemented" not in denied.output
    aws_proxy.clear_rules()

    aws_proxy.add_rule(_RejectPolicy())
    aws_proxy.reset()
    rejected = playbook(play({"names": ["val/a"], "resource_policy": dict(POLICY, Id="changed")}))
    assert rejected.rc != 0
    entry = entry_of(rejected)
    assert entry["error"] == {"code": "PolicyValidationFailed",
                              "message": "BLOCK_PUBLIC_POLICY: the policy grants public access"}
    assert aws_proxy.write_count() == 0


# --- item 11: the info module reads with ListSecrets only, and says what is missing -------------------------

def test_info_lists_only_by_default_and_reports_missing_names(playbook, aws_proxy, sm):
    sm.create_secret(Name="inf11/a", SecretString="CANARY-info11")
    sm.create_secret(Name="inf11/b")
    sm.replicate_secret_to_regions(SecretId="inf11/b", AddReplicaRegions=[{"Region": "eu-west-1"}])
    listed = playbook(play({"prefix": "inf11/", "names": ["a", "b", "gone", "gone"]}, module=INFO)).assert_ok()
    result = listed.result(TASK)
    assert [secret["name"] for secret in result["secrets"]] == ["inf11/a", "inf11/b"]
    assert result["missing"] == ["inf11/gone"]
    assert aws_proxy.counts() == {"ListSecrets": 1}
    assert all("replicas" not in secret for secret in result["secrets"])

    aws_proxy.reset()
    detailed = playbook(play({"prefix": "inf11/", "include_replicas": True}, module=INFO)).assert_ok()
    by_name = {secret["name"]: secret for secret in detailed.result(TASK)["secrets"]}
    assert [replica["region"] for replica in by_name["inf11/b"]["replicas"]] == ["eu-west-1"]
    assert by_name["inf11/a"]["replicas"] == [] and detailed.result(TASK)["missing"] == []
    assert aws_proxy.counts() == {"ListSecrets": 1, "DescribeSecret": 2}
    detailed.assert_no_leak("CANARY-info11")


# --- item 12: parallel jobs that collide ----------------------------------------------------------------------

class _OtherJobWritesFirst:
    """Just before this run's PutSecretValue reaches moto, another job writes a different value with the same
    ClientRequestToken, as a job that planned on the same state would have. moto then refuses this run's write
    with its real ResourceExistsException."""

    def __init__(self, moto_url):
        self.client = boto3.client("secretsmanager", endpoint_url=moto_url, region_name="us-east-1",
                                   aws_access_key_id="testing", aws_secret_access_key="testing")
        self.done = False

    def on_request(self, service, op, body, call_index):  # noqa: ARG002
        if op == "PutSecretValue" and not self.done:
            self.done = True
            self.client.put_secret_value(SecretId=body["SecretId"], SecretString="CANARY-other-job-7a8b",
                                         ClientRequestToken=body["ClientRequestToken"])
        return None


def test_a_collision_with_another_job_says_what_happened(playbook, aws_proxy, sm, moto_server):
    canary = "CANARY-collide-9c0d"
    sm.create_secret(Name="race/a")  # no value yet, so the module writes one
    aws_proxy.add_rule(_OtherJobWritesFirst(moto_server.url))
    run = playbook(play({"secrets": [{"name": "race/a", "value": canary}]}), verbosity=4)
    assert run.rc != 0
    entry = entry_of(run)
    assert entry["error"]["code"] == "ConcurrentModification"
    assert "another run changed this secret at the same time" in entry["error"]["message"]
    assert "rerun the task to converge" in entry["error"]["message"]
    assert "ClientRequestToken" not in run.result(TASK)["msg"] + entry["error"]["message"]
    aws_proxy.clear_rules()
    rerun = playbook(play({"overwrite": True, "secrets": [{"name": "race/a", "value": canary}]})).assert_ok()
    assert entry_of(rerun)["action"] == "updated" and sm.get_secret_value(SecretId="race/a")["SecretString"] == canary
    assert playbook(play({"overwrite": True, "secrets": [{"name": "race/a", "value": canary}]})).assert_ok().result(
        TASK)["changed"] is False
    run.assert_no_leak(canary, "CANARY-other-job-7a8b")


# --- item 13: tokens after rollback and roll-forward, as real AWS lists versions ----------------------------

class _AwsVersionedSecret:
    """One secret served by the proxy the way real Secrets Manager keeps versions, where moto cannot:

    * ListSecrets' SecretVersionsToStages holds only labelled versions (moto lists unlabelled ones too);
    * UpdateSecretVersionStage really moves AWSCURRENT, so the next PutSecretValue demotes the right version
      (moto keeps its old default version and ends up with two AWSCURRENT labels after a rollback);
    * a reused ClientRequestToken with another value is refused (ResourceExistsException), and one with the
      same value is ignored, answering the existing version's labels.
    Every other secret goes to moto as usual.
    """

    def __init__(self, name):
        self.name = name
        self.arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:{0}-AbCdEf".format(name)
        self.versions = {}  # version id -> {"value", "stages"}, in creation order
        self.exists = False

    def _mine(self, body):
        ids = [body.get(key) for key in ("SecretId", "Name")] + list(body.get("SecretIdList") or [])
        return any(sid in (self.name, self.arn) for sid in ids if isinstance(sid, str))

    def _current(self):
        return next((vid for vid, version in self.versions.items() if "AWSCURRENT" in version["stages"]), None)

    def current_value(self):
        return self.versions[self._current()]["value"]

    def _write(self, token, value):
        if token in self.versions:
            if self.versions[token]["value"] != value:
                return error_response("ResourceExistsException", "You can't use ClientRequestToken {0} because that "
                                      "value is already in use for a version of secret {1}.".format(token, self.arn))
            return json_response(200, {"ARN": self.arn, "Name": self.name, "VersionId": token,
                                       "VersionStages": list(self.versions[token]["stages"])})
        current = self._current()
        for version in self.versions.values():
            version["stages"] = [stage for stage in version["stages"] if stage != "AWSPREVIOUS"]
        if current:
            self.versions[current]["stages"] = ["AWSPREVIOUS"]
        self.versions[token] = {"value": value, "stages": ["AWSCURRENT"]}
        return json_response(200, {"ARN": self.arn, "Name": self.name, "VersionId": token,
                                   "VersionStages": ["AWSCURRENT"]})

    def _entry(self):
        return {"ARN": self.arn, "Name": self.name, "SecretVersionsToStages": {
            vid: list(version["stages"]) for vid, version in self.versions.items() if version["stages"]}}

    def on_request(self, service, op, body, call_index):  # noqa: ARG002
        if not isinstance(body, dict) or op == "ListSecrets" or not self._mine(body):
            return None
        if op == "CreateSecret":
            self.exists = True
            return self._write(body["ClientRequestToken"], body["SecretString"])
        if op == "PutSecretValue":
            return self._write(body["ClientRequestToken"], body["SecretString"])
        if op == "BatchGetSecretValue":
            return json_response(200, {"SecretValues": [{"ARN": self.arn, "Name": self.name,
                                                         "SecretString": self.current_value()}], "Errors": []})
        if op == "ListSecretVersionIds":
            return json_response(200, {"ARN": self.arn, "Name": self.name, "Versions": [
                {"VersionId": vid, "VersionStages": list(version["stages"])} for vid, version in self.versions.items()]})
        if op == "UpdateSecretVersionStage":
            removed, moved = body.get("RemoveFromVersionId"), body["MoveToVersionId"]
            if removed != self._current():
                return error_response("InvalidParameterException", "Version stage AWSCURRENT not found in version")
            for version in self.versions.values():
                version["stages"] = [stage for stage in version["stages"] if stage != "AWSPREVIOUS"]
            self.versions[removed]["stages"] = ["AWSPREVIOUS"]
            self.versions[moved]["stages"] = list(self.versions[moved]["stages"]) + ["AWSCURRENT"]
            return json_response(200, {"ARN": self.arn, "Name": self.name})
        return error_response("InvalidRequestException", "{0} is not imitated for {1}".format(op, self.name))

    def on_response(self, service, op, request_body, status, response_body):  # noqa: ARG002
        if op != "ListSecrets" or status != 200 or not self.exists:
            return None
        answer = _json_or_none(response_body)
        values = [value for item in (request_body or {}).get("Filters", []) for value in item.get("Values", [])]
        if any(self.name.startswith(value) for value in values):
            answer["SecretList"] = answer.get("SecretList", []) + [self._entry()]
        return answer


def test_rollback_and_roll_forward_write_every_new_value(playbook, aws_proxy):
    service = aws_proxy.add_rule(_AwsVersionedSecret("roll/a"))
    canaries = {letter: "CANARY-roll-{0}-1e2f".format(letter) for letter in "ABCD"}

    def write(letter):
        run = playbook(play({"overwrite": True, "secrets": [{"name": service.name, "value": canaries[letter]}]}),
                       verbosity=4).assert_ok()
        run.assert_no_leak(*canaries.values())
        return entry_of(run)

    def roll_to(version_id):
        run = playbook(play({"secrets": [{"name": service.name, "current_version_id": version_id}]})).assert_ok()
        assert service.versions[version_id]["stages"] == ["AWSCURRENT"]
        return entry_of(run)

    versions = {"A": write("A")["version_id"], "B": write("B")["version_id"]}
    roll_to(versions["A"])
    before_c = service._entry()["SecretVersionsToStages"]
    versions["C"] = write("C")["version_id"]
    roll_to(versions["B"])  # B is unlabelled by now: the module finds it with ListSecretVersionIds
    roll_to(versions["A"])
    assert service._entry()["SecretVersionsToStages"] == before_c, "before D the secret looks as before C"
    d = write("D")
    assert d["action"] == "updated" and d["version_id"] not in versions.values()
    assert service.current_value() == canaries["D"]
    assert write("D")["action"] == "unchanged"

    # C again on exactly the state C was first written on: the token repeats, AWS ignores the write (the
    # version holding C keeps no label), so the module makes that version current.
    roll_to(versions["B"])
    roll_to(versions["A"])
    assert service._entry()["SecretVersionsToStages"] == before_c
    again = write("C")
    assert again["action"] == "updated" and again["version_id"] == versions["C"]
    assert service.current_value() == canaries["C"]
    assert write("C")["action"] == "unchanged"


# --- item 14: a failed replica --------------------------------------------------------------------------------

def test_a_failed_replica_is_reported_and_force_overwrite_replaces_it(playbook, aws_proxy, sm_client):
    sm_client("eu-west-1").create_secret(Name="repl/a", SecretString="CANARY-existing-west")
    args = {"names": ["repl/a"], "replica_regions": [{"region": "eu-west-1"}]}
    first = playbook(play(args))
    assert first.rc != 0
    entry = entry_of(first)
    assert entry["action"] == "failed" and entry["changed"] is True and entry["error"]["code"] == "ReplicationFailed"
    assert "already exists in region eu-west-1" in entry["error"]["message"]
    assert entry["replicas"][0]["status"] == "Failed" and entry["replicas"][0]["status_message"]

    aws_proxy.reset()
    second = playbook(play(args))
    assert second.rc != 0 and entry_of(second)["error"]["code"] == "ReplicationFailed"
    assert "force_overwrite_replica: true" in entry_of(second)["error"]["message"]
    assert aws_proxy.write_count() == 0

    recorder = aws_proxy.add_rule(_Recorder("ReplicateSecretToRegions", "RemoveRegionsFromReplication"))
    forced = playbook(play(dict(args, force_overwrite_replica=True))).assert_ok()
    assert entry_of(forced)["action"] == "updated"
    assert entry_of(forced)["replicas"] == [{"region": "eu-west-1", "status": "InSync"}]
    assert [op for op, _body in recorder.bodies] == ["RemoveRegionsFromReplication", "ReplicateSecretToRegions"]
    assert recorder.bodies[-1][1]["ForceOverwriteReplicaSecret"] is True
    assert playbook(play(dict(args, force_overwrite_replica=True))).assert_ok().result(TASK)["changed"] is False
    first.assert_no_leak("CANARY-existing-west")


# --- item 16: per-item purge_tags and restore, JSON arrays, description "" ---------------------------------

def test_per_item_purge_tags_and_restore(playbook, sm):
    for name in ("item/keep-tags", "item/purge-tags"):
        sm.create_secret(Name=name, Tags=[{"Key": "old", "Value": "1"}])
    for name in ("item/restore", "item/stay-deleted"):
        sm.create_secret(Name=name)
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    run = playbook(play({"tags": {"new": "2"}, "secrets": [
        {"name": "item/keep-tags", "purge_tags": False}, {"name": "item/purge-tags"},
        {"name": "item/restore"}, {"name": "item/stay-deleted", "restore": False}]}))
    assert run.rc != 0
    actions = [entry["action"] for entry in run.result(TASK)["secrets"]]
    assert actions == ["updated", "updated", "restored", "failed"]
    assert tags_of(sm, "item/keep-tags") == {"old": "1", "new": "2"}
    assert tags_of(sm, "item/purge-tags") == {"new": "2"}
    assert "DeletedDate" not in sm.describe_secret(SecretId="item/restore")
    assert "DeletedDate" in sm.describe_secret(SecretId="item/stay-deleted")
    assert "item/stay-deleted (ScheduledForDeletion)" in run.result(TASK)["msg"]


def test_a_top_level_json_array_round_trips(playbook, sm):
    canary = "CANARY-array-4b5c"
    args = {"overwrite": True, "secrets": [{"name": "arr/a", "json_value": [{"user": "app", "password": canary}, 2]}]}
    run = playbook(play(args), diff=True, verbosity=4).assert_ok()
    assert sm.get_secret_value(SecretId="arr/a")["SecretString"] == '[{"password":"%s","user":"app"},2]' % canary
    again = playbook(play(args), verbosity=4).assert_ok()
    assert again.result(TASK)["changed"] is False
    as_text = playbook(play({"overwrite": True, "secrets": [
        {"name": "arr/a", "json_value": json.dumps([{"user": "app", "password": canary}, 2])}]}), verbosity=4)
    assert as_text.assert_ok().result(TASK)["changed"] is False
    for each in (run, again, as_text):
        each.assert_no_leak(canary)


def test_an_empty_description_is_sent_to_clear_it_which_moto_ignores(playbook, aws_proxy, sm):
    playbook(play({"names": ["desc/a"], "description": "first"})).assert_ok()
    recorder = aws_proxy.add_rule(_Recorder("UpdateSecret"))
    cleared = playbook(play({"names": ["desc/a"], "description": ""})).assert_ok()
    assert entry_of(cleared)["changes"] == ["description"]
    ((_op, update),) = recorder.bodies
    assert update["Description"] == ""
    # moto 5 keeps the old description (AWS clears it), as the module documentation says.
    assert sm.describe_secret(SecretId="desc/a").get("Description") == "first"
    created = playbook(play({"names": ["desc/b"], "description": ""})).assert_ok()
    assert entry_of(created)["action"] == "created" and not sm.describe_secret(SecretId="desc/b").get("Description")

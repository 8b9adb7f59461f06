"""Pure logic of the envops.aws_secrets.secrets lookup: validation, batching, on_* handling, no value in text."""

import json

import pytest

from ansible_collections.envops.aws_secrets.plugins.plugin_utils import _secrets_lookup as lookup
from tests.unit.plugins.module_utils.fakes import FakeCalls, client_error

ERRORS = {"missing": "error", "denied": "error", "deleted": "error"}
DELETED_MESSAGE = "You can't perform this operation on the secret because it was marked for deletion."


def request(terms=(), prefix="", **kwargs):
    on_problem = dict(ERRORS, **kwargs.pop("on_problem", {}))
    return lookup.build_request(list(terms), prefix, kwargs.pop("version_stage", "AWSCURRENT"),
                                kwargs.pop("parse_json", False), on_problem)


def arn(name):
    return "arn:aws:secretsmanager:us-east-1:123456789012:secret:{0}-AbCdEf".format(name)


def batch_answer(values=None, errors=None, next_token=None):
    answer = {
        "SecretValues": [{"Name": name, "ARN": arn(name), "SecretString": value} for name, value in (values or {}).items()],
        "Errors": [{"SecretId": secret_id, "ErrorCode": code, "Message": message}
                   for secret_id, (code, message) in (errors or {}).items()],
    }
    if next_token:
        answer["NextToken"] = next_token
    return answer


class Store:
    """BatchGetSecretValue by SecretIdList over a dict of values, errors by name."""

    def __init__(self, values, errors=None):
        self.values = values
        self.errors = errors or {}

    def __call__(self, SecretIdList):
        assert len(SecretIdList) <= 20
        return batch_answer({n: self.values[n] for n in SecretIdList if n in self.values},
                            {n: self.errors.get(n, ("ResourceNotFoundException", "not found"))
                             for n in SecretIdList if n not in self.values})


@pytest.mark.parametrize("terms, prefix, expected", [
    (["db", "api"], "prod/orders/", ("prod/orders/db", "prod/orders/api")),
    (["db", "db"], "p/", ("p/db",)),
    (["a/b"], "", ("a/b",)),
    ([arn("x")], "", (arn("x"),)),
    ([], "prod/", ()),
])
def test_full_names_are_prefix_plus_term_deduplicated(terms, prefix, expected):
    built = request(terms, prefix)
    assert built.full_names == expected
    assert built.whole_prefix is (expected == ())


@pytest.mark.parametrize("terms, prefix, kwargs, fragment", [
    ([], "", {}, "give secret names as terms, a prefix, or both"),
    (["ok", "bad name"], "p/", {}, "term 1 ('bad name'): 'p/bad name' is not a valid secret name"),
    # The module's name rule, matched in full: a final newline is refused too.
    (["db\n"], "", {}, "term 0 ('db\\n'): 'db\\n' is not a valid secret name"),
    (["x" * 513], "", {}, "is not a valid secret name"),
    ([""], "", {}, "term 0 is not a non-empty string"),
    ([3], "", {}, "term 0 is not a non-empty string"),
    (["a"], "bad prefix", {}, "prefix 'bad prefix' is not a valid"),
    (["a"], "", {"on_problem": {"missing": "ignore"}}, "on_missing must be one of error, skip, warn, not 'ignore'"),
    (["a"], "", {"version_stage": ""}, "version_stage must be a staging label"),
])
def test_bad_input_is_refused_with_every_problem_named(terms, prefix, kwargs, fragment):
    with pytest.raises(lookup.LookupInputError) as raised:
        request(terms, prefix, **kwargs)
    assert fragment in str(raised.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(lookup.LookupInputError) as raised:
        request(["bad name", ""], "", on_problem={"denied": "x"})
    message = str(raised.value)
    assert "term 0" in message and "term 1" in message and "on_denied" in message


def test_45_names_take_3_batch_calls_and_keep_the_requested_order():
    names = ["app/s{0:02d}".format(index) for index in range(45)]
    calls = FakeCalls({"batch_get_secret_value": Store({name: "v-" + name for name in names})})
    built = request(list(reversed(names)))
    result = lookup.assemble(lookup.read_all(calls, built, 4), built, warn=pytest.fail)
    assert list(result) == list(reversed(names))
    assert result["app/s07"] == "v-app/s07"
    assert calls.operations() == ["batch_get_secret_value"] * 3
    assert sorted(len(params["SecretIdList"]) for _operation, params in calls.made) == [5, 20, 20]


def test_prefix_pages_through_the_name_filter_and_keeps_exact_case_prefix_only():
    pages = [batch_answer({"app/a": "1", "APP/upper": "2"}, next_token="t1"), batch_answer({"app/b": "3"})]
    calls = FakeCalls({"batch_get_secret_value": lambda **params: pages.pop(0)})
    built = request(prefix="app/")
    assert lookup.assemble(lookup.read_all(calls, built, 4), built, warn=pytest.fail) == {"app/a": "1", "app/b": "3"}
    first, second = (params for _operation, params in calls.made)
    assert first == {"Filters": [{"Key": "name", "Values": ["app/"]}], "MaxResults": 20}
    assert second["NextToken"] == "t1" and "SecretIdList" not in second


def test_a_prefix_call_that_fails_raises_for_the_lookup_to_report():
    calls = FakeCalls({"batch_get_secret_value": client_error("AccessDeniedException", "no")})
    with pytest.raises(Exception) as raised:
        lookup.read_all(calls, request(prefix="app/"), 4)
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


@pytest.mark.parametrize("code, message, kind", [
    ("ResourceNotFoundException", "Secrets Manager can't find the specified secret.", "missing"),
    ("AccessDeniedException", "not authorized", "denied"),
    ("InvalidRequestException", DELETED_MESSAGE, "deleted"),
    ("InvalidRequestException", "something else", None),
    ("DecryptionFailure", "kms", None),
])
def test_problem_kinds(code, message, kind):
    assert lookup.problem_kind(lookup.CurrentValue(error_code=code, error_message=message)) == kind


def _mixed_store():
    return Store({"p/ok": "CANARY-ok-value"},
                 {"p/gone": ("ResourceNotFoundException", "Secrets Manager can't find the specified secret."),
                  "p/locked": ("AccessDeniedException", "User is not authorized"),
                  "p/doomed": ("InvalidRequestException", DELETED_MESSAGE)})


@pytest.mark.parametrize("mode", ["skip", "warn"])
def test_on_modes_skip_and_warn_leave_the_secret_out(mode):
    calls = FakeCalls({"batch_get_secret_value": _mixed_store()})
    built = request(["ok", "gone", "locked", "doomed"], "p/",
                    on_problem={"missing": mode, "denied": mode, "deleted": mode})
    warnings = []
    assert lookup.assemble(lookup.read_all(calls, built, 4), built, warnings.append) == {"p/ok": "CANARY-ok-value"}
    if mode == "skip":
        assert warnings == []
    else:
        assert len(warnings) == 3
        for name, option in (("p/gone", "on_missing"), ("p/locked", "on_denied"), ("p/doomed", "on_deleted")):
            assert any("'{0}'".format(name) in text and option in text for text in warnings)
    assert not any("CANARY" in text for text in warnings)


def test_on_error_names_every_failing_secret_in_one_error():
    calls = FakeCalls({"batch_get_secret_value": _mixed_store()})
    built = request(["ok", "gone", "locked", "doomed"], "p/")
    with pytest.raises(lookup.LookupReadError) as raised:
        lookup.assemble(lookup.read_all(calls, built, 4), built, pytest.fail)
    message = str(raised.value)
    for fragment in ("'p/gone' is missing: ResourceNotFoundException", "'p/locked' is denied: AccessDeniedException",
                     "'p/doomed' is deleted: InvalidRequestException"):
        assert fragment in message
    assert "CANARY" not in message


def test_other_errors_fail_whatever_the_on_options_say_and_aws_text_is_scrubbed_of_values():
    store = Store({"p/a": "CANARY-echoed-value"}, {"p/b": ("DecryptionFailure", "key said CANARY-echoed-value")})
    calls = FakeCalls({"batch_get_secret_value": store})
    built = request(["a", "b"], "p/", on_problem={"missing": "skip", "denied": "skip", "deleted": "skip"})
    with pytest.raises(lookup.LookupReadError) as raised:
        lookup.assemble(lookup.read_all(calls, built, 4), built, pytest.fail)
    assert "'p/b' could not be read: DecryptionFailure: key said ********" in str(raised.value)
    assert "CANARY" not in str(raised.value)


def test_a_whole_batch_denied_is_on_denied_for_each_of_its_secrets():
    calls = FakeCalls({"batch_get_secret_value": client_error("AccessDeniedException", "no batch for you")})
    built = request(["a", "b"], "p/", on_problem={"denied": "skip"})
    assert lookup.assemble(lookup.read_all(calls, built, 4), built, pytest.fail) == {}


def test_errors_reported_by_arn_are_matched_to_the_name_asked_for():
    answer = batch_answer(errors={arn("p/locked"): ("AccessDeniedException", "denied")})
    calls = FakeCalls({"batch_get_secret_value": answer})
    outcomes = lookup.read_all(calls, request(["locked"], "p/"), 4)
    assert outcomes["p/locked"].error_code == "AccessDeniedException"


def test_json_values_are_parsed_and_bad_json_names_the_secret_not_the_value():
    calls = FakeCalls({"batch_get_secret_value": Store({"p/j": json.dumps({"user": "u", "password": "CANARY-pw"}),
                                                        "p/t": "CANARY-not-json"})})
    good = request(["j"], "p/", parse_json=True)
    assert lookup.assemble(lookup.read_all(calls, good, 4), good, pytest.fail) == {
        "p/j": {"user": "u", "password": "CANARY-pw"}}
    bad = request(["t"], "p/", parse_json=True)
    with pytest.raises(lookup.LookupReadError) as raised:
        lookup.assemble(lookup.read_all(calls, bad, 4), bad, pytest.fail)
    assert "'p/t' is not valid JSON" in str(raised.value) and "CANARY" not in str(raised.value)


def test_binary_values_come_back_base64_encoded():
    entry = {"Name": "b", "ARN": arn("b"), "SecretBinary": b"\x00\x01bin"}
    calls = FakeCalls({"batch_get_secret_value": {"SecretValues": [entry]}})
    built = request(["b"])
    assert lookup.assemble(lookup.read_all(calls, built, 4), built, pytest.fail) == {"b": "AAFiaW4="}


def test_another_stage_reads_each_secret_with_its_stage_and_lists_names_for_a_prefix():
    def get(SecretId, VersionStage):
        assert VersionStage == "AWSPREVIOUS"
        if SecretId == "p/new":
            raise client_error("ResourceNotFoundException", "no such stage")
        return {"Name": SecretId, "ARN": arn(SecretId), "SecretString": "old-" + SecretId}

    calls = FakeCalls({"list_secrets": {"SecretList": [{"Name": "p/a"}, {"Name": "p/new"}, {"Name": "P/x"}]},
                       "get_secret_value": get})
    built = request(prefix="p/", version_stage="AWSPREVIOUS", on_problem={"missing": "skip"})
    assert lookup.assemble(lookup.read_all(calls, built, 4), built, pytest.fail) == {"p/a": "old-p/a"}
    assert sorted(calls.operations()) == ["get_secret_value", "get_secret_value", "list_secrets"]
    assert "batch_get_secret_value" not in calls.operations()


def test_a_prefix_read_refused_for_one_secret_falls_back_to_names_read_in_batches():
    def batch(**params):
        if "Filters" in params:
            raise client_error("InvalidRequestException", "marked deleted")
        return Store({"p/a": "1"}, {"p/empty": ("ResourceNotFoundException", "no value")})(**params)

    calls = FakeCalls({"batch_get_secret_value": batch,
                       "list_secrets": {"SecretList": [{"Name": "p/a"}, {"Name": "p/empty"}]}})
    built = request(prefix="p/", on_problem={"missing": "skip"})
    assert lookup.assemble(lookup.read_all(calls, built, 4), built, pytest.fail) == {"p/a": "1"}
    assert calls.operations() == ["batch_get_secret_value", "list_secrets", "batch_get_secret_value"]
    assert "get_secret_value" not in calls.operations()


def test_a_batch_refused_as_a_whole_is_split_until_the_refusing_secret_is_alone():
    names = ["p/s{0:02d}".format(index) for index in range(20)]

    def batch(SecretIdList):
        if "p/s13" in SecretIdList:
            raise client_error("ResourceNotFoundException", "no value")
        return batch_answer({name: "v" for name in SecretIdList})

    calls = FakeCalls({"batch_get_secret_value": batch})
    built = request(names, on_problem={"missing": "skip"})
    result = lookup.assemble(lookup.read_all(calls, built, 4), built, pytest.fail)
    assert sorted(result) == sorted(set(names) - {"p/s13"})
    assert len(calls.made) <= 1 + 2 * 5  # one halving per level, log2(20) < 5 levels


def test_a_batch_that_fails_otherwise_gives_its_error_to_every_secret_in_it():
    calls = FakeCalls({"batch_get_secret_value": client_error("InternalServiceError", "try later")})
    outcomes = lookup.read_all(calls, request(["a", "b"], "p/"), 4)
    assert {name: outcome.error_code for name, outcome in outcomes.items()} == {
        "p/a": "InternalServiceError", "p/b": "InternalServiceError"}
    assert len(calls.made) == 1

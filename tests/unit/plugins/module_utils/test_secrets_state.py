import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import current_secret_from_api
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import list_current
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import listing_filters
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import read_values

from .fakes import FakeCalls
from .fakes import client_error


def entry(name, **extra):
    return dict({"Name": name, "ARN": "arn:" + name}, **extra)


def test_listing_filters_use_one_prefix_or_ten_names_a_call():
    assert listing_filters(["p/a", "p/b"], "p/") == [["p/"]]
    groups = listing_filters(["n{0:02d}".format(index) for index in range(25)], "")
    assert [len(group) for group in groups] == [10, 10, 5]


def test_current_secret_from_list_and_describe_shapes():
    listed = current_secret_from_api(entry("a", Tags=[{"Key": "k", "Value": "v"}], DeletedDate="x",
                                           SecretVersionsToStages={"v2": ["AWSCURRENT"], "v1": ["AWSPREVIOUS"]}))
    assert listed.tags == {"k": "v"} and listed.scheduled_for_deletion
    assert listed.current_version_id == "v2" and listed.version_ids == ("v1", "v2")
    described = current_secret_from_api(entry("a", VersionIdsToStages={"v3": ["AWSCURRENT"]}))
    assert described.current_version_id == "v3" and not described.scheduled_for_deletion
    assert not current_secret_from_api(entry("a")).has_value


def test_list_current_pages_and_matches_case_and_prefix_exactly():
    pages = iter([
        {"SecretList": [entry("p/a"), entry("P/upper")], "NextToken": "t"},
        {"SecretList": [entry("p/b")]},
    ])
    calls = FakeCalls({"list_secrets": lambda **_: next(pages)})
    current = list_current(calls, ["p/a"], "p/", 4)
    assert sorted(current) == ["p/a", "p/b"]
    assert calls.made[0][1]["IncludePlannedDeletion"] is True and calls.made[0][1]["MaxResults"] == 100
    assert calls.made[1][1]["NextToken"] == "t"


def test_list_current_without_prefix_keeps_exact_names():
    calls = FakeCalls({"list_secrets": {"SecretList": [entry("db"), entry("db-old")]}})
    assert sorted(list_current(calls, ["db"], "", 4)) == ["db"]


def test_read_values_batches_twenty_and_reports_errors():
    def batch(SecretIdList, **_):
        return {
            "SecretValues": [{"ARN": secret_id, "Name": secret_id, "SecretString": "s"} for secret_id in SecretIdList
                             if secret_id != "id7"],
            "Errors": [{"SecretId": "id7", "ErrorCode": "DecryptionFailure", "Message": "kms"}],
        }

    calls = FakeCalls({"batch_get_secret_value": batch})
    values = read_values(calls, ["id{0}".format(index) for index in range(45)], 8)
    assert sorted(len(made[1]["SecretIdList"]) for made in calls.made) == [5, 20, 20]
    assert values["id3"].string == "s" and values["id7"].error_code == "DecryptionFailure"


def test_read_values_falls_back_when_batch_read_is_denied():
    calls = FakeCalls({"batch_get_secret_value": client_error("AccessDeniedException"),
                       "get_secret_value": {"SecretString": "s"}})
    values = read_values(calls, ["a", "b"], 2)
    assert values["a"].string == "s" and calls.operations().count("get_secret_value") == 2


def test_failed_batch_marks_its_secrets():
    calls = FakeCalls({"batch_get_secret_value": client_error("ThrottlingException")})
    values = read_values(calls, ["a"], 1)
    assert values["a"].error_code == "ThrottlingException"


def _validation_error(code, status):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "ValidateResourcePolicy")


@pytest.mark.parametrize("error, fragment", [
    (_validation_error("500", 500), "is not implemented at this endpoint (500)"),
    (_validation_error("AccessDeniedException", 400), "grant secretsmanager:ValidateResourcePolicy"),
    (_validation_error("ThrottlingException", 400), "ValidateResourcePolicy failed (ThrottlingException)"),
])
def test_policy_validation_that_cannot_run_warns_why(error, fragment):
    from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import validate_policies

    warnings = []
    errors = validate_policies(FakeCalls({"validate_resource_policy": error}), {0: (None, "{}")}, 1, warnings.append)
    assert errors == {} and len(warnings) == 1 and fragment in warnings[0], warnings


def test_a_policy_validation_refusal_fails_the_secret():
    from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_state import validate_policies

    calls = FakeCalls({"validate_resource_policy": _validation_error("MalformedPolicyDocumentException", 400)})
    errors = validate_policies(calls, {0: (None, "{}")}, 1, [].append)
    assert errors[0]["code"] == "PolicyValidationFailed"
    failing = FakeCalls({"validate_resource_policy": {"PolicyValidationPassed": False, "ValidationErrors": [
        {"CheckName": "BLOCK_PUBLIC_POLICY", "ErrorMessage": "public"}]}})
    assert validate_policies(failing, {0: (None, "{}")}, 1, [].append)[0]["message"] == "BLOCK_PUBLIC_POLICY: public"

"""Masking of outside text, the leaf rule, and the value-free invocation."""

import base64
import json
import time

import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils import _secrets_mask as mask
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import set_module_argument_spec
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_values import json_payload


def test_text_forms_cover_raw_json_escaped_and_base64():
    canary = 'Can/ary+"quote"é'
    forms = mask.value_forms(canary)
    raw = canary.encode("utf-8")
    assert canary in forms
    assert base64.b64encode(raw).decode() in forms
    assert base64.urlsafe_b64encode(raw).decode().rstrip("=") in forms
    assert json.dumps(canary)[1:-1] in forms
    assert json.dumps(canary, ensure_ascii=False)[1:-1] in forms


def test_json_value_forms_include_every_dump_style():
    value = {"user": "app-user", "password": "p4ss"}
    forms = mask.payload_forms(json_payload(value))
    assert json.dumps(value) in forms
    assert json.dumps(value, sort_keys=True, separators=(",", ":")) in forms
    assert base64.b64encode(json.dumps(value).encode()).decode() in forms


@pytest.mark.parametrize(
    "value, masked, kept",
    [
        # Long string leaves are masked; short ones, numbers and booleans are configuration.
        ({"username": "payments", "port": 5432, "replicas": 1, "ssl": True, "engine": "pg"},
         {"payments"}, {"5432", "1", "True", "true", "pg"}),
        # A leaf under a credential-like key is masked whatever its length or type.
        ({"password": "G3n", "pin": 1234, "api_key": "k"}, {"G3n", "1234", "k"}, set()),
        ({"nested": [{"token": "abc"}], "region": "us-east-1"}, {"abc", "us-east-1"}, set()),
    ],
)
def test_leaf_rule(value, masked, kept):
    forms = mask.value_forms(value)
    assert masked <= forms
    assert not kept & forms


def test_json_text_value_masks_its_leaves_too():
    forms = mask.value_forms(json.dumps({"password": "hunter2hunter2", "port": 5432}))
    assert "hunter2hunter2" in forms
    assert "5432" not in forms


def test_binary_value_forms():
    forms = mask.value_forms(b"\x00\xffsecret-bytes")
    assert base64.b64encode(b"\x00\xffsecret-bytes").decode() in forms


def test_masker_replaces_longest_form_first_and_keeps_the_rest():
    masker = mask.Masker(["abcd", "abcdef", "xy"])
    assert masker.mask("1 abcdefg xy abcd") == "1 ********g ******** ********"
    assert masker.mask("nothing here") == "nothing here"
    assert masker.mask(None) is None
    assert masker.mask(5) == 5


def test_masker_masks_generated_values_added_later():
    masker = mask.Masker()
    masker.add_value("Gen3rated-Password!")
    text = "echo: Gen3rated-Password! and " + base64.b64encode(b"Gen3rated-Password!").decode()
    assert masker.mask(text) == "echo: ******** and ********"


def test_masker_memo_sees_new_forms():
    masker = mask.Masker(["first-form"])
    assert masker.mask("first-form second-form") == "******** second-form"
    masker.add_forms(["second-form"])
    assert masker.mask("first-form second-form") == "******** ********"


def test_masker_is_linear_in_the_number_of_forms():
    """Masking a message costs about the same with 1,000 or 100,000 registered forms."""
    text = "User: arn:aws:iam::123456789012:user/app is not authorized to perform: secretsmanager:PutSecretValue " * 20

    def seconds(count):
        masker = mask.Masker("form-{0:08d}-{1}".format(index, index * 7919) for index in range(count))
        started = time.perf_counter()
        for repeat in range(50):
            masker._scan(text + str(repeat))
        return time.perf_counter() - started

    small, large = seconds(1000), seconds(100000)
    assert large < small * 3 + 0.05


def test_value_free_params_walks_the_spec():
    spec = dict(set_module_argument_spec(), secret_key=dict(type="str", no_log=True, aliases=["aws_secret_key"]))
    params = {
        "names": ["a"],
        "secret_key": "AKIA-secret",
        "aws_secret_key": "AKIA-secret",
        "secrets": [{"name": "db", "json_value": {"password": "x"}, "value": None, "tags": {"team": "pay"},
                     "generate": {"length": 12}}],
    }
    shown = mask.value_free_params(spec, params)
    assert shown["aws_secret_key"] == shown["secret_key"] == mask.NO_LOG_MARKER, "aliases are options too"
    assert shown["secrets"][0]["json_value"] == mask.NO_LOG_MARKER
    assert shown["secrets"][0]["value"] is None
    assert shown["secrets"][0]["tags"] == {"team": "pay"}
    assert shown["secrets"][0]["generate"] == {"length": 12}
    assert params["secrets"][0]["json_value"] == {"password": "x"}, "the params themselves are left alone"
    assert sorted(map(str, mask.no_log_values_of(spec, params))) == ["AKIA-secret", str({"password": "x"})]

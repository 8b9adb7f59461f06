import base64
import json

import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils import _secrets_values as values


def test_json_payload_compares_as_parsed_json():
    payload = values.json_payload({"b": 1, "a": [1, 2]})
    assert payload.matches('{"a": [1, 2],   "b": 1}', None)
    assert not payload.matches('{"a": [2, 1], "b": 1}', None)
    assert not payload.matches("not json", None)
    assert not payload.matches(None, b"{}")


def test_string_and_binary_payloads_compare_exactly():
    assert values.string_payload("x").matches("x", None)
    assert not values.string_payload("x").matches("x ", None)
    binary = values.binary_payload(b"\x00\x01")
    assert binary.matches(None, b"\x00\x01")
    assert not binary.matches("\x00\x01", None)
    assert binary.api_params() == {"SecretBinary": b"\x00\x01"}


def test_generated_payload_with_json_key():
    payload = values.generated_payload("pw", "password")
    assert json.loads(payload.string) == {"password": "pw"}


@pytest.mark.parametrize("text", ["not base64!", "abc", "YWJ"])
def test_decode_base64_refuses_without_quoting(text):
    with pytest.raises(ValueError) as error:
        values.decode_base64(text)
    assert text not in str(error.value)


def test_sensitive_forms_cover_text_json_and_base64():
    canary = 'Can/ary+"quote"é'
    forms = values.sensitive_forms(canary)
    raw = canary.encode("utf-8")
    assert canary in forms
    assert base64.b64encode(raw).decode() in forms
    assert base64.urlsafe_b64encode(raw).decode().rstrip("=") in forms
    assert json.dumps(canary)[1:-1] in forms


def test_sensitive_forms_of_json_value_include_every_dump_style():
    value = {"user": "app", "password": "p4ss"}
    forms = values.payload_sensitive_forms(values.json_payload(value))
    assert json.dumps(value) in forms
    assert values.dump_json(value) in forms
    assert base64.b64encode(values.dump_json(value).encode()).decode() in forms


def test_json_leaves_are_sensitive_too():
    forms = values.sensitive_forms({"user": "app", "nested": [{"password": "G3n"}], "port": 5432})
    assert {"app", "G3n", "5432"} <= forms

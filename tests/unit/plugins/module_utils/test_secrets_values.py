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


@pytest.mark.parametrize("stored, declared", [
    ('{"flag": 1}', {"flag": True}),
    ('{"flag": true}', {"flag": 1}),
    ('{"n": 1.0}', {"n": 1}),
    ('{"n": 1}', {"n": 1.0}),
    ('[0]', [False]),
    ('{"a": {"b": [1, 2.0]}}', {"a": {"b": [1, 2]}}),
    ('{"a": null}', {"a": 0}),
])
def test_json_comparison_is_type_strict(stored, declared):
    assert not values.json_payload(declared).matches(stored, None)


def test_json_comparison_ignores_order_spacing_and_escaping():
    payload = values.json_payload({"city": "Zürich", "n": 1, "f": 1.5, "ok": True, "list": [1, "x"]})
    assert payload.matches('{"ok": true, "n": 1, "list": [1, "x"], "f": 1.5, "city": "Z\\u00fcrich"}', None)


def test_json_is_stored_as_utf8_and_measured_in_utf8_bytes():
    payload = values.json_payload({"city": "Zürich"})
    assert payload.string == '{"city":"Zürich"}'
    assert values.payload_size(payload) == len('{"city":"Zürich"}'.encode("utf-8")) == 18
    # 22,000 two-byte characters: 44 KB of UTF-8, which escaped would be 132 KB.
    big = values.json_payload({"text": "ü" * 22000})
    assert values.payload_size(big) == 44000 + len('{"text":""}')

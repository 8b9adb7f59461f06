# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Secret value payloads, their comparison and idempotency tokens.

Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Iterable, Optional

MAX_VALUE_BYTES = 65536

# Markers that stand for a value in results and diffs. A value itself never goes there.
VALUE_SET = "(set)"
VALUE_NONE = "(none)"
VALUE_WILL_CHANGE = "(will change)"
VALUE_WILL_GENERATE = "(will be generated)"

# uuid5 namespace for ClientRequestTokens; fixed so that every process derives the same token.
_TOKEN_NAMESPACE = uuid.UUID("6f1c2a7e-3d4b-5e8f-9a0b-1c2d3e4f5a6b")


@dataclass(frozen=True)
class SecretPayload:
    """What would be stored as the secret's value: exactly one of string or binary."""

    kind: str  # "string", "json" or "binary"
    string: Optional[str] = None
    binary: Optional[bytes] = None
    parsed_json: object = None

    def api_params(self) -> dict:
        if self.binary is not None:
            return {"SecretBinary": self.binary}
        return {"SecretString": self.string}

    def matches(self, current_string: Optional[str], current_binary: Optional[bytes]) -> bool:
        """Compare with a stored value: JSON as parsed JSON, the rest byte for byte."""
        if self.kind == "binary":
            return current_binary is not None and bytes(current_binary) == self.binary
        if current_string is None:
            return False
        if self.kind == "json":
            try:
                return json_equal(json.loads(current_string), self.parsed_json)
            except ValueError:
                return False
        return current_string == self.string


def _json_kind(value: object) -> str:
    # bool before int: True is an int to Python, never to JSON's users.
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def json_equal(stored: object, declared: object) -> bool:
    """Parsed JSON compared with types: true is not 1 and 1 is not 1.0, at any depth."""
    kind = _json_kind(stored)
    if kind != _json_kind(declared):
        return False
    if kind == "object":
        return set(stored) == set(declared) and all(json_equal(stored[key], declared[key]) for key in stored)
    if kind == "array":
        return len(stored) == len(declared) and all(json_equal(a, b) for a, b in zip(stored, declared))
    return stored == declared


def string_payload(value: str) -> SecretPayload:
    return SecretPayload(kind="string", string=value)


def json_payload(value: object) -> SecretPayload:
    return SecretPayload(kind="json", string=dump_json(value), parsed_json=value)


def dump_json(value: object) -> str:
    """Compact JSON with sorted keys, as UTF-8 text: "Zürich" stays itself rather than "Z\\u00fcrich"."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def decode_base64(text: str) -> bytes:
    """Strict base64 decoding; raises ValueError without quoting the input."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not valid base64") from None


def binary_payload(decoded: bytes) -> SecretPayload:
    return SecretPayload(kind="binary", binary=decoded)


def generated_payload(generated: str, json_key: Optional[str]) -> SecretPayload:
    if json_key:
        return json_payload({json_key: generated})
    return string_payload(generated)


def payload_bytes(payload: SecretPayload) -> bytes:
    """The stored bytes: SecretBinary, or SecretString in UTF-8."""
    if payload.binary is not None:
        return bytes(payload.binary)
    return payload.string.encode("utf-8")


def payload_size(payload: SecretPayload) -> int:
    if payload.binary is not None:
        return len(payload.binary)
    return len(payload.string.encode("utf-8"))


def write_token(full_name: str, purpose: str, current_version_id: Optional[str], version_ids: Iterable[str],
                payload: Optional[SecretPayload], current_value: Optional[bytes]) -> str:
    """The ClientRequestToken of one planned value write; the plan keeps it, so every retry sends it again.

    Where the value being replaced was read (overwrite=true), the token is an HMAC-SHA256, keyed by a hash of
    that stored value, over the name, the labelled versions the write was planned on and a hash of the new
    value. So two runs that make the same change on the same state send the same token (Secrets Manager
    keeps one version), a different value written on the same state gets a different token (a rollback
    followed by a new value does not reuse the rolled-back version's token), and the token, which becomes
    the public VersionId, cannot be used to test guesses of the value without the value it replaced.
    Elsewhere (a create, a secret without a value, a generated value) nothing secret is shared between runs,
    so the token is random: a retry still reuses it, and a second run that raced this one is reconciled
    (CreateSecret meets the existing secret) or converges on its rerun.
    """
    if payload is None or current_value is None:
        return str(uuid.uuid4())
    key = hashlib.sha256(b"envops.aws_secrets write-token key\0" + bytes(current_value)).digest()
    message = "\0".join([full_name, purpose, current_version_id or "", ",".join(sorted(version_ids)),
                         payload.kind, hashlib.sha256(payload_bytes(payload)).hexdigest()])
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))

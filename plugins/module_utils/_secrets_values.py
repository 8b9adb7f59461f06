# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Secret value payloads, their comparison and idempotency tokens.

Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
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
                return json.loads(current_string) == self.parsed_json
            except ValueError:
                return False
        return current_string == self.string


def string_payload(value: str) -> SecretPayload:
    return SecretPayload(kind="string", string=value)


def json_payload(value: object) -> SecretPayload:
    return SecretPayload(kind="json", string=dump_json(value), parsed_json=value)


def dump_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


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


def payload_size(payload: SecretPayload) -> int:
    if payload.binary is not None:
        return len(payload.binary)
    return len(payload.string.encode("utf-8"))


def request_token(full_name: str, purpose: str, current_version_id: Optional[str], version_ids: Iterable[str]) -> str:
    """A ClientRequestToken for one planned write, derived from the secret and the state it was planned on.

    A retry of the same write carries the same token, so Secrets Manager never makes a second
    version; another process that planned the same write on the same state derives the same token.
    The token never depends on the value: it becomes the public VersionId, so a hash of the value
    there would let anyone with DescribeSecret test guesses of it.
    """
    seed = "|".join([full_name, purpose, current_version_id or "", ",".join(sorted(version_ids))])
    return str(uuid.uuid5(_TOKEN_NAMESPACE, seed))

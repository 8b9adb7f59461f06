# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Masking of secret values in text that comes from outside: AWS and botocore messages, tracebacks.

The module's own output (names, ARNs, counts, markers) never holds a value, so it is never scanned.
Only text the module did not write is masked, in one pass over the text whatever the number of
values: forms are indexed by their first characters. See docs/reliability.md, "Masking".

Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from typing import Iterable, Optional

MASK = "********"
# ansible-core's own marker for a no_log option, used where the invocation shows a value option.
NO_LOG_MARKER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

# A JSON leaf is masked in outside text when it is a string of at least MIN_LEAF_LENGTH characters,
# or when its key names a credential (then whatever its length or type). Shorter strings, numbers
# and booleans under other keys (ports, counts, flags, "pg") are configuration: masking them would
# blank out unrelated words of AWS messages, and a whole value is always masked anyway.
MIN_LEAF_LENGTH = 6
CREDENTIAL_KEY = re.compile(r"pass|pwd|secret|token|key|cred|private|pin|auth|salt|cert|otp|seed", re.IGNORECASE)

# Length of the index prefix; forms shorter than this are looked up by length.
_PREFIX = 4
# Identical messages (an outage answers the same text for every secret) are masked once.
_MEMO_LIMIT = 256


def _text_forms(text: str) -> Iterable[str]:
    """A string as given, JSON- and repr-escaped, and base64 (standard and URL-safe, with and without padding)."""
    yield text
    yield repr(text)[1:-1]
    yield json.dumps(text)[1:-1]
    yield json.dumps(text, ensure_ascii=False)[1:-1]
    yield from _base64_forms(text.encode("utf-8"))


def _base64_forms(raw: bytes) -> Iterable[str]:
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        form = encoded.decode("ascii")
        yield form
        yield form.rstrip("=")


def _secret_leaves(value: object, key: str = "") -> Iterable[str]:
    """The JSON leaves that could be secret, by the rule above."""
    if isinstance(value, dict):
        for item_key, item in value.items():
            yield from _secret_leaves(item, str(item_key))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _secret_leaves(item, key)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, str):
        if len(value) >= MIN_LEAF_LENGTH or (value and CREDENTIAL_KEY.search(key)):
            yield value
    elif CREDENTIAL_KEY.search(key):
        yield str(value)


def value_forms(value: object) -> set:
    """Every form of a value that must never reach output: text, JSON and base64 encodings, secret leaves."""
    forms = set()
    if value is None:
        return forms
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
        forms.update(_base64_forms(raw))
        try:
            forms.update(_text_forms(raw.decode("utf-8")))
        except UnicodeDecodeError:
            pass
    elif isinstance(value, str):
        forms.update(_text_forms(value))
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, (dict, list)):
            for leaf in _secret_leaves(parsed):
                forms.update(_text_forms(leaf))
    else:
        for dumped in (
            json.dumps(value, sort_keys=True, separators=(",", ":")),
            json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
            json.dumps(value),
            json.dumps(value, sort_keys=True),
            json.dumps(value, separators=(",", ":")),
        ):
            forms.update(_text_forms(dumped))
        for leaf in _secret_leaves(value):
            forms.update(_text_forms(leaf))
    forms.discard("")
    return forms


def payload_forms(payload) -> set:
    """The forms of a payload as it is sent (SecretString or SecretBinary) and as it was declared."""
    forms = value_forms(payload.binary if payload.binary is not None else payload.string)
    if payload.parsed_json is not None:
        forms |= value_forms(payload.parsed_json)
    return forms


class Masker:
    """Replaces every registered form in a text with MASK, longest form first, in one scan.

    Forms are kept in sets by their first _PREFIX characters and then by length, so each position of
    the text costs one dictionary look-up, plus one set look-up per distinct length of the forms that
    share its prefix: never a loop over the forms themselves. Safe to share between worker threads:
    a generated value is registered before it is sent.
    """

    def __init__(self, forms: Iterable[str] = ()):
        self._lock = threading.Lock()
        self._by_prefix = {}  # first _PREFIX characters -> {length: forms}
        self._short = {}  # length < _PREFIX -> forms of that length
        self._memo = {}
        self.add_forms(forms)

    def add_forms(self, forms: Iterable[str]) -> None:
        with self._lock:
            for form in forms:
                if not form:
                    continue
                if len(form) < _PREFIX:
                    self._short.setdefault(len(form), set()).add(form)
                else:
                    self._by_prefix.setdefault(form[:_PREFIX], {}).setdefault(len(form), set()).add(form)
            self._memo.clear()

    def add_value(self, value: object) -> None:
        self.add_forms(value_forms(value))

    def add_params(self, argument_spec: dict, params: Optional[dict]) -> None:
        """Register the value of every no_log option, at any depth of the spec."""
        for value in no_log_values_of(argument_spec, params):
            self.add_value(value)

    def mask(self, text):
        """The text with every registered form replaced; anything but a string is returned as it is."""
        if not isinstance(text, str) or not text:
            return text
        with self._lock:
            masked = self._memo.get(text)
            if masked is None:
                masked = self._scan(text)
                if len(self._memo) >= _MEMO_LIMIT:
                    self._memo.clear()
                self._memo[text] = masked
        return masked

    def _match_at(self, text: str, position: int) -> int:
        """The length of the longest form at this position, or 0."""
        by_length = self._by_prefix.get(text[position:position + _PREFIX])
        if by_length:
            for length in sorted(by_length, reverse=True):
                if text[position:position + length] in by_length[length]:
                    return length
        for length in sorted(self._short, reverse=True):
            if text[position:position + length] in self._short[length]:
                return length
        return 0

    def _scan(self, text: str) -> str:
        pieces = []
        kept_from = 0
        position = 0
        while position < len(text):
            matched = self._match_at(text, position)
            if matched:
                pieces.append(text[kept_from:position])
                pieces.append(MASK)
                position += matched
                kept_from = position
            else:
                position += 1
        if not pieces:
            return text
        pieces.append(text[kept_from:])
        return "".join(pieces)


def no_log_values_of(argument_spec: dict, params: Optional[dict]) -> Iterable[object]:
    """The values given for no_log options, walking suboptions of dicts and lists of dicts."""
    if not isinstance(params, dict):
        return
    for name, option in argument_spec.items():
        given = params.get(name)
        if given is None:
            continue
        if option.get("no_log"):
            yield given
            continue
        suboptions = option.get("options")
        if suboptions:
            for element in given if isinstance(given, list) else [given]:
                yield from no_log_values_of(suboptions, element)


def value_free_params(argument_spec: dict, params: Optional[dict]):
    """The params with every no_log option, at any depth, shown as NO_LOG_MARKER: the invocation to report."""
    if not isinstance(params, dict):
        return params
    # ansible-core keeps an alias's key next to the option's own (aws_secret_key beside secret_key).
    option_of = dict(argument_spec)
    for option in argument_spec.values():
        for alias in option.get("aliases") or ():
            option_of.setdefault(alias, option)
    shown = {}
    for name, given in params.items():
        option = option_of.get(name) or {}
        if option.get("no_log") and given is not None:
            shown[name] = NO_LOG_MARKER
        elif option.get("options") and isinstance(given, list):
            shown[name] = [value_free_params(option["options"], element) for element in given]
        elif option.get("options") and isinstance(given, dict):
            shown[name] = value_free_params(option["options"], given)
        else:
            shown[name] = given
    return shown

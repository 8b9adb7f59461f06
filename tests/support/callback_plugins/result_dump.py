# Copyright: (c) envops platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-harness callback: append every task result to a JSON-lines file."""

from __future__ import annotations

import datetime
import json
import os
import threading

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: result_dump
type: aggregate
short_description: Append every task result as one JSON line to a file
description:
  - Test-harness callback of the C(envops.aws_secrets) integration tests.
  - For every task result (ok, changed, failed, skipped, unreachable; in check mode too)
    appends one JSON object per line to the file named by the E(RESULT_DUMP_PATH)
    environment variable, with the keys C(task), C(host), C(status), C(action),
    C(check_mode), C(ignore_errors) and C(result) (the task result as callbacks see it,
    that is already censored for C(no_log)).
  - Loop items are not written separately; the loop's aggregate result (with its
    C(results) list) is.
  - It is an aggregate callback, so it runs next to the normal stdout callback,
    whose human output stays available for the tests.
  - Does nothing when E(RESULT_DUMP_PATH) is unset.
requirements:
  - enable in configuration, for example with E(ANSIBLE_CALLBACKS_ENABLED=result_dump)
    and E(ANSIBLE_CALLBACK_PLUGINS) pointing at this directory
options: {}
"""


def _default(obj):
    """json.dumps fallback for the odd non-native value."""
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, (datetime.date, datetime.datetime, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    if hasattr(obj, "items"):
        return dict(obj.items())
    return str(obj)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_dump"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("RESULT_DUMP_PATH")
        self._lock = threading.Lock()

    # -- helpers ---------------------------------------------------------
    @staticmethod
    def _parts(result):
        """(task, host, result dict) with the 2.19+ public names when available."""
        task = getattr(result, "task", None) or result._task
        host = getattr(result, "host", None) or result._host
        data = getattr(result, "result", None)
        if data is None:
            data = result._result
        return task, host, data

    @staticmethod
    def _task_name(result, task):
        # ansible-core >= 2.19: the templated name as the stdout callback shows it
        name = getattr(result, "task_name", None)
        if not name:
            name = task.get_name()
        name = str(name).strip()
        # ansible-core 2.21 puts the role in front ("ns.coll.role : Task"); 2.19 does not. Keep the task's own name.
        role = getattr(task, "_role", None)
        if role is not None and " : " in name:
            role_name, task_name = name.split(" : ", 1)
            if role_name.split(".")[-1] == role.get_name().split(".")[-1]:
                name = task_name.strip()
        return name

    @staticmethod
    def _check_mode(task):
        task_check = getattr(task, "check_mode", None)
        if isinstance(task_check, bool):
            return task_check
        try:
            return bool(context.CLIARGS.get("check", False))
        except Exception:  # pragma: no cover - context not initialised
            return False

    def _write(self, result, status, ignore_errors=None):
        if not self._path:
            return
        task, host, data = self._parts(result)
        if ignore_errors is None:
            ignore_errors = getattr(task, "ignore_errors", False)
        entry = {
            "task": self._task_name(result, task),
            "host": host.get_name(),
            "status": status,
            "action": getattr(task, "action", None),
            "check_mode": self._check_mode(task),
            "ignore_errors": ignore_errors is True,
            "result": data,
        }
        try:
            line = json.dumps(entry, default=_default, sort_keys=True)
        except (TypeError, ValueError) as exc:  # never break the play over the dump
            entry["result"] = {"_result_dump_error": repr(exc), "repr": repr(data)}
            line = json.dumps(entry, default=str, sort_keys=True)
        with self._lock:
            with open(self._path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    # -- events ----------------------------------------------------------
    def v2_runner_on_ok(self, result):
        data = self._parts(result)[2]
        self._write(result, "changed" if data.get("changed", False) else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed", ignore_errors=bool(ignore_errors))

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._write(result, "unreachable")

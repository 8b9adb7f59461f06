# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of envops.aws_secrets.environment_secrets_run: the environment_secrets role's work.

Reads and checks the role's inputs (plugin_utils/_environment_secrets.py), then assumes the credential's role,
checks the account and runs aws_secrets_manager_set once. Its result holds names, counts and markers only:
never a value nor a credential (those stay in this process, in the arguments of the module calls).
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import DEFER_DRIFT_FAILURE
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import InputError
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import account_problem
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import connection_arguments
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import drift_failure
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import drift_lines
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import drift_of
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import module_result
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import plain_data
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import resolve
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import role_variables
from ansible_collections.envops.aws_secrets.plugins.plugin_utils._environment_secrets import summary_lines

SET_MODULE = "envops.aws_secrets.aws_secrets_manager_set"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=dict(resolve_only=dict(type="bool", default=False)))
        task_vars = task_vars or {}
        # Only the role's own variables are read (and templated): one per input, one per module-wide option.
        variables = {name: plain_data(self._templar.template(task_vars[name]))
                     for name in role_variables() if name in task_vars}
        try:
            environment = resolve(variables, os.environ, check_mode=bool(self._task.check_mode),
                                  diff_mode=bool(self._task.diff))
        except InputError as error:
            result.update(failed=True, msg=str(error), problems=error.problems)
            return result
        except Exception as error:  # pylint: disable=broad-except
            # Its text could quote an input: the type is enough to report it.
            problem = "unexpected {0} while reading the inputs".format(type(error).__name__)
            result.update(failed=True, msg="Bad input for envops.aws_secrets.environment_secrets: " + problem,
                          problems=[problem])
            return result
        result["environment"] = environment.context()
        if args["resolve_only"]:
            return result
        deferred = bool(self._templar.template(task_vars.get(DEFER_DRIFT_FAILURE, False)))
        try:
            result.update(self._run_environment(environment, task_vars, deferred))
        except Exception as error:  # pylint: disable=broad-except
            # The module calls carry credentials and values: report the type of the error only.
            message = "Environment {0}: unexpected {1} while running the module".format(
                environment.name, type(error).__name__)
            result.update(failed=True, msg=message, error=message, result={}, summary_lines=[message])
        return result

    def _module(self, name, module_args, task_vars, check_mode=False, diff=False):
        """One module call with its own check and diff mode (assuming a role must run in check mode too)."""
        saved = self._task.check_mode, self._task.diff
        self._task.check_mode, self._task.diff = check_mode, diff
        try:
            return self._execute_module(module_name=name, module_args=module_args, task_vars=task_vars)
        finally:
            self._task.check_mode, self._task.diff = saved

    def _module_connection(self, environment, task_vars):
        """(connection arguments, error): the credential's own, or those of its assumed role."""
        credential = environment.credential
        if not credential.role_arn:
            return connection_arguments(environment), None
        assume = dict(connection_arguments(environment), role_arn=credential.role_arn,
                      role_session_name=environment.role_session_name)
        if credential.external_id:
            assume["external_id"] = credential.external_id
        assumed = self._module("amazon.aws.sts_assume_role", assume, task_vars)
        creds = assumed.get("sts_creds") if not assumed.get("failed") else None
        if not creds:
            return None, "could not assume {0} with {1}: {2}".format(
                credential.role_arn, credential.label, assumed.get("msg") or "no credentials returned")
        return connection_arguments(environment, dict(
            access_key=creds["access_key"], secret_key=creds["secret_key"], session_token=creds["session_token"],
            profile="")), None

    def _run_environment(self, environment, task_vars, deferred):
        connection, error = self._module_connection(environment, task_vars)
        if not error and environment.account_id:
            caller = self._module("amazon.aws.aws_caller_info", dict(connection), task_vars)
            if caller.get("failed") or not caller.get("account"):
                error = "could not read the caller identity with {0}: {1}".format(
                    environment.credential.label, caller.get("msg") or "no account returned")
            else:
                error = account_problem(environment, caller)
        outcome, warnings = {}, []
        if not error:
            module_args = dict(environment.module_arguments(), **connection)
            raw = self._module(SET_MODULE, module_args, task_vars, check_mode=environment.check_mode,
                               diff=environment.diff and environment.mode == "apply")
            outcome = module_result(raw)
            warnings = list(outcome.pop("warnings", None) or [])
            outcome.pop("deprecations", None)
            if raw.get("failed"):
                error = outcome.pop("msg", None) or "the module failed"
            outcome.pop("failed", None)
            outcome.pop("exception", None)
        reply = dict(result=outcome, changed=bool(outcome.get("changed")) and environment.mode == "apply")
        if warnings:
            reply["warnings"] = warnings
        if error:
            own = error.startswith("Environment {0} ".format(environment.name))
            # "error" too: the role registers this task with failed_when: false, which resets "failed".
            message = error if own else "Environment {0}: {1}".format(environment.name, error)
            reply.update(failed=True, msg=message, error=message)
        if environment.mode == "drift":
            drift = drift_of(environment, outcome, error)
            reply.update(drift=drift, summary_lines=drift_lines(environment, drift))
            failure = drift_failure(environment, drift, deferred)
            if failure:
                reply["drift_failure"] = failure
        else:
            reply["summary_lines"] = summary_lines(environment, outcome, error)
        return reply

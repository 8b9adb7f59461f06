# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module object and main() of aws_secrets_manager_set: value-free output without ansible-core's leaf masking.

ansible-core registers every leaf of a no_log option (``"5432"``, ``"1"``, ``"payments"``) and replaces
those strings wherever they occur in the result, at a cost of (result strings x registered strings).
This module's output never holds a value by construction, so once the arguments are validated the
registered set is narrowed to the module-wide credentials, and the invocation is reported with a
marker for each value option. See docs/reliability.md, "Masking".

Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import json
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.warnings import warn

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import RateLimiter
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import SecretsManagerCalls
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_client import client_config
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_mask import Masker
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_mask import value_free_params
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_reconcile import RunFailure
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_reconcile import run


def _credential_strings(argument_spec: dict, params: dict) -> set:
    """Top-level no_log strings (amazon.aws's secret key and session token): few, long, and never in output."""
    return {
        params[name]
        for name, option in argument_spec.items()
        if option.get("no_log") and isinstance(params.get(name), str) and params[name]
    }


def narrow_no_log_values(module) -> None:
    """Keep only the credentials in ansible-core's masking set; the output is value-free by construction."""
    kept = _credential_strings(module.argument_spec, module.params)
    module.no_log_values.clear()
    module.no_log_values.update(kept)


class _ValueFreeModule(AnsibleModule):
    """An AnsibleModule that logs its invocation with value markers, in time linear in the arguments.

    ansible-core's own invocation log masks every registered leaf in the text of every argument:
    quadratic in the number of secrets (21 s of CPU at 4,000 JSON secrets, measured), and it would corrupt names.
    """

    def _log_invocation(self):
        narrow_no_log_values(self)
        shown = value_free_params(self.argument_spec, self.params)
        self.log("Invoked with {0}".format(json.dumps(shown, sort_keys=True, default=str)))


def value_free_module(argument_spec: dict) -> AnsibleAWSModule:
    """An AnsibleAWSModule over _ValueFreeModule, with ansible-core's masking set narrowed."""
    # amazon.aws reads the class to build from its class-level settings, not from the keyword it accepts.
    settings = AnsibleAWSModule.default_settings
    previous = settings["module_class"]
    settings["module_class"] = _ValueFreeModule
    try:
        module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                                  module_class=_ValueFreeModule)
    finally:
        settings["module_class"] = previous
    # _log_invocation does not run for a task with no_log: narrow here too.
    narrow_no_log_values(module)
    return module


def invocation_of(module) -> dict:
    """The invocation to report: the validated arguments, each value option as a marker."""
    return {"module_args": value_free_params(module.argument_spec, module.params)}


def _calls_factory(module, masker: Masker):
    """calls_for(service, region, concurrency): masked, counted callers on the module's own connection.

    Secrets Manager's callers share one client-side rate limiter; KMS and STS are asked a few times a run.
    """
    rate_limiter = RateLimiter()

    def calls_for(service, region, concurrency):
        extra = {"region": region} if region else {}
        client = module.client(service, config=client_config(concurrency), **extra)
        return SecretsManagerCalls(client, masker=masker,
                                   rate_limiter=rate_limiter if service == "secretsmanager" else None)

    return calls_for


def run_module(argument_spec: dict) -> None:
    """aws_secrets_manager_set's main(): the pipeline of _secrets_reconcile, reported through the module."""
    module = value_free_module(argument_spec)
    # Every value option's forms, found by walking the spec; generated and stored values join later.
    masker = Masker()
    masker.add_params(module.argument_spec, module.params)
    try:
        outcome = run(module.params, module.region, _calls_factory(module, masker), masker,
                      check_mode=module.check_mode, with_diff=module._diff)
    except RunFailure as failure:
        module.fail_json(msg=failure.msg, invocation=invocation_of(module), **failure.fields)
    except Exception as error:  # pylint: disable=broad-except
        module.fail_json(msg=masker.mask("Unexpected error: {0}: {1}".format(type(error).__name__, error)),
                         exception=masker.mask(traceback.format_exc()), invocation=invocation_of(module))
    else:
        _report(module, outcome)


def _report(module, outcome) -> None:
    # ansible-core's own warn(): amazon.aws's module.warn() re-passes warnings to exit_json, which
    # ansible-core 2.19 reports as deprecated.
    for warning in outcome.warnings:
        warn(warning)
    result = dict(outcome.result, invocation=invocation_of(module))
    if outcome.failure:
        module.fail_json(msg=outcome.failure, **result)
    module.exit_json(**result)

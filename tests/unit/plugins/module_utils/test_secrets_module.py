"""The module object: value-free invocation log, narrowed no-log set, and the AnsibleAWSModule wiring."""

import json

import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils import _secrets_module as secrets_module
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_mask import NO_LOG_MARKER
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import set_module_argument_spec

testing = pytest.importorskip("ansible.module_utils.testing")

ARGS = {
    "prefix": "staging/payments/",
    "aws_secret_key": "SECRET-KEY-long-enough-40-characters-xx",
    "secrets": [{"name": "db", "json_value": {"username": "payments", "port": 5432, "replicas": 1,
                                              "password": "CANARY-module-pw"}}],
}


@pytest.fixture
def module(monkeypatch):
    logged = []
    monkeypatch.setattr(secrets_module._ValueFreeModule, "log", lambda self, msg, log_args=None: logged.append(msg))
    with testing.patch_module_args(ARGS):
        built = secrets_module.value_free_module(set_module_argument_spec())
    built.logged = logged
    return built


def test_the_invocation_log_is_value_free_and_exact(module):
    (message,) = module.logged
    assert message.startswith("Invoked with ")
    shown = json.loads(message[len("Invoked with "):])
    assert shown["secrets"][0]["json_value"] == NO_LOG_MARKER
    assert shown["aws_secret_key"] == NO_LOG_MARKER
    assert shown["prefix"] == "staging/payments/" and shown["secrets"][0]["name"] == "db"
    assert "CANARY" not in message and "5432" not in message


def test_only_the_credentials_stay_in_cores_masking_set(module):
    assert set(module.no_log_values) == {ARGS["aws_secret_key"]}
    assert module.params["secrets"][0]["json_value"]["port"] == 5432, "the params themselves are untouched"


def test_the_reported_invocation_matches_the_log(module):
    invocation = secrets_module.invocation_of(module)["module_args"]
    assert invocation["secrets"][0]["json_value"] == NO_LOG_MARKER
    assert invocation["secrets"][0]["tags"] is None


def test_amazon_aws_settings_are_restored(module):
    from ansible.module_utils.basic import AnsibleModule
    from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

    assert AnsibleAWSModule.default_settings["module_class"] is AnsibleModule
    assert isinstance(module._module, secrets_module._ValueFreeModule)

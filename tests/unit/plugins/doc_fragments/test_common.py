"""The envops.aws_secrets.common doc fragment against the spec it documents, and the modules that extend it.

ansible-test's validate-modules checks each module's merged docs against its spec. These tests pin what it
cannot see: that the fragment documents exactly the shared options, that the modules leave their types and
defaults to it, and that the return values both modules give (which no fragment can carry) stay alike.
"""

import pytest
import yaml

from ansible_collections.envops.aws_secrets.plugins.doc_fragments.common import ModuleDocFragment
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import info_module_argument_spec
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import common_options
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import set_module_argument_spec
from ansible_collections.envops.aws_secrets.plugins.modules import aws_secrets_manager_info
from ansible_collections.envops.aws_secrets.plugins.modules import aws_secrets_manager_set

FRAGMENT_OPTIONS = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
MODULES = {
    "aws_secrets_manager_set": (aws_secrets_manager_set, set_module_argument_spec()),
    "aws_secrets_manager_info": (aws_secrets_manager_info, info_module_argument_spec()),
}
SHARED_RETURN_VALUES = ("arns", "api_calls")


def test_the_fragment_documents_exactly_the_shared_options():
    assert sorted(FRAGMENT_OPTIONS) == sorted(common_options())


@pytest.mark.parametrize("option", sorted(common_options()))
def test_the_fragment_types_each_shared_option_as_the_spec_does(option):
    spec = common_options()[option]
    documented = FRAGMENT_OPTIONS[option]
    assert {key: documented.get(key) for key in ("type", "elements", "default")} == {
        key: spec.get(key) for key in ("type", "elements", "default")}


@pytest.mark.parametrize("module_name", sorted(MODULES))
def test_each_module_takes_the_shared_options_from_the_fragment(module_name):
    module, argument_spec = MODULES[module_name]
    documentation = yaml.safe_load(module.DOCUMENTATION)
    assert "envops.aws_secrets.common" in documentation["extends_documentation_fragment"]
    for option, spec in common_options().items():
        assert argument_spec[option] == spec
        # Only a description of its own: the type and default come from the fragment, once.
        assert set(documentation["options"].get(option, {})) <= {"description"}, option


@pytest.mark.parametrize("key", SHARED_RETURN_VALUES)
def test_the_return_values_both_modules_give_are_documented_alike(key):
    documented = [yaml.safe_load(module.RETURN)[key] for module, _spec in MODULES.values()]
    assert [{field: entry.get(field) for field in ("type", "returned")} for entry in documented] == [
        {"type": "dict", "returned": "always"}] * len(MODULES)


def test_api_calls_is_described_in_the_same_words_by_both_modules():
    descriptions = {yaml.safe_load(module.RETURN)["api_calls"]["description"] for module, _spec in MODULES.values()}
    assert len(descriptions) == 1

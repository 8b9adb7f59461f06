"""The role on the module's own schema: a walk over aws_secrets_manager_set's argument spec.

Fails when a module option cannot reach the module through the role (as environment_secrets_<option>, as its
ENVIRONMENT_INFO / STACK_JOB_SETTINGS key, or as an item option of environment_secrets_secrets), and when the role's
meta/argument_specs.yml or defaults/main.yml drift from the spec they are generated from.
"""

import copy
import json
from pathlib import Path

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import set_module_argument_spec
from ansible_collections.envops.aws_secrets.plugins.plugin_utils import _environment_secrets as inputs

ROLE_DIR = Path(__file__).resolve().parents[4] / "roles" / "environment_secrets"
MODULE_SPEC = set_module_argument_spec()
MODULE_WIDE = sorted(option for option in MODULE_SPEC if option not in inputs.DECLARED_OPTIONS)
ITEM_OPTIONS = sorted(option for option in MODULE_SPEC["secrets"]["options"] if option != "name")


def sample(spec: dict):
    """A value of the option's type, valid for ansible-core's validator (not necessarily for AWS)."""
    kind = spec.get("type", "str")
    if spec.get("choices"):
        return spec["choices"][-1]
    if kind == "dict":
        options = spec.get("options") or {}
        return {key: sample(sub) for key, sub in options.items() if sub.get("required")} or (
            {} if options else {"key": "value"})
    if kind == "list":
        element = dict(spec.get("options") and {"type": "dict", "options": spec["options"]} or {},
                       type=spec.get("elements", "str"))
        return [sample(element)]
    return {"bool": True, "int": 7, "float": 1.5, "raw": {"Statement": []}}.get(kind, "sample")


def reached(variables: dict, documents: dict) -> tuple:
    problems = []
    labelled = {document: (document, values) for document, values in documents.items()}
    params, sources = inputs._module_wide_params(variables, labelled, problems)
    return params, sources, problems


@pytest.mark.parametrize("option", MODULE_WIDE)
def test_every_module_wide_option_reaches_the_module_as_a_variable(option):
    value = sample(MODULE_SPEC[option])
    params, sources, problems = reached({"environment_secrets_" + option: value}, {})
    assert problems == []
    expected = ArgumentSpecValidator({option: MODULE_SPEC[option]}).validate({option: value}).validated_parameters
    assert params[option] == expected[option] and sources[option] == "environment_secrets_" + option


@pytest.mark.parametrize("option", MODULE_WIDE)
def test_every_module_wide_option_reaches_the_module_from_its_document(option):
    value = sample(MODULE_SPEC[option])
    document = inputs.document_of(option)
    key = inputs.DOCUMENT_KEYS.get(option, option)
    spec = inputs.document_spec(document)
    assert key in spec, "{0} has no key in {1}".format(option, document)
    checked = ArgumentSpecValidator(spec).validate(dict({"name": "env"} if document == "ENVIRONMENT_INFO" else {},
                                                        **{key: value}))
    assert checked.error_messages == []
    params, sources, problems = reached({}, {document: checked.validated_parameters})
    assert problems == [] and sources[option] == "{0}.{1}".format(document, key)
    assert params[option] == checked.validated_parameters[key]
    # and the module takes what the role hands it
    module_params = dict(params, names=["a"])
    assert ArgumentSpecValidator(MODULE_SPEC).validate(module_params).error_messages == []


@pytest.mark.parametrize("option", ITEM_OPTIONS)
def test_every_item_option_is_accepted_in_environment_secrets_secrets(option):
    item = {"name": "item", option: sample(MODULE_SPEC["secrets"]["options"][option])}
    problems = []
    secrets, indexes = inputs._secrets({"environment_secrets_secrets": [item]}, problems)
    assert problems == [] and secrets == [item] and indexes == [0]


def test_resolve_hands_the_module_an_option_from_each_source():
    environ = {"ENVIRONMENT_INFO": json.dumps({"name": "walk", "region": "us-east-1", "description": "d",
                                               "block_public_policy": False}),
               "STACK_JOB_SETTINGS": json.dumps({"restore": False, "purge_tags": False, "state": "absent"}),
               "SECRET_NAMES": "a"}
    arguments = inputs.resolve({"environment_secrets_force_overwrite_replica": True}, environ).module_arguments()
    assert {key: arguments[key] for key in ("description", "block_public_policy", "restore", "purge_tags", "state",
                                            "force_overwrite_replica")} == {
        "description": "d", "block_public_policy": False, "restore": False, "purge_tags": False, "state": "absent",
        "force_overwrite_replica": True}


def test_each_document_takes_exactly_its_options_and_tags_are_in_both():
    environment, job = inputs.document_spec("ENVIRONMENT_INFO"), inputs.document_spec("STACK_JOB_SETTINGS")
    own = set(inputs.ENVIRONMENT_ONLY_KEYS) | set(inputs.JOB_ONLY_KEYS)
    covered = {key for key in set(environment) | set(job) if key not in own}
    assert covered == {inputs.DOCUMENT_KEYS.get(option, option) for option in MODULE_WIDE}
    assert set(environment) & set(job) == set(inputs.MERGED_OPTIONS)
    assert inputs.JOB_OPTIONS <= set(MODULE_WIDE), "a job option the module does not have"


def test_a_new_module_option_flows_through_without_edits(monkeypatch):
    grown = copy.deepcopy(MODULE_SPEC)
    grown["adopt_tag"] = dict(type="str")
    monkeypatch.setattr(inputs, "set_module_argument_spec", lambda: copy.deepcopy(grown))
    assert "adopt_tag" in inputs.document_spec("ENVIRONMENT_INFO")
    assert "environment_secrets_adopt_tag" in inputs.role_variables()
    params, _sources, problems = reached({}, {"ENVIRONMENT_INFO": {"adopt_tag": "owner"}})
    assert problems == [] and params == {"adopt_tag": "owner"}


def test_argument_specs_yml_is_generated_from_the_module_spec():
    on_disk = yaml.safe_load((ROLE_DIR / "meta" / "argument_specs.yml").read_text())
    assert on_disk == inputs.role_argument_specs(), (
        "roles/environment_secrets/meta/argument_specs.yml is out of date: run scripts/role_argument_specs.py")
    options = on_disk["argument_specs"]["main"]["options"]
    for option in MODULE_WIDE:
        documented = options["environment_secrets_" + option]
        assert documented["type"] == MODULE_SPEC[option].get("type", "str")
        assert documented.get("elements") == MODULE_SPEC[option].get("elements")
        assert documented.get("choices") == MODULE_SPEC[option].get("choices")


def test_defaults_match_the_argument_specs():
    defaults = yaml.safe_load((ROLE_DIR / "defaults" / "main.yml").read_text())
    options = inputs.role_argument_specs()["argument_specs"]["main"]["options"]
    assert set(defaults) <= set(options)
    for name, value in defaults.items():
        assert options[name].get("default") == value, name
    assert set(defaults) == set(inputs.ROLE_VARIABLES)


def test_the_role_readme_says_where_each_module_option_belongs():
    readme = (ROLE_DIR / "README.md").read_text()
    rows = {}
    for line in readme.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0].strip("`") in MODULE_SPEC:
            rows[cells[0].strip("`")] = cells[2].lstrip("`")
    assert sorted(rows) == MODULE_WIDE
    for option, document in rows.items():
        expected = "both" if option in inputs.MERGED_OPTIONS else inputs.document_of(option)
        assert document.startswith(expected), (option, document)


def test_one_name_for_failing_on_drift_everywhere():
    root = ROLE_DIR.parents[1]
    users = ["roles/environment_secrets/defaults/main.yml", "roles/environment_secrets/README.md",
             "playbooks/report_drift.yml", "extensions/awx/job_templates.yml", "docs/awx.md", "README.md"]
    for path in users:
        text = (root / path).read_text()
        assert "environment_secrets_fail_on_drift" in text, path
        assert "environment_secrets_drift_fail" not in text, path

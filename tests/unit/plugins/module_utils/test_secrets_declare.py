import pytest

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import DeclarationError
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare


def problems_of(params):
    with pytest.raises(DeclarationError) as error:
        declare(params)
    return error.value.problems, str(error.value)


def test_names_and_secrets_become_declared_in_input_order(make_params):
    declaration = declare(make_params(prefix="p/", names=["a", "b"], secrets=[{"name": "c", "value": "v"}]))
    assert [declared.full_name for declared in declaration.secrets] == ["p/a", "p/b", "p/c"]
    assert [declared.label for declared in declaration.secrets] == ["names[0]", "names[1]", "secrets[0]"]


def test_item_options_override_module_defaults(make_params):
    declaration = declare(
        make_params(
            description="module", tags={"a": "1", "b": "2"}, kms_key_id="alias/m", overwrite=False,
            recovery_window=30, state="present",
            secrets=[{"name": "x", "description": "item", "tags": {"b": "3"}, "kms_key_id": "alias/i",
                      "overwrite": True, "recovery_window": 7, "state": "absent"}],
        )
    )
    declared = declaration.secrets[0]
    assert declared.description == "item"
    assert declared.tags == {"a": "1", "b": "3"}
    assert declared.kms_key_id == "alias/i"
    assert declared.overwrite is True
    assert declared.recovery_window == 7
    assert declared.state == "absent"


def test_unset_options_stay_unmanaged(make_params):
    declared = declare(make_params(names=["x"])).secrets[0]
    assert declared.description is None and declared.tags is None and declared.kms_key_id is None
    assert declared.payload is None and declared.generate is None


def test_module_generate_applies_only_to_items_without_a_value(make_params):
    declaration = declare(make_params(generate={"length": 10}, names=["a"], secrets=[{"name": "b", "value": "v"}]))
    assert declaration.secrets[0].generate["length"] == 10
    assert declaration.secrets[1].generate is None


def test_tag_values_become_strings(make_params):
    declared = declare(make_params(names=["a"], tags={"port": 8080, "on": True})).secrets[0]
    assert declared.tags == {"port": "8080", "on": "true"}


def test_sensitive_values_are_collected(make_params):
    declaration = declare(make_params(secrets=[{"name": "a", "value": "s3cr3t-value"}]))
    assert "s3cr3t-value" in declaration.sensitive_values


def test_every_problem_is_listed_at_once_naming_the_item(make_params):
    problems, message = problems_of(
        make_params(
            names=["ok", "bad name", "ok"],
            secrets=[
                {"name": "two-values", "value": "x", "json_value": {"a": 1}},
                {"name": "window", "recovery_window": 3},
                {"name": "big", "value": "x" * 65537},
            ],
            concurrency=65,
        )
    )
    assert len(problems) == 6, problems
    assert "names[1] ('bad name')" in message
    assert "names[2] ('ok'): duplicate of names[0]" in message
    assert "secrets[0] ('two-values'): give at most one of" in message
    assert "secrets[1] ('window'): recovery_window is 3" in message
    assert "secrets[2] ('big'): the value is 65537 bytes" in message
    assert "concurrency is 65" in message
    assert "x" * 100 not in message


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (dict(names=["a" * 513]), "over the limit of 512"),
        (dict(prefix="p" * 500, names=["a" * 13]), "over the limit of 512"),
        (dict(names=[""]), "the name is empty"),
        (dict(names=["émoji"]), "characters Secrets Manager does not allow"),
        (dict(prefix="bad prefix/", names=["a"]), "prefix 'bad prefix/'"),
        (dict(names=["a"], prune=True), "prune needs a prefix"),
        (dict(names=[]), "nothing is declared"),
        (dict(names=["a"], recovery_window=31), "recovery_window is 31"),
        (dict(names=["a"], concurrency=0), "concurrency is 0"),
        (dict(names=["a"], tags={"aws:x": "1"}), "reserved prefix"),
        (dict(names=["a"], tags={"k": {"nested": 1}}), "tag values are strings"),
        (dict(names=["a"], tags={"k" * 129: "v"}), "must be 1 to 128"),
        (dict(names=["a"], tags={"k": "v" * 257}), "over 256 characters"),
        (dict(names=["a"], generate={"length": 0}), "generate.length is 0"),
        (dict(names=["a"], generate={"exclude_punctuation": True, "exclude_numbers": True,
                                     "exclude_uppercase": True, "exclude_lowercase": True}), "excludes every kind"),
        (dict(names=["a"], generate={"json_key": ""}), "json_key is empty"),
        (dict(secrets=[{"name": "a", "binary_value": "%%%"}]), "binary_value is not valid base64"),
        (dict(secrets=[{"name": "a", "value": ""}]), "the value is empty"),
        (dict(names=["a"], secrets=[{"name": "a"}]), "duplicate of names[0]"),
        (dict(secrets=[{"name": "a", "value": "v", "generate": {}}]), "give at most one of"),
    ],
)
def test_bad_input_is_refused(make_params, overrides, fragment):
    problems, message = problems_of(make_params(**overrides))
    assert fragment in message, message


def test_arn_suffix_lookalike_passes_validation_without_a_warning(make_params):
    # The warning moved to the result: it is given only when such a secret is being created.
    declaration = declare(make_params(names=["db-AbC123"]))
    assert declaration.secrets[0].full_name == "db-AbC123"


@pytest.mark.parametrize("overrides, fragment", [
    (dict(prefix="c24/", names=[""]), "names[0] (''): the name is empty or only whitespace"),
    (dict(prefix="c24/", names=["ok", "   "]), "names[1] ('   '): the name is empty or only whitespace"),
    (dict(prefix="c24/", names=[None]), "names[0]: the name is null"),
    (dict(prefix="c24/", secrets=[{"name": ""}]), "secrets[0] (''): the name is empty"),
    (dict(names=["db\n"]), "the name has characters Secrets Manager does not allow ('\\n')"),
    (dict(prefix="p/\n", names=["db"]), "prefix 'p/\\n' has characters"),
    (dict(names=["a"], replica_regions=[{"region": "eu-west-1\n"}]), "is not an AWS region name"),
    (dict(names=["a"], tags={"team": None}), "tag 'team' has no value (null)"),
    (dict(secrets=[{"name": "a", "tags": {"owner": None}}]), "secrets[0] ('a'): tag 'owner' has no value"),
    (dict(secrets=[{"name": "a", "json_value": "[1, 2"}]), "json_value is not valid JSON text"),
    (dict(secrets=[{"name": "a", "json_value": 5}]), "json_value must be a JSON object or array, not a int"),
    (dict(secrets=[{"name": "a", "json_value": '"text"'}]), "json_value must be a JSON object or array"),
    (dict(secrets=[{"name": "a", "env_name": "2FA"}]), "env_name '2FA' must be letters, digits and underscores"),
    (dict(secrets=[{"name": "a", "env_name": "X"}, {"name": "b", "env_name": "X"}]),
     "secrets[1] ('b'): env_name 'X' is also given to secrets[0]"),
])
def test_issue11_bad_input_is_refused(make_params, overrides, fragment):
    _problems, message = problems_of(make_params(**overrides))
    assert fragment in message, message


def test_a_replica_in_the_module_region_is_refused():
    from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import set_module_argument_spec

    params = {key: option.get("default") for key, option in set_module_argument_spec().items()}
    params.update(names=["a"], replica_regions=[{"region": "us-east-1", "kms_key_id": None}])
    with pytest.raises(DeclarationError) as error:
        declare(params, region="us-east-1")
    assert "replica region 'us-east-1' is the region the secret itself is in" in str(error.value)
    assert declare(params, region="eu-west-1").secrets[0].replicas == (("us-east-1", None),)


def test_json_value_takes_arrays_and_json_text(make_params):
    declaration = declare(make_params(secrets=[{"name": "a", "json_value": [1, {"b": True}]},
                                               {"name": "b", "json_value": '{"x": "Zürich"}'}]))
    assert declaration.secrets[0].payload.string == '[1,{"b":true}]'
    assert declaration.secrets[1].payload.string == '{"x":"Zürich"}'


def test_item_purge_tags_restore_and_env_name_override_the_module(make_params):
    declaration = declare(make_params(purge_tags=True, restore=True, secrets=[
        {"name": "a", "purge_tags": False, "restore": False, "env_name": "DB_URL"}, {"name": "b"}]))
    first, second = declaration.secrets
    assert (first.purge_tags, first.restore, first.env_name) == (False, False, "DB_URL")
    assert (second.purge_tags, second.restore, second.env_name) == (True, True, None)


def test_an_empty_tag_value_must_be_asked_for(make_params):
    assert declare(make_params(names=["a"], tags={"team": ""})).secrets[0].tags == {"team": ""}


def test_a_lone_surrogate_is_refused_without_quoting_the_value(make_params):
    _problems, message = problems_of(make_params(secrets=[{"name": "a", "json_value": {"k": "CANARY\ud800"}}]))
    assert "secrets[0] ('a'): the value has text that is not valid Unicode" in message
    assert "CANARY" not in message

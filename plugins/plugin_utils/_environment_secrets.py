# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Inputs of the environment_secrets role, turned into aws_secrets_manager_set's arguments.

Reads each input from its variable, else its environment variable, else its default; parses the JSON
texts; validates everything with the module's own argument spec and _secrets_declare's rules; resolves the
credentials. Nothing here talks to AWS. Every problem is collected into one message that names the
variable or environment variable, and the item's index and name. Messages never hold a value or a
credential. Internal to the envops.aws_secrets collection: not a public API, may change without notice.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import DeclarationError
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_declare import declare
from ansible_collections.envops.aws_secrets.plugins.module_utils._secrets_spec import set_module_argument_spec

ROLE = "envops.aws_secrets.environment_secrets"
VARIABLE_PREFIX = "environment_secrets_"
# Module options that are the declared secrets themselves, each with an input of its own.
DECLARED_OPTIONS = ("names", "secrets")
# Module-wide options that say how this job runs rather than what the environment is: their key lives in
# STACK_JOB_SETTINGS. Every other module-wide option, including any added later, is a key of ENVIRONMENT_INFO.
JOB_OPTIONS = frozenset(
    ("concurrency", "fail_fast", "overwrite", "prune", "recovery_window", "restore", "purge_tags",
     "purge_replicas", "force_overwrite_replica", "state", "adopt")
)
# Options that both documents take; their dictionaries merge (ENVIRONMENT_INFO, then STACK_JOB_SETTINGS, then the
# environment_secrets_<option> variable, later keys winning).
MERGED_OPTIONS = frozenset(("tags",))
# ENVIRONMENT_INFO's key for a module option, where it is not the option's own name.
DOCUMENT_KEYS = {"prefix": "secret_prefix"}
# Matched in full (fullmatch): "$" alone would let a final newline through.
ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}")
ROLE_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[^\n]+")
SESSION_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_=,.@-]")
MODES = ("apply", "drift")
ITEM_LABEL = re.compile(r"^(names|secrets)\[(\d+)\]")
# The module's item labels anywhere in its messages ("duplicate of names[0]"), not inside a role input's name.
ITEM_REFERENCE = re.compile(r"(?<![\w.])(names|secrets)\[(\d+)\]")

# Keys of ENVIRONMENT_INFO and STACK_JOB_SETTINGS that are the role's, not the module's.
ENVIRONMENT_ONLY_KEYS = dict(
    name=dict(type="str"),  # required: checked by the role, so that a missing name does not hide other problems
    region=dict(type="str"),
    account_id=dict(type="str"),
)
JOB_ONLY_KEYS = dict(
    dry_run=dict(type="bool"),
    diff=dict(type="bool"),
)
# One entry of environment_secrets_aws_credentials.
CREDENTIAL_SPEC = dict(
    access_key=dict(type="str"),
    secret_key=dict(type="str", no_log=True),
    session_token=dict(type="str", no_log=True),
    profile=dict(type="str"),
    role_arn=dict(type="str"),
    external_id=dict(type="str"),
    region=dict(type="str"),
)
# The role's own variables, besides environment_secrets_<option> for each module-wide option.
ROLE_VARIABLES = dict(
    environment_secrets_environment_info=dict(type="dict"),
    environment_secrets_stack_job_settings=dict(type="dict"),
    environment_secrets_aws_credential_id=dict(type="str"),
    environment_secrets_aws_credentials=dict(type="dict", no_log=True, default={}),
    environment_secrets_endpoint_url=dict(type="str"),
    environment_secrets_names=dict(type="list", elements="str"),
    environment_secrets_secrets=dict(type="list", elements="dict", default=[]),
    environment_secrets_mode=dict(type="str", choices=list(MODES), default="apply"),
    environment_secrets_fail_on_drift=dict(type="bool", default=False),
    environment_secrets_role_session_name=dict(type="str"),
)
# Internal: report_drift.yml fails after its cross-environment report, not in the role.
DEFER_DRIFT_FAILURE = "environment_secrets__defer_drift_failure"


class InputError(Exception):
    """Bad input: every problem, by variable or environment variable, index and name."""

    def __init__(self, problems: List[str], environment: Optional[str] = None):
        self.problems = problems
        where = ROLE + (", environment {0}".format(environment) if environment else "")
        super().__init__("Bad input for {0} ({1} problem{2}): {3}".format(
            where, len(problems), "" if len(problems) == 1 else "s", "; ".join(problems)))


@dataclass(frozen=True)
class Credential:
    """Where the module's AWS credentials come from. connection holds secrets: never shown."""

    label: str  # for messages: "credential 'deployer'", "AWS profile 'x'", "the default AWS credential chain"
    connection: Dict[str, str] = field(repr=False)  # access_key/secret_key/session_token/profile
    role_arn: Optional[str] = None
    external_id: Optional[str] = field(default=None, repr=False)
    region: Optional[str] = None


@dataclass(frozen=True)
class Environment:
    """The resolved inputs. module_params holds values: never shown; context() is value-free."""

    name: str
    prefix: str
    region: Optional[str]
    account_id: Optional[str]
    endpoint_url: Optional[str]
    mode: str
    dry_run: bool
    check_mode: bool
    diff: bool
    fail_on_drift: bool
    role_session_name: str
    credential: Credential
    module_params: dict = field(repr=False)
    sources: Dict[str, str] = field(default_factory=dict)  # module option -> where it was set

    def context(self) -> dict:
        """What the role shows and keeps about the environment: names and flags, no value, no credential."""
        return dict(
            name=self.name, prefix=self.prefix, region=self.region, account_id=self.account_id, mode=self.mode,
            dry_run=self.dry_run, check_mode=self.check_mode, diff=self.diff, fail_on_drift=self.fail_on_drift,
            credential=self.credential.label, role_arn=self.credential.role_arn, sources=dict(self.sources),
        )

    def module_arguments(self) -> dict:
        """aws_secrets_manager_set's arguments (without the connection ones) for this mode."""
        if self.mode == "apply":
            return copy.deepcopy(self.module_params)
        # Drift: the declared names that should exist, pruning on, overwrite off: lists, reads no value.
        params = self.module_params
        names = list(params.get("names") or []) + [
            item["name"] for item in params.get("secrets") or [] if (item.get("state") or "present") != "absent"]
        drift = dict(prefix=self.prefix, names=names, prune=True, overwrite=False)
        if params.get("concurrency") is not None:
            drift["concurrency"] = params["concurrency"]
        return drift


def module_wide_options() -> Dict[str, dict]:
    """The module's options that apply to every secret, each with its spec, from the module's own spec."""
    return {option: spec for option, spec in set_module_argument_spec().items() if option not in DECLARED_OPTIONS}


def document_of(option: str) -> str:
    """ENVIRONMENT_INFO or STACK_JOB_SETTINGS: where the option's key lives (tags: both)."""
    return "STACK_JOB_SETTINGS" if option in JOB_OPTIONS else "ENVIRONMENT_INFO"


def _unset_default(spec: dict) -> dict:
    """The option's spec without its top-level default: left out means "leave it to the module"."""
    spec = copy.deepcopy(spec)
    spec.pop("default", None)
    spec.pop("required", None)
    return spec


def document_spec(document: str) -> Dict[str, dict]:
    """The argument spec of ENVIRONMENT_INFO or STACK_JOB_SETTINGS, derived from the module's."""
    spec = copy.deepcopy(ENVIRONMENT_ONLY_KEYS if document == "ENVIRONMENT_INFO" else JOB_ONLY_KEYS)
    for option, option_spec in module_wide_options().items():
        if document_of(option) == document or option in MERGED_OPTIONS:
            spec[DOCUMENT_KEYS.get(option, option)] = _unset_default(option_spec)
    return spec


def option_variables() -> Dict[str, Tuple[str, dict]]:
    """environment_secrets_<option> -> (option, spec) for every module-wide option."""
    return {VARIABLE_PREFIX + option: (option, _unset_default(spec)) for option, spec in module_wide_options().items()}


def plain_data(value):
    """The value as plain dicts, lists and strings: ansible-core before 2.19 hands inline-vaulted values over
    as AnsibleVaultEncryptedUnicode objects, which argument validation refuses; their text is the decrypted value."""
    if isinstance(value, dict):
        return {plain_data(key): plain_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(item) for item in value]
    if type(value).__name__ == "AnsibleVaultEncryptedUnicode":
        return str(value)
    return value


def role_variables() -> Dict[str, dict]:
    """Every public variable of the role with its spec: the role's own, then one per module-wide option."""
    variables = copy.deepcopy(ROLE_VARIABLES)
    variables.update({name: spec for name, (_option, spec) in option_variables().items()})
    return variables


# --------------------------------------------------------------------------- reading and parsing


def _describe(label: str, index: int, item) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    where = "{0}[{1}]".format(label, index)
    return "{0} ({1!r})".format(where, name) if isinstance(name, str) and name else where


def _json_text(text: str, label: str, problems: List[str]):
    try:
        return json.loads(text)
    except ValueError as error:
        # json's message has the position only, never the text.
        problems.append("{0} is not valid JSON: {1}.".format(label, error))
        return None


def _read(variables: Mapping, environ: Mapping, variable: str, env_var: Optional[str]):
    """(label, raw value or None): the variable when not null, else the non-empty environment variable."""
    value = variables.get(variable)
    # "" is unset too: an empty AWX credential field injects an empty string.
    if value is not None and not (isinstance(value, str) and not value.strip()):
        return variable, value
    if env_var and str(environ.get(env_var) or "").strip():
        return env_var, environ[env_var]
    return env_var or variable, None


def read_document(variables, environ, variable, env_var, problems) -> Tuple[str, Optional[dict]]:
    """A JSON object input (ENVIRONMENT_INFO, STACK_JOB_SETTINGS): a dict, JSON text, or unset (None)."""
    label, value = _read(variables, environ, variable, env_var)
    if isinstance(value, str):
        value = _json_text(value, label, problems) if value.strip() else None
        if value is None:
            return label, None
    if value is not None and not isinstance(value, dict):
        problems.append("{0} must be a JSON object, not {1}".format(label, type(value).__name__))
        return label, None
    return label, value


def read_names(variables, environ, problems) -> Tuple[str, list]:
    """SECRET_NAMES / environment_secrets_names: a list, JSON list text, or names separated by commas."""
    label, value = _read(variables, environ, "environment_secrets_names", "SECRET_NAMES")
    if value is None:
        return label, []
    if isinstance(value, str):
        if value.strip().startswith("["):
            value = _json_text(value, label, problems)
            if value is None:
                return label, []
        else:
            value = [name.strip() for name in value.split(",") if name.strip()]
    if not isinstance(value, list):
        problems.append("{0} must be a list of names, not {1}".format(label, type(value).__name__))
        return label, []
    valid = []
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            problems.append("{0}[{1}] must be a non-empty string".format(label, index))
        valid.append(name if isinstance(name, str) and name.strip() else None)
    return label, valid


def read_text(variables, environ, variable, env_var) -> Tuple[str, str]:
    """A plain text input (AWS_CREDENTIAL_ID, AWS_URL); a JSON string is accepted too. Unset: ""."""
    label, value = _read(variables, environ, variable, env_var)
    text = "" if value is None else str(value).strip()
    if text.startswith('"'):
        try:
            parsed = json.loads(text)
            text = parsed.strip() if isinstance(parsed, str) else text
        except ValueError:
            pass
    return label, text


# --------------------------------------------------------------------------- validation


def validate(spec: dict, params: dict, label: str, problems: List[str], labelled: bool = True,
             elsewhere: Optional[Dict[str, str]] = None) -> Optional[dict]:
    """params checked against spec with ansible-core's validator; None when it has problems.

    Unknown keys are reported here with the keys allowed (the validator would name the nested spec instead), and
    where a key belongs when it belongs in another document (elsewhere: key -> document).
    """
    unknown = sorted(str(key) for key in params if key not in spec)
    if unknown:
        hints = ["{0} belongs in {1}".format(key, elsewhere[key]) for key in unknown if key in (elsewhere or {})]
        problems.append("{0} has unknown key(s) {1} ({2}allowed: {3})".format(
            label, ", ".join(unknown), "".join(hint + "; " for hint in hints), ", ".join(spec)))
    known = {key: value for key, value in params.items() if key in spec}
    result = ArgumentSpecValidator(spec).validate(known)
    messages = [error.msg for error in result.errors]
    problems += ["{0}: {1}".format(label, message) if labelled else message for message in messages]
    # Unknown keys are left out; the known ones can still be checked further.
    return None if messages else result.validated_parameters


def _validate_variable(name: str, spec: dict, value, problems: List[str]):
    """One variable as an option of its own, so ansible-core's messages name it."""
    validated = validate({name: spec}, {name: value}, name, problems, labelled=False)
    return None if validated is None else validated[name]


def _one_line(problems: List[str]) -> List[str]:
    # ansible-core's messages can span lines; the role joins them into one.
    return [" ".join(problem.split()) for problem in problems]


def _declare_problems(params: dict) -> List[str]:
    """_secrets_declare's rules on the module's validated params."""
    try:
        declare(params)
    except DeclarationError as error:
        return list(error.problems)
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        return ["the inputs could not be checked ({0})".format(type(error).__name__)]
    return []


def _module_defaults() -> dict:
    return ArgumentSpecValidator(set_module_argument_spec()).validate({}).validated_parameters


def _relabel(problem: str, names_label: str, names_index: List[int], secrets_index: List[int]) -> str:
    """names[i] / secrets[i] of the module's messages -> the role input and the item's original index."""

    def role_label(match):
        kind, index = match.group(1), int(match.group(2))
        if kind == "names":
            label, original = names_label, names_index
        else:
            label, original = "environment_secrets_secrets", secrets_index
        return "{0}[{1}]".format(label, original[index] if index < len(original) else index)

    return ITEM_REFERENCE.sub(role_label, problem)


def rule_problems(params: dict, sources: Dict[str, str], names_label: str, names_index: List[int],
                  secrets_index: List[int], with_items: bool = True) -> List[str]:
    """_secrets_declare's problems, each attributed to the variable or document key it came from.

    A module-wide option is checked alone first, over the module's defaults, so its problems can be named by
    its source; what remains of the full run is about the items or about options together.
    """
    defaults = dict(_module_defaults(), names=["placeholder"], secrets=[])
    prefix_problems = _declare_problems(dict(defaults, prefix=params.get("prefix") or ""))
    placeholder = dict(defaults, prefix="" if prefix_problems else params.get("prefix") or "")
    attributed = []
    known = set()
    for option, label in sources.items():
        alone = prefix_problems if option == "prefix" else _declare_problems(dict(placeholder, **{option: params[option]}))
        for problem in alone:
            if ITEM_LABEL.match(problem) or problem in known:
                continue
            known.add(problem)
            # "module: " is how the module names its own module-wide options; the label says where it came from.
            attributed.append("{0}: {1}".format(label, problem[len("module: "):] if problem.startswith("module: ")
                                                else problem))
    if not with_items:
        return attributed
    remaining = [_relabel(problem, names_label, names_index, secrets_index)
                 for problem in _declare_problems(params) if problem not in known]
    return attributed + remaining


# --------------------------------------------------------------------------- credentials


def resolve_credential(credential_id: str, credentials, environ: Mapping, problems: List[str]) -> Credential:
    """A named entry (keys, profile or neither, optionally a role to assume), else a profile, else the default chain."""
    variable = "environment_secrets_aws_credentials"
    if isinstance(credentials, str):
        credentials = _json_text(credentials, variable, problems) if credentials.strip() else {}
    credentials = credentials or {}
    if not isinstance(credentials, dict):
        problems.append("{0} must be a dict of credential id to credentials, not {1}".format(
            variable, type(credentials).__name__))
        credentials = {}
    if credential_id and credential_id in credentials:
        return _entry_credential(credential_id, credentials[credential_id], "{0}.{1}".format(variable, credential_id),
                                 problems)
    if credential_id:
        # Keys set to "" stop amazon.aws's environment fallbacks (AWS_ACCESS_KEY_ID...) from clashing with it.
        return Credential(label="AWS profile {0!r}".format(credential_id),
                          connection=dict(profile=credential_id, access_key="", secret_key="", session_token=""))
    # amazon.aws reads AWS_SESSION_TOKEN only; AWX's AWS credential injects AWS_SECURITY_TOKEN.
    token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN")
    connection = dict(session_token=token) if token and environ.get("AWS_ACCESS_KEY_ID") else {}
    return Credential(label="the default AWS credential chain", connection=connection)


def _entry_credential(credential_id: str, entry, label: str, problems: List[str]) -> Credential:
    name = "credential {0!r}".format(credential_id)
    if entry is None:
        return Credential(label=name, connection={})
    if not isinstance(entry, dict):
        problems.append("{0} must be a dict, not {1}".format(label, type(entry).__name__))
        return Credential(label=name, connection={})
    entry = validate(CREDENTIAL_SPEC, entry, label, problems)
    if entry is None:
        return Credential(label=name, connection={})
    given = {key for key, value in entry.items() if value}
    if ("access_key" in given) != ("secret_key" in given):
        problems.append("{0}: access_key and secret_key must be given together".format(label))
    if "session_token" in given and "access_key" not in given:
        problems.append("{0}: session_token needs access_key and secret_key".format(label))
    if "profile" in given and "access_key" in given:
        problems.append("{0}: give either profile or access_key/secret_key, not both".format(label))
    if "role_arn" in given and not ROLE_ARN_PATTERN.fullmatch(entry["role_arn"]):
        problems.append("{0}.role_arn is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)".format(label))
    if "external_id" in given and "role_arn" not in given:
        problems.append("{0}: external_id needs role_arn".format(label))
    if "profile" in given:
        connection = dict(profile=entry["profile"], access_key="", secret_key="", session_token="")
    elif "access_key" in given:
        connection = dict(access_key=entry["access_key"], secret_key=entry["secret_key"] or "",
                          session_token=entry["session_token"] or "", profile="")
    else:
        connection = {}
    return Credential(label=name, connection=connection, role_arn=entry["role_arn"] or None,
                      external_id=entry["external_id"] or None, region=entry["region"] or None)


# --------------------------------------------------------------------------- the whole environment


def _module_wide_params(variables, documents, problems) -> Tuple[dict, Dict[str, str]]:
    """Every module-wide option that is set: (params, option -> where it was set).

    environment_secrets_<option> wins over the document key; tags merge over every source.
    """
    params, sources = {}, {}
    for variable, (option, spec) in option_variables().items():
        key = DOCUMENT_KEYS.get(option, option)
        candidates = []  # (label, value), weakest first
        for document, (label, values) in documents.items():
            if values and values.get(key) is not None and (document == document_of(option) or option in MERGED_OPTIONS):
                candidates.append(("{0}.{1}".format(label, key), values[key]))
        if variables.get(variable) is not None:
            value = _validate_variable(variable, spec, variables[variable], problems)
            if value is not None:
                candidates.append((variable, value))
        if not candidates:
            continue
        if option in MERGED_OPTIONS:
            merged = {}
            for _label, value in candidates:
                merged.update(value)
            params[option] = merged
            sources[option] = " + ".join(label for label, _value in candidates)
        else:
            sources[option], params[option] = candidates[-1]
    return params, sources


def _secrets(variables, problems) -> Tuple[list, List[int]]:
    """environment_secrets_secrets, each item checked with the module's item spec: (valid items, their indexes)."""
    label = "environment_secrets_secrets"
    declared = variables.get(label)
    if declared is None:
        return [], []
    if not isinstance(declared, list):
        problems.append("{0} must be a list of secrets, not {1}".format(label, type(declared).__name__))
        return [], []
    item_spec = set_module_argument_spec()["secrets"]["options"]
    valid, indexes = [], []
    for index, item in enumerate(declared):
        where = _describe(label, index, item)
        if not isinstance(item, dict):
            problems.append("{0} must be a dict, not {1}".format(where, type(item).__name__))
            continue
        checked = validate(item_spec, item, where, problems)
        if checked is not None and not (checked.get("name") or "").strip():
            problems.append("{0}: name must be a non-empty string".format(where))
        elif checked is not None:
            valid.append({key: value for key, value in item.items() if key in item_spec})
            indexes.append(index)
    return valid, indexes


def _role_settings(variables: Mapping, problems: List[str]) -> dict:
    """The role's own plain variables (mode, fail_on_drift, session name...), checked, defaults filled in."""
    read_elsewhere = ("environment_secrets_environment_info", "environment_secrets_stack_job_settings",
                      "environment_secrets_names", "environment_secrets_secrets", "environment_secrets_aws_credentials")
    settings = {}
    for name, spec in ROLE_VARIABLES.items():
        if name not in read_elsewhere:
            value = variables.get(name)
            settings[name] = spec.get("default") if value is None else _validate_variable(name, spec, value, problems)
    return settings


def _documents(variables: Mapping, environ: Mapping, problems: List[str]) -> Dict[str, Tuple[str, Optional[dict]]]:
    """ENVIRONMENT_INFO and STACK_JOB_SETTINGS, each (label, validated keys or None), with their own checks."""
    info_label, info = read_document(variables, environ, "environment_secrets_environment_info", "ENVIRONMENT_INFO",
                                     problems)
    job_label, job = read_document(variables, environ, "environment_secrets_stack_job_settings",
                                   "STACK_JOB_SETTINGS", problems)
    if info is None and not any(problem.startswith(info_label) for problem in problems):
        problems.append("the environment is not set: set environment_secrets_environment_info or ENVIRONMENT_INFO "
                        '(a JSON object with at least "name")')
    info_spec, job_spec = document_spec("ENVIRONMENT_INFO"), document_spec("STACK_JOB_SETTINGS")
    if info is not None:
        info = validate(info_spec, info, info_label, problems, elsewhere=dict.fromkeys(job_spec, "STACK_JOB_SETTINGS"))
        if info is not None and not (info.get("name") or "").strip():
            problems.append("{0}.name is required and must be a non-empty string".format(info_label))
        if info is not None and info.get("account_id") is not None and not ACCOUNT_ID_PATTERN.fullmatch(info["account_id"]):
            problems.append("{0}.account_id must be 12 digits, as a string".format(info_label))
    if job is not None:
        job = validate(job_spec, job, job_label, problems, elsewhere=dict.fromkeys(info_spec, "ENVIRONMENT_INFO"))
    return {"ENVIRONMENT_INFO": (info_label, info), "STACK_JOB_SETTINGS": (job_label, job or {})}


def resolve(variables: Mapping, environ: Mapping, check_mode: bool = False, diff_mode: bool = False) -> Environment:
    """Every input of the role, checked: the Environment, or InputError naming every problem."""
    problems: List[str] = []
    settings = _role_settings(variables, problems)
    documents = _documents(variables, environ, problems)
    info_label, info = documents["ENVIRONMENT_INFO"]
    info, job = info or {}, documents["STACK_JOB_SETTINGS"][1]
    name = (info.get("name") or "").strip() or None

    params, sources = _module_wide_params(variables, documents, problems)
    if params.get("prefix") is None:
        params["prefix"] = "{0}/".format(name) if name else ""
    names_label, names = read_names(variables, environ, problems)
    names_index = [index for index, entry in enumerate(names) if entry is not None]
    params["names"] = [entry for entry in names if entry is not None]
    params["secrets"], secrets_index = _secrets(variables, problems)
    mode = settings["environment_secrets_mode"] or "apply"
    if mode == "drift" and not params["prefix"]:
        problems.append("drift mode needs a secret_prefix (it lists the secrets under it)")
    checked = ArgumentSpecValidator(set_module_argument_spec()).validate(params)
    messages = [error.msg for error in checked.errors]
    if messages:
        problems += ["the module's arguments: {0}".format(message) for message in messages]
    else:
        # Without a name there is no prefix: the options are still checked, the items are not.
        problems += rule_problems(checked.validated_parameters, sources, names_label, names_index, secrets_index,
                                  with_items=bool(name))

    _credential_label, credential_id = read_text(variables, environ, "environment_secrets_aws_credential_id",
                                                 "AWS_CREDENTIAL_ID")
    credential = resolve_credential(credential_id, variables.get("environment_secrets_aws_credentials"), environ,
                                    problems)
    region = info.get("region") or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or credential.region
    if name and not region and not credential.connection.get("profile"):
        problems.append("No AWS region for environment {0}: set region in {1}, AWS_REGION or AWS_DEFAULT_REGION."
                        .format(name, info_label))
    _endpoint_label, endpoint_url = read_text(variables, environ, "environment_secrets_endpoint_url", "AWS_URL")
    if problems:
        raise InputError(_one_line(problems), environment=name)

    session_name = settings["environment_secrets_role_session_name"] or "envops-{0}".format(name)
    dry_run = bool(job.get("dry_run"))
    return Environment(
        name=name, prefix=params["prefix"], region=region or None, account_id=info.get("account_id"),
        endpoint_url=endpoint_url or None, mode=mode, dry_run=dry_run,
        check_mode=bool(dry_run or check_mode or mode == "drift"),
        diff=bool(job["diff"]) if job.get("diff") is not None else bool(diff_mode),
        fail_on_drift=bool(settings["environment_secrets_fail_on_drift"]),
        role_session_name=SESSION_NAME_CHARACTERS.sub("-", session_name)[:64],
        credential=credential, module_params=params, sources=sources,
    )


# --------------------------------------------------------------------------- what the role shows


def connection_arguments(environment: Environment, credential_connection: Optional[dict] = None) -> dict:
    """amazon.aws's connection options for every module call: credentials, region, endpoint."""
    connection = dict(environment.credential.connection if credential_connection is None else credential_connection)
    if environment.region:
        connection["region"] = environment.region
    if environment.endpoint_url:
        connection["endpoint_url"] = environment.endpoint_url
    return connection


def account_problem(environment: Environment, caller: dict) -> Optional[str]:
    """The message when the credentials are not in the environment's account_id, else None."""
    account = str(caller.get("account") or "")
    if not environment.account_id or account == environment.account_id:
        return None
    return ("Environment {0} is in AWS account {1}, but {2} resolves to account {3} ({4}). Nothing was written."
            .format(environment.name, environment.account_id, environment.credential.label, account or "unknown",
                    caller.get("arn") or "unknown ARN"))


def module_result(result: dict) -> dict:
    """The module's result as the role keeps it: without the invocation (the arguments it was called with)."""
    return {key: value for key, value in result.items() if key != "invocation" and not key.startswith("_ansible")}


def drift_of(environment: Environment, result: dict, error: Optional[str]) -> dict:
    """Declared names the check-mode run would create (missing) and secrets it would prune (extra)."""
    entries = result.get("secrets") or []
    return dict(
        environment=environment.name, prefix=environment.prefix, region=environment.region,
        missing=[entry["name"] for entry in entries if entry.get("action") in ("created", "restored")],
        # Undeclared secrets under the prefix: owned ones prune would delete, unowned ones it leaves alone.
        extra=[entry["name"] for entry in entries
               if entry.get("action") in ("deleted", "skipped") and entry.get("ownership") != "service"],
        not_owned=[entry["name"] for entry in entries
                   if entry.get("action") == "skipped" and entry.get("ownership") == "unowned"],
        # Secrets an AWS service owns (OwningService) are never changed or pruned: listed apart.
        service_owned=[entry["name"] for entry in entries if entry.get("ownership") == "service"],
        error=error,
    )


def _headline(environment: Environment) -> str:
    return "Environment {0}: region {1}, prefix {2}, {3}".format(
        environment.name, environment.region or "(from the profile)", environment.prefix or "(none)",
        environment.credential.label)


def summary_lines(environment: Environment, result: dict, error: Optional[str]) -> List[str]:
    """The one-screen summary of an apply run."""
    summary = result.get("summary") or {}
    entries = result.get("secrets") or []
    changed = [entry["name"] for entry in entries if entry.get("changed")]
    failed = [entry["name"] for entry in entries if entry.get("action") == "failed"]
    counts = ", ".join("{0}: {1}".format(action, summary.get(action, 0)) for action in
                       ("created", "updated", "unchanged", "deleted", "restored", "absent", "skipped", "failed"))
    lines = [
        _headline(environment) + (", account {0}".format(environment.account_id) if environment.account_id else ""),
        "Mode: {0}{1}".format(environment.mode, " (dry run: check mode, nothing written)"
                              if environment.check_mode else ""),
        "Secrets: {0} total; {1}".format(summary.get("total", 0), counts),
        "Changed: {0}{1}".format(", ".join(changed[:10]) if changed else "none",
                                 " and {0} more".format(len(changed) - 10) if len(changed) > 10 else ""),
        "Failed: {0}".format(", ".join(failed) if failed else "none"),
    ]
    if error:
        lines.append("Error: {0}".format(error))
    return lines


def drift_lines(environment: Environment, drift: dict) -> List[str]:
    """The drift report of one environment."""
    lines = [
        _headline(environment),
        "Missing (declared, not in AWS): {0}".format(", ".join(drift["missing"]) or "none"),
        "Extra (in AWS under the prefix, not declared): {0}".format(", ".join(drift["extra"]) or "none"),
        "Extra without the ownership tag (prune leaves them): {0}".format(", ".join(drift["not_owned"]) or "none"),
        "Owned by an AWS service (never changed): {0}".format(", ".join(drift["service_owned"]) or "none"),
    ]
    return lines


def drift_failure(environment: Environment, drift: dict, deferred: bool) -> Optional[str]:
    """The message when the environment has drifted and environment_secrets_fail_on_drift asks to fail."""
    if not environment.fail_on_drift or deferred or drift.get("error") or not (drift["missing"] or drift["extra"]):
        return None
    return "Environment {0} has drifted: {1} missing, {2} extra.".format(
        environment.name, len(drift["missing"]), len(drift["extra"]))


# --------------------------------------------------------------------------- the role's argument spec

MODULE_REF = "envops.aws_secrets.aws_secrets_manager_set#module"
ROLE_VARIABLE_DESCRIPTIONS = dict(
    environment_secrets_environment_info=[
        "The environment. Unset (or empty) means the JSON object in E(ENVIRONMENT_INFO). A JSON string is accepted too.",
        "Keys: {keys}.",
        "C(name) is required; C(secret_prefix) is the module's O({ref}:prefix), default C(<name>/); C(region) unset "
        "means E(AWS_REGION), then E(AWS_DEFAULT_REGION), then the credential's C(region); with C(account_id) (12 "
        "digits) the caller identity of the credentials must be in that account, checked before any write.",
        "The other keys are the module's options of the same name, for every secret of the environment.",
    ],
    environment_secrets_stack_job_settings=[
        "Settings of this job. Unset (or empty) means the JSON object in E(STACK_JOB_SETTINGS), else V({{}}). "
        "A JSON string is accepted too.",
        "Keys: {keys}.",
        "C(dry_run) runs the module in check mode; C(diff) shows its diff (unset: the play's C(--diff)). The other "
        "keys are the module's options of the same name. C(tags) merge over the environment's.",
    ],
    environment_secrets_aws_credential_id=[
        "Which credentials to use. Unset means E(AWS_CREDENTIAL_ID).",
        "A key of O(environment_secrets_aws_credentials) selects that entry. Any other value is an AWS profile name.",
        "Unset and no E(AWS_CREDENTIAL_ID) means the default credential chain, including the E(AWS_ACCESS_KEY_ID), "
        "E(AWS_SECRET_ACCESS_KEY) and E(AWS_SECURITY_TOKEN) or E(AWS_SESSION_TOKEN) that AWX's AWS credential injects.",
    ],
    environment_secrets_aws_credentials=[
        "Credential id to credentials. Keep it in a vault. A JSON string is accepted too.",
        "An entry holds C(access_key) and C(secret_key) (plus C(session_token)), or C(profile), or neither (default "
        "chain); C(role_arn) (with C(external_id)) is assumed with those first; C(region) is the last region fallback.",
    ],
    environment_secrets_endpoint_url=["AWS API endpoint. Unset means E(AWS_URL), else the public endpoint."],
    environment_secrets_names=[
        "Names of secrets that must exist, without the prefix.",
        "Unset means E(SECRET_NAMES), a JSON list or names separated by commas, else V([]).",
    ],
    environment_secrets_secrets=[
        "Secrets declared one by one, each item in the form of the module's O({ref}:secrets) (every item option).",
    ],
    environment_secrets_mode=[
        "V(apply) brings the secrets to the declared state.",
        "V(drift) reports which declared names are missing and which secrets under the prefix are extra. It reads no "
        "value and writes nothing (the module runs in check mode with C(prune=true), C(overwrite=false)).",
    ],
    environment_secrets_fail_on_drift=[
        "In drift mode, fail when the environment has drifted. The playbook C(envops.aws_secrets.report_drift) "
        "reads the same variable and fails after its report across environments.",
    ],
    environment_secrets_role_session_name=[
        "Session name when assuming a credential's C(role_arn). Unset means C(envops-<environment name>).",
    ],
)


def _option_description(option: str) -> List[str]:
    key = DOCUMENT_KEYS.get(option, option)
    if option in MERGED_OPTIONS:
        where = ("Merged over C(ENVIRONMENT_INFO.{0}) and C(STACK_JOB_SETTINGS.{0}), this variable's keys "
                 "winning.".format(key))
    else:
        where = "Unset means C({0}.{1}), else the module's default.".format(document_of(option), key)
    return ["The module's O({0}:{1}) for every secret of the environment.".format(MODULE_REF, option), where]


def _documented(spec: dict, description: List[str]) -> dict:
    entry = dict(description=description, type=spec.get("type", "str"))
    for key in ("elements", "choices", "default", "no_log"):
        if key in spec:
            entry[key] = spec[key]
    return entry


def role_argument_specs() -> dict:
    """The content of roles/environment_secrets/meta/argument_specs.yml, derived from the module's spec.

    Types only at the top: what is inside the dictionaries and lists is checked by the role's action plugin, which
    names the item's index and name (ansible-core's role validation would stop at the first variable).
    """
    keys = {document: ", ".join("C({0})".format(key) for key in document_spec(document))
            for document in ("ENVIRONMENT_INFO", "STACK_JOB_SETTINGS")}
    options = {}
    for name, spec in ROLE_VARIABLES.items():
        document = "ENVIRONMENT_INFO" if name.endswith("environment_info") else "STACK_JOB_SETTINGS"
        description = [line.format(keys=keys[document], ref=MODULE_REF) for line in ROLE_VARIABLE_DESCRIPTIONS[name]]
        options[name] = _documented(spec, description)
    for name, (option, spec) in option_variables().items():
        options[name] = _documented(spec, _option_description(option))
    return {"argument_specs": {"main": {
        "short_description": "Bring one environment's AWS Secrets Manager secrets to the declared state, or report "
                             "drift",
        "description": [
            "Runs P({0}) once for the environment of the current host, with the credentials, region, prefix and "
            "options taken from variables or from the environment variables that an AWX custom credential injects "
            "(E(ENVIRONMENT_INFO), E(STACK_JOB_SETTINGS), E(AWS_CREDENTIAL_ID), E(SECRET_NAMES)).".format(MODULE_REF),
            "A variable left unset (V(null)) falls back to its environment variable, then to its default.",
            "Every module-wide option of the module can be set as C(environment_secrets_<option>), as a key of "
            "C(ENVIRONMENT_INFO) (what the environment is) or as a key of C(STACK_JOB_SETTINGS) (how this job runs).",
            "Bad input fails the play before any AWS call, with one message naming every problem by variable or "
            "environment variable, item index and name.",
            "No secret value and no credential is ever printed.",
            "Sets the fact C(environment_secrets_result) (the module's result) and, in drift mode, "
            "C(environment_secrets_drift).",
            "This file is generated from the module's argument spec: scripts/role_argument_specs.py.",
        ],
        "author": ["envops platform engineering"],
        "options": options,
    }}}

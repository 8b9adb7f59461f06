"""The envops.aws_secrets.secrets lookup through ansible-playbook, the installed tarball, the counting proxy and moto.

Every playbook writes what the lookup returned to a file (no_log), so values are checked there while the
whole output, at -vvvv, is searched for them.
"""

import json

import pytest
import yaml

from tests.support.aws_proxy import access_denied_for

LOOKUP = "envops.aws_secrets.secrets"
READ_TASK = "Read the secrets"
NAMES_TASK = "Show the names read"


def lookup_expression(*terms, **options):
    arguments = ", ".join([repr(term) for term in terms] + ["{0}={1!r}".format(k, v) for k, v in options.items()])
    return "lookup({0!r}{1})".format(LOOKUP, ", " + arguments if arguments else "")


def failing_lookup_play(*terms, **options):
    """A play for a lookup expected to fail: it prints only the names read, and no no_log hides the error."""
    task = {"name": READ_TASK, "ansible.builtin.debug": {
        "msg": "{{ " + lookup_expression(*terms, **options) + " | list }}"}}
    return yaml.safe_dump([{"name": "Lookup", "hosts": "localhost", "gather_facts": False, "tasks": [task]}],
                          sort_keys=False)


def lookup_play(out_path, *terms, **options):
    """A play that writes lookup(LOOKUP, *terms, **options) as JSON to out_path and prints only its keys."""
    expression = "{{ " + lookup_expression(*terms, **options) + " }}"
    tasks = [
        {"name": READ_TASK, "ansible.builtin.set_fact": {"read_secrets": expression}, "no_log": True},
        {"name": "Write them out", "ansible.builtin.copy": {"content": "{{ read_secrets | to_json }}",
                                                            "dest": str(out_path), "mode": "0600"},
         "no_log": True},
        {"name": NAMES_TASK, "ansible.builtin.debug": {"msg": "{{ read_secrets.keys() | list | sort }}"}},
    ]
    return yaml.safe_dump([{"name": "Lookup", "hosts": "localhost", "gather_facts": False, "tasks": tasks}],
                          sort_keys=False)


def record_bodies(aws_proxy, op):
    """The parsed request bodies of every ``op`` call, in order (a proxy rule that forwards everything)."""
    bodies = []

    def rule(service, operation, body, call_index):
        if operation == op:
            bodies.append(body)
        return None

    aws_proxy.add_rule(rule)
    return bodies


def create_many(sm, prefix, count):
    values = {}
    for index in range(count):
        name = "{0}s{1:02d}".format(prefix, index)
        values[name] = "CANARY-lookup-{0:02d}-value".format(index)
        sm.create_secret(Name=name, SecretString=values[name])
    return values


def read_back(path):
    return json.loads(path.read_text())


def test_45_secrets_by_name_take_3_batch_calls_and_no_get_secret_value(playbook, aws_proxy, sm, tmp_path):
    values = create_many(sm, "prod/orders/", 45)
    sm.create_secret(Name="prod/other/x", SecretString="CANARY-not-asked-for")
    out = tmp_path / "read.json"
    terms = [name[len("prod/orders/"):] for name in values]
    batch_bodies = record_bodies(aws_proxy, "BatchGetSecretValue")
    # AWS_URL alone must reach the endpoint (amazon.aws's endpoint_url fallback).
    run = playbook(lookup_play(out, *terms, prefix="prod/orders/"), verbosity=4,
                   env={"AWS_ENDPOINT_URL": None}).assert_ok()
    assert read_back(out) == values
    assert list(read_back(out)) == list(values)  # the order asked for
    assert aws_proxy.counts()["BatchGetSecretValue"] == 3
    assert "GetSecretValue" not in aws_proxy.counts() and "ListSecrets" not in aws_proxy.counts()
    assert sorted(len(body["SecretIdList"]) for body in batch_bodies) == [5, 20, 20]
    assert run.result(NAMES_TASK)["msg"] == sorted(values)
    run.assert_no_leak(*values.values(), "CANARY-not-asked-for")


def test_45_secrets_by_prefix_take_3_batch_calls_and_nothing_outside_the_prefix(playbook, aws_proxy, sm, tmp_path):
    values = create_many(sm, "prod/orders/", 45)
    sm.create_secret(Name="prod/orders-old/x", SecretString="CANARY-outside-prefix")
    sm.create_secret(Name="prod/ordersx", SecretString="CANARY-outside-prefix-2")
    out = tmp_path / "read.json"
    batch_bodies = record_bodies(aws_proxy, "BatchGetSecretValue")
    run = playbook(lookup_play(out, prefix="prod/orders/"), verbosity=4).assert_ok()
    assert read_back(out) == values
    assert aws_proxy.counts()["BatchGetSecretValue"] == 3
    assert "GetSecretValue" not in aws_proxy.counts()
    assert len(batch_bodies) == 3
    for body in batch_bodies:
        assert body["Filters"] == [{"Key": "name", "Values": ["prod/orders/"]}] and "SecretIdList" not in body
    run.assert_no_leak(*values.values(), "CANARY-outside-prefix", "CANARY-outside-prefix-2")


def test_prefix_with_a_deleted_and_an_empty_secret_reads_the_rest_by_name(playbook, aws_proxy, sm, tmp_path):
    sm.create_secret(Name="pre/ok", SecretString="CANARY-pre-ok")
    sm.create_secret(Name="pre/doomed", SecretString="CANARY-pre-doomed")
    sm.delete_secret(SecretId="pre/doomed", RecoveryWindowInDays=7)
    sm.create_secret(Name="pre/empty")
    out = tmp_path / "read.json"
    run = playbook(lookup_play(out, prefix="pre/", on_missing="warn"), verbosity=4).assert_ok()
    assert read_back(out) == {"pre/ok": "CANARY-pre-ok"}
    assert "Skipping secret 'pre/empty' (missing, on_missing=warn)" in run.output
    # moto refuses the filtered read as a whole (for pre/doomed); the names come from ListSecrets and are read by
    # name, where moto refuses [ok, empty] as a whole (for pre/empty), so that call is split: 1 + 1 + 2 calls.
    assert aws_proxy.counts()["BatchGetSecretValue"] == 4 and aws_proxy.counts()["ListSecrets"] == 1
    assert "GetSecretValue" not in aws_proxy.counts()
    run.assert_no_leak("CANARY-pre-ok", "CANARY-pre-doomed")


def arrange_problems(sm, aws_proxy):
    sm.create_secret(Name="mix/ok", SecretString="CANARY-mix-ok")
    sm.create_secret(Name="mix/locked", SecretString="CANARY-mix-locked")
    sm.create_secret(Name="mix/doomed", SecretString="CANARY-mix-doomed")
    sm.delete_secret(SecretId="mix/doomed", RecoveryWindowInDays=7)
    aws_proxy.add_rule(access_denied_for("mix/locked"))
    return ("CANARY-mix-ok", "CANARY-mix-locked", "CANARY-mix-doomed")


MIX_TERMS = ("ok", "absent", "locked", "doomed")


@pytest.mark.parametrize("mode", ["skip", "warn"])
def test_on_missing_denied_deleted_skip_and_warn(playbook, aws_proxy, sm, tmp_path, mode):
    canaries = arrange_problems(sm, aws_proxy)
    out = tmp_path / "read.json"
    run = playbook(lookup_play(out, *MIX_TERMS, prefix="mix/", on_missing=mode, on_denied=mode, on_deleted=mode),
                   verbosity=4).assert_ok()
    assert read_back(out) == {"mix/ok": "CANARY-mix-ok"}
    assert aws_proxy.counts()["BatchGetSecretValue"] == 1 and "GetSecretValue" not in aws_proxy.counts()
    warned = {name: "Skipping secret '{0}'".format(name) in run.output
              for name in ("mix/absent", "mix/locked", "mix/doomed")}
    assert warned == dict.fromkeys(warned, mode == "warn")
    if mode == "warn":
        for fragment in ("missing, on_missing=warn", "denied, on_denied=warn", "deleted, on_deleted=warn"):
            assert fragment in run.output
    run.assert_no_leak(*canaries)


@pytest.mark.parametrize("failing, option, kind", [
    ("absent", "on_missing", "missing"),
    ("locked", "on_denied", "denied"),
    ("doomed", "on_deleted", "deleted"),
])
def test_on_error_fails_and_names_the_full_secret_name(playbook, aws_proxy, sm, failing, option, kind):
    canaries = arrange_problems(sm, aws_proxy)
    others = {"on_missing": "skip", "on_denied": "skip", "on_deleted": "skip"}
    others[option] = "error"
    run = playbook(failing_lookup_play(*MIX_TERMS, prefix="mix/", **others), verbosity=4)
    assert run.rc != 0
    assert "secret 'mix/{0}' is {1}".format(failing, kind) in run.output
    assert "GetSecretValue" not in aws_proxy.counts()
    run.assert_no_leak(*canaries)


def test_json_and_another_version_stage(playbook, aws_proxy, sm, tmp_path):
    sm.create_secret(Name="app/db", SecretString=json.dumps({"user": "app", "password": "CANARY-db-old"}))
    sm.put_secret_value(SecretId="app/db", SecretString=json.dumps({"user": "app", "password": "CANARY-db-new"}))
    current, previous = tmp_path / "current.json", tmp_path / "previous.json"
    stage_reads = record_bodies(aws_proxy, "GetSecretValue")
    run_current = playbook(lookup_play(current, "app/db", json=True)).assert_ok()
    assert read_back(current) == {"app/db": {"user": "app", "password": "CANARY-db-new"}}
    run_previous = playbook(lookup_play(previous, "db", prefix="app/", json=True, version_stage="AWSPREVIOUS"),
                            verbosity=4).assert_ok()
    assert read_back(previous) == {"app/db": {"user": "app", "password": "CANARY-db-old"}}
    # BatchGetSecretValue returns AWSCURRENT only: another stage is the one case that reads one secret at a time.
    assert stage_reads == [{"SecretId": "app/db", "VersionStage": "AWSPREVIOUS"}]
    assert aws_proxy.counts()["BatchGetSecretValue"] == 1
    for run in (run_current, run_previous):
        run.assert_no_leak("CANARY-db-old", "CANARY-db-new")


def test_connection_options_are_amazon_aws_ones(playbook, aws_proxy, sm, tmp_path):
    sm.create_secret(Name="conn/a", SecretString="CANARY-conn-a")
    out = tmp_path / "read.json"
    run = playbook(lookup_play(out, "conn/a", endpoint_url=aws_proxy.url, region="us-east-1",
                               access_key="testing", secret_key="testing"),
                   env={"AWS_URL": None, "AWS_ENDPOINT_URL": None, "AWS_ACCESS_KEY_ID": None,
                        "AWS_SECRET_ACCESS_KEY": None}).assert_ok()
    assert read_back(out) == {"conn/a": "CANARY-conn-a"}
    run.assert_no_leak("CANARY-conn-a")


@pytest.mark.parametrize("terms, options, fragment", [
    ((), {}, "give secret names as terms, a prefix, or both"),
    (("bad name",), {}, "term 0 ('bad name')"),
    (("a",), {"on_missing": "ignore"}, "on_missing"),
])
def test_bad_input_fails_before_any_call(playbook, aws_proxy, terms, options, fragment):
    run = playbook(failing_lookup_play(*terms, **options))
    assert run.rc != 0 and fragment in run.output
    assert aws_proxy.calls() == []

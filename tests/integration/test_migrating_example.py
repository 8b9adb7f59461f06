"""docs/migrating.md's worked example: the community.aws loop, then the same secrets taken over in one bulk task.

The playbooks are the files under examples/migrating/, and the guide must quote them verbatim.
"""

import json
import pathlib
import re

from tests.integration.test_set_module import play
from tests.support.aws_proxy import WRITE_OPERATIONS

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "migrating"
GUIDE = ROOT / "docs" / "migrating.md"
VALUES = {
    "vault_orders_db_password": "CANARY-migrate-db-4f1a",
    "vault_orders_api_token": "CANARY-migrate-api-7c2e",
    "vault_orders_smtp_password": "CANARY-migrate-smtp-9d0b",
}
NAMES = ["prod/orders/api-token", "prod/orders/db-password", "prod/orders/smtp-password"]
BULK_TASK = "Bring every orders secret to its declared state"


def test_guide_quotes_the_example_files_verbatim():
    guide = GUIDE.read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", guide, flags=re.DOTALL)
    for name in ("orders_secrets.yml", "before_loop.yml", "after_bulk.yml"):
        assert (EXAMPLES / name).read_text() in blocks, "docs/migrating.md must quote examples/migrating/" + name


def test_loop_then_bulk_takes_over_without_a_write_and_keeps_what_it_does_not_manage(playbook, aws_proxy, sm):
    before = playbook(str(EXAMPLES / "before_loop.yml"), extra_vars=VALUES).assert_ok()
    assert sorted(entry["Name"] for entry in sm.list_secrets()["SecretList"]) == NAMES
    loop_calls = sum(aws_proxy.counts().values())
    assert aws_proxy.counts()["CreateSecret"] == 3
    assert {name: sm.get_secret_value(SecretId=name)["SecretString"] for name in NAMES} == {
        "prod/orders/api-token": VALUES["vault_orders_api_token"],
        "prod/orders/db-password": VALUES["vault_orders_db_password"],
        "prod/orders/smtp-password": VALUES["vault_orders_smtp_password"],
    }

    # Set outside Ansible: community.aws would remove both on its next run, since the loop leaves them out.
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                                      "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}
    sm.put_resource_policy(SecretId="prod/orders/db-password", ResourcePolicy=json.dumps(policy))
    sm.replicate_secret_to_regions(SecretId="prod/orders/api-token", AddReplicaRegions=[{"Region": "eu-west-1"}])

    aws_proxy.reset()
    bulk = playbook(str(EXAMPLES / "after_bulk.yml"), extra_vars=VALUES, verbosity=2).assert_ok()
    result = bulk.result(BULK_TASK)
    assert result["changed"] is False and result["summary"]["total"] == 3
    assert not WRITE_OPERATIONS & set(aws_proxy.counts())
    assert aws_proxy.counts()["ListSecrets"] == 1
    assert not {"GetSecretValue", "BatchGetSecretValue"} & set(aws_proxy.counts())  # overwrite=false reads no value
    assert sum(aws_proxy.counts().values()) < loop_calls
    assert json.loads(sm.get_resource_policy(SecretId="prod/orders/db-password")["ResourcePolicy"]) == policy
    assert [r["Region"] for r in sm.describe_secret(SecretId="prod/orders/api-token")["ReplicationStatus"]] == [
        "eu-west-1"]

    # The old loop, run again, deletes the policy it does not mention (and keeps the replica).
    aws_proxy.reset()
    again = playbook(str(EXAMPLES / "before_loop.yml"), extra_vars=VALUES).assert_ok()
    assert aws_proxy.counts()["DeleteResourcePolicy"] == 1
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId="prod/orders/db-password")
    assert [r["Region"] for r in sm.describe_secret(SecretId="prod/orders/api-token")["ReplicationStatus"]] == [
        "eu-west-1"]

    # The guide's explicit forms remove them here.
    sm.put_resource_policy(SecretId="prod/orders/db-password", ResourcePolicy=json.dumps(policy))
    removal = {"prefix": "prod/orders/", "secrets": [{"name": "db-password", "resource_policy": {}},
                                                     {"name": "api-token", "replica_regions": []}]}
    removed = playbook(play(removal)).assert_ok()
    assert removed.result("Manage secrets")["changed"] is True
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId="prod/orders/db-password")
    assert not sm.describe_secret(SecretId="prod/orders/api-token").get("ReplicationStatus")
    for run in (before, bulk, again, removed):
        run.assert_no_leak(*VALUES.values())

"""examples/rds_credentials/payments_db.yml against moto: exact output, and json_merge keeps the rotated password."""

import json
import pathlib

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "rds_credentials" / "payments_db.yml"
ROTATED = "CANARY-rotated-password-4f1d9a"


def test_rds_credentials_example_keeps_the_rotated_password_and_exact_arns(playbook, aws_proxy, sm):
    first = playbook(str(EXAMPLE), diff=True, verbosity=4).assert_ok()
    stored = json.loads(sm.get_secret_value(SecretId="staging/payments/db")["SecretString"])
    assert stored == {"engine": "postgres", "host": "payments-db.cluster-abc.us-east-1.rds.amazonaws.com",
                      "port": 5432, "dbname": "payments", "username": "payments", "replicas": 1}
    arn = sm.describe_secret(SecretId="staging/payments/db")["ARN"]
    assert "ARN: {0}".format(arn) in first.stdout

    # The rotation writes the password out of band; the example's rerun keeps it and writes nothing.
    sm.put_secret_value(SecretId="staging/payments/db", SecretString=json.dumps(dict(stored, password=ROTATED)))
    aws_proxy.reset()
    again = playbook(str(EXAMPLE), diff=True, verbosity=4).assert_ok()
    assert aws_proxy.write_count() == 0
    assert "changed=0" in again.stdout
    assert json.loads(sm.get_secret_value(SecretId="staging/payments/db")["SecretString"])["password"] == ROTATED
    again.assert_no_leak(ROTATED)

"""examples/wiring/wire_services.yml against moto: ECS, Lambda and RDS get the secrets, never their values."""

import json
import pathlib

import boto3

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "wiring" / "wire_services.yml"


def test_wiring_example_runs_and_wires_arns_not_values(playbook, moto_server, sm):
    iam = boto3.client("iam", endpoint_url=moto_server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    assume = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
    trust = json.dumps({"Version": "2012-10-17", "Statement": [assume]})
    role_arn = iam.create_role(RoleName="orders", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    run = playbook(str(EXAMPLE), extra_vars={"wiring_execution_role_arn": role_arn,
                                             "wiring_lambda_role_arn": role_arn}, verbosity=2).assert_ok()

    arns = {name: sm.describe_secret(SecretId=name)["ARN"]
            for name in ("staging/orders/db-master-password", "staging/orders/payment-api-key")}
    ecs = boto3.client("ecs", endpoint_url=moto_server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    container = ecs.describe_task_definition(taskDefinition="orders-staging")["taskDefinition"][
        "containerDefinitions"][0]
    assert sorted(container["secrets"], key=lambda entry: entry["name"]) == [
        {"name": "DB_MASTER_PASSWORD", "valueFrom": arns["staging/orders/db-master-password"]},
        {"name": "PAYMENT_API_KEY", "valueFrom": arns["staging/orders/payment-api-key"]},
    ]
    function = boto3.client("lambda", endpoint_url=moto_server.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    variables = function.get_function_configuration(FunctionName="orders-worker-staging")["Environment"]["Variables"]
    assert variables == {"DB_MASTER_PASSWORD": arns["staging/orders/db-master-password"],
                         "PAYMENT_API_KEY": arns["staging/orders/payment-api-key"]}
    rds = boto3.client("rds", endpoint_url=moto_server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    assert rds.describe_db_instances(DBInstanceIdentifier="orders-staging")["DBInstances"][0][
        "MasterUsername"] == "orders_admin"

    password = sm.get_secret_value(SecretId="staging/orders/db-master-password")["SecretString"]
    api_key = sm.get_secret_value(SecretId="staging/orders/payment-api-key")["SecretString"]
    run.assert_no_leak(password, api_key)

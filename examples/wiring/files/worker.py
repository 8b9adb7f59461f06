"""The orders worker: its environment holds secret ARNs, never values; it reads a value when it needs it."""

import os

import boto3


def handler(event, context):
    client = boto3.client("secretsmanager")
    api_key = client.get_secret_value(SecretId=os.environ["PAYMENT_API_KEY"])["SecretString"]
    return {"configured": bool(api_key)}

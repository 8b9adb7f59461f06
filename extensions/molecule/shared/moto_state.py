# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Arranging and inspecting moto's state for the molecule scenarios. Loopback only; never prints a secret value.
moto itself (and the counting proxy) is started and stopped by tests/support/moto.py (shared/create.yml, destroy.yml).

    moto_state.py snapshot --endpoint URL [--prefix P] [--role-arn ARN]
                                                     metadata of the secrets as JSON (no values)
    moto_state.py seed --endpoint URL [--role-arn ARN] < JSON list of {name, value?, tags?, description?}
    moto_state.py force-delete --endpoint URL NAME...
    moto_state.py iam-user --endpoint URL --role-arn ARN --user NAME --profile P --credentials-file F --config-file C
                                                     IAM user + access key in the role's account, written as profile P
    moto_state.py check-value --endpoint URL NAME [--role-arn ARN] < expected value on stdin
                                                     prints {"name": ..., "matches": bool}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REGION = "us-east-1"


def _session(endpoint: str, role_arn: str | None):
    import boto3  # only the AWS subcommands need it

    kwargs = dict(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    if role_arn:
        sts = boto3.client("sts", endpoint_url=endpoint, **kwargs)
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="molecule-helper")["Credentials"]
        kwargs.update(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                      aws_session_token=creds["SessionToken"])
    return boto3.session.Session(**kwargs)


def snapshot(args) -> dict:
    client = _session(args.endpoint, args.role_arn).client("secretsmanager", endpoint_url=args.endpoint)
    params = {"IncludePlannedDeletion": True}
    if args.prefix:
        params["Filters"] = [{"Key": "name", "Values": [args.prefix]}]
    secrets = {}
    for page in client.get_paginator("list_secrets").paginate(**params):
        for item in page["SecretList"]:
            if args.prefix and not item["Name"].startswith(args.prefix):
                continue
            versions = item.get("SecretVersionsToStages") or {}
            secrets[item["Name"]] = {
                "arn": item["ARN"],
                "description": item.get("Description"),
                "tags": {tag["Key"]: tag["Value"] for tag in item.get("Tags") or []},
                "kms_key_id": item.get("KmsKeyId"),
                "deleted": "DeletedDate" in item,
                "has_value": any("AWSCURRENT" in stages for stages in versions.values()),
                "versions": sorted(versions),
                "last_changed": str(item.get("LastChangedDate")),
            }
    return {"secrets": secrets, "names": sorted(secrets)}


def seed(args) -> dict:
    client = _session(args.endpoint, args.role_arn).client("secretsmanager", endpoint_url=args.endpoint)
    created = []
    for item in json.load(sys.stdin):
        params = {"Name": item["name"]}
        if "value" in item:
            params["SecretString"] = item["value"]
        if item.get("description"):
            params["Description"] = item["description"]
        if item.get("tags"):
            params["Tags"] = [{"Key": k, "Value": v} for k, v in item["tags"].items()]
        client.create_secret(**params)
        created.append(item["name"])
    return {"created": created}


def force_delete(args) -> dict:
    client = _session(args.endpoint, args.role_arn).client("secretsmanager", endpoint_url=args.endpoint)
    for name in args.names:
        client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    return {"deleted": args.names}


def iam_user(args) -> dict:
    iam = _session(args.endpoint, args.role_arn).client("iam", endpoint_url=args.endpoint)
    iam.create_user(UserName=args.user)
    key = iam.create_access_key(UserName=args.user)["AccessKey"]
    Path(args.credentials_file).write_text(
        f"[{args.profile}]\naws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n")
    Path(args.config_file).write_text(f"[profile {args.profile}]\nregion = {REGION}\n")
    os.chmod(args.credentials_file, 0o600)
    return {"user": args.user, "profile": args.profile}


def check_value(args) -> dict:
    client = _session(args.endpoint, args.role_arn).client("secretsmanager", endpoint_url=args.endpoint)
    expected = sys.stdin.read()
    stored = client.get_secret_value(SecretId=args.name).get("SecretString")
    try:  # JSON values are compared as parsed JSON
        matches = json.loads(stored) == json.loads(expected)
    except (TypeError, ValueError):
        matches = stored == expected
    return {"name": args.name, "matches": matches}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("snapshot", "seed", "force-delete", "iam-user", "check-value"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--endpoint", required=True)
        cmd.add_argument("--role-arn")
        if name == "snapshot":
            cmd.add_argument("--prefix", default="")
        if name == "force-delete":
            cmd.add_argument("names", nargs="+")
        if name == "check-value":
            cmd.add_argument("name")
        if name == "iam-user":
            for option in ("--user", "--profile", "--credentials-file", "--config-file"):
                cmd.add_argument(option, required=True)
    args = parser.parse_args(argv)
    if not args.endpoint.startswith("http://127.0.0.1:"):
        parser.error("only a loopback endpoint is allowed")
    handler = {"snapshot": snapshot, "seed": seed, "force-delete": force_delete,
               "iam-user": iam_user, "check-value": check_value}[args.command]
    print(json.dumps(handler(args), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

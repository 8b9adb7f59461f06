"""The floor of the benchmark: a minimal raw boto3 script making the module's API calls, serially.

It reads the declared secrets from a JSON file (``[{"name": ..., "value": ...}]``, names without
the prefix) and makes the calls ``aws_secrets_manager_set`` makes for the same declaration, one
after the other, with nothing else around them (no planning, no report, no retry wrapper):

* ``create`` / ``rerun`` / ``check``: ``ListSecrets`` (prefix filter, 100 a page), then one
  ``CreateSecret`` for each missing secret (none in check mode);
* ``rerun_overwrite`` / ``update``: the same listing, then ``BatchGetSecretValue`` 20 ARNs a call,
  then one ``PutSecretValue`` for each value that differs.

Prints one JSON line: ``{"calls_s": <seconds spent in the calls>, "calls": {op: n}, "writes": n}``.
Credentials and the endpoint come from the command line; the endpoint must be on loopback.

    python tests/benchmarks/floor.py --endpoint http://127.0.0.1:PORT --scenario create \\
        --prefix bench/ --secrets secrets.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

import boto3
from botocore.config import Config

SCENARIOS = ("create", "rerun", "rerun_overwrite", "update", "check")
OVERWRITE = {"create": False, "rerun": False, "rerun_overwrite": True, "update": True, "check": False}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--scenario", required=True, choices=SCENARIOS)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--secrets", required=True, help="JSON file: [{name, value}, ...]")
    args = parser.parse_args(argv)
    if not args.endpoint.startswith(("http://127.0.0.1", "http://localhost")):
        parser.error("the endpoint must be on loopback")
    with open(args.secrets, encoding="utf-8") as handle:
        declared = {args.prefix + item["name"]: item["value"] for item in json.load(handle)}

    client = boto3.client(
        "secretsmanager", endpoint_url=args.endpoint, region_name=args.region,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(proxies={}, retries={"mode": "standard", "total_max_attempts": 3}),
    )
    calls = Counter()
    started = time.monotonic()

    # Metadata: one name-prefix listing, 100 secrets a page.
    arns = {}
    params = {"Filters": [{"Key": "name", "Values": [args.prefix]}], "IncludePlannedDeletion": True,
              "MaxResults": 100}
    while True:
        page = client.list_secrets(**params)
        calls["ListSecrets"] += 1
        for entry in page.get("SecretList", []):
            if entry["Name"] in declared:
                arns[entry["Name"]] = entry["ARN"]
        if not page.get("NextToken"):
            break
        params["NextToken"] = page["NextToken"]

    writes = 0
    if args.scenario != "check":
        for name, value in declared.items():
            if name not in arns:
                client.create_secret(Name=name, SecretString=value)
                calls["CreateSecret"] += 1
                writes += 1

    if OVERWRITE[args.scenario]:
        existing = list(arns.values())
        current = {}
        for start in range(0, len(existing), 20):
            answer = client.batch_get_secret_value(SecretIdList=existing[start:start + 20])
            calls["BatchGetSecretValue"] += 1
            for entry in answer.get("SecretValues", []):
                current[entry["Name"]] = entry.get("SecretString")
        for name in arns:
            if current.get(name) != declared[name]:
                client.put_secret_value(SecretId=arns[name], SecretString=declared[name])
                calls["PutSecretValue"] += 1
                writes += 1

    print(json.dumps({"calls_s": time.monotonic() - started, "calls": dict(calls), "writes": writes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

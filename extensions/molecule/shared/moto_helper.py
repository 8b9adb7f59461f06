# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper of the molecule scenarios: a moto_server (and optionally the counting proxy) per scenario,
plus arranging and inspecting moto's state. Loopback only; never prints a secret value.

    moto_helper.py start --state-dir DIR [--proxy]   start moto (and the proxy), write DIR/moto.json
    moto_helper.py stop --state-dir DIR              stop what `start` started (by the PIDs it recorded)
    moto_helper.py snapshot --endpoint URL [--prefix P] [--role-arn ARN]
                                                     metadata of the secrets as JSON (no values)
    moto_helper.py seed --endpoint URL [--role-arn ARN] < JSON list of {name, value?, tags?, description?}
    moto_helper.py force-delete --endpoint URL NAME...
    moto_helper.py iam-user --endpoint URL --role-arn ARN --user NAME --profile P --credentials-file F --config-file C
                                                     IAM user + access key in the role's account, written as profile P
    moto_helper.py check-value --endpoint URL NAME [--role-arn ARN] < expected value on stdin
                                                     prints {"name": ..., "matches": bool}
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args[0]} exited early with rc={proc.returncode}")
        try:
            with _OPENER.open(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout:.0f}s")


def _spawn(cmd: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    with open(log, "ab") as handle:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env, cwd=str(log.parent))


def start(args) -> dict:
    state_dir = Path(args.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file = state_dir / "moto.json"
    if state_file.exists():
        stop(args)
    moto_server = Path(sys.executable).parent / "moto_server"
    state = {"pids": []}
    for attempt in range(3):
        port = _free_port()
        proc = _spawn([str(moto_server), "-H", "127.0.0.1", "-p", str(port)], state_dir / "moto.log")
        try:
            _wait(f"http://127.0.0.1:{port}/moto-api/", proc)
        except SystemExit:
            proc.terminate()
            proc.wait(10)
            if attempt == 2:
                raise
            continue
        state.update(moto_url=f"http://127.0.0.1:{port}", moto_pid=proc.pid, endpoint=f"http://127.0.0.1:{port}")
        state["pids"].append(proc.pid)
        break
    if args.proxy:
        port_file = state_dir / "proxy.url"
        port_file.unlink(missing_ok=True)
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        proc = _spawn([sys.executable, "-m", "tests.support.aws_proxy", "--upstream", state["moto_url"],
                       "--port", "0", "--port-file", str(port_file)], state_dir / "proxy.log", env)
        state["pids"].append(proc.pid)
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                state_file.write_text(json.dumps(state))
                stop(args)
                raise SystemExit("the counting proxy did not start; see proxy.log")
            time.sleep(0.1)
        state["proxy_url"] = port_file.read_text().strip()
        state["endpoint"] = state["proxy_url"]
        _wait(state["proxy_url"] + "/__proxy__/health", proc)
    state_file.write_text(json.dumps(state))
    return state


def stop(args) -> dict:
    state_file = Path(args.state_dir) / "moto.json"
    if not state_file.exists():
        return {"stopped": []}
    state = json.loads(state_file.read_text())
    stopped = []
    for pid in reversed(state.get("pids", [])):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _attempt in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            try:  # reap it if it is our child (it is not, after `start` exited; harmless)
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        stopped.append(pid)
    state_file.unlink()
    return {"stopped": stopped}


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
    for name in ("start", "stop"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--state-dir", required=True)
        cmd.add_argument("--proxy", action="store_true")
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
    if not args.command.startswith("st") and not args.endpoint.startswith("http://127.0.0.1:"):
        parser.error("only a loopback endpoint is allowed")
    handler = {"start": start, "stop": stop, "snapshot": snapshot, "seed": seed, "force-delete": force_delete,
               "iam-user": iam_user, "check-value": check_value}[args.command]
    print(json.dumps(handler(args), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

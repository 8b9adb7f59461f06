#!/usr/bin/env bash
# Demo of envops.aws_secrets: builds and installs the collection, then converges a whole
# environment's secrets twice with examples/demo/create_environment.yml and checks that the
# second run reports changed=0.
#
# Target selection:
#   * real AWS  - when AWS credentials are configured (AWS_ACCESS_KEY_ID or AWS_PROFILE set, or
#                 ~/.aws/credentials exists) and AWS_URL is not set. This creates real secrets.
#   * moto      - otherwise: a local moto_server on a free 127.0.0.1 port, fake credentials.
# Set DEMO_TARGET=moto to force moto even when credentials are configured.
# Extra arguments are passed to both ansible-playbook runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

# The main job, as AWX runs it: the installed collection's manage_secrets playbook over an inventory of environments.
PLAYBOOK="envops.aws_secrets.manage_secrets"
INVENTORY="examples/demo/environments.yml"
# `make demo` passes the venv it built (PYTHON=... / VENV=... choose it); .venv when run directly.
VENV_BIN="${DEMO_VENV_BIN:-${ROOT}/.venv/bin}"
LOG_DIR="${ROOT}/build/demo"
MOTO_PID=""

log() { printf '==> %s\n' "$*"; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }

cleanup() {
    if [[ -n "${MOTO_PID}" ]] && kill -0 "${MOTO_PID}" 2>/dev/null; then
        log "stopping moto_server (pid ${MOTO_PID})"
        kill "${MOTO_PID}" 2>/dev/null || true
        wait "${MOTO_PID}" 2>/dev/null || true
    fi
}
trap cleanup EXIT

if [[ ! -f "${INVENTORY}" ]]; then
    die "${INVENTORY} is missing; nothing to demo"
fi

log "ensuring venv, build and install (make install)"
make --no-print-directory install
export PATH="${VENV_BIN}:${PATH}"
# `make demo` passes where `make install` put the collection (BUILD_DIR=... moves it).
export ANSIBLE_COLLECTIONS_PATH="${DEMO_COLLECTIONS_PATH:-${ROOT}/build/collections}"
# The demo play targets the implicit localhost (so modules run with this venv's python and boto3);
# silence the two "no inventory" notices that this always produces.
export ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_INVENTORY_UNPARSED_WARNING=false
mkdir -p "${LOG_DIR}"

have_aws_credentials() {
    [[ -n "${AWS_ACCESS_KEY_ID:-}" || -n "${AWS_PROFILE:-}" || -f "${HOME}/.aws/credentials" ]]
}

if [[ "${DEMO_TARGET:-}" != "moto" ]] && have_aws_credentials && [[ -z "${AWS_URL:-}" ]]; then
    log "AWS credentials found and AWS_URL unset: running against REAL AWS (region ${AWS_REGION:-${AWS_DEFAULT_REGION:-from profile}})"
    log "this creates/updates real secrets in AWS Secrets Manager"
else
    port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    log "starting moto_server on 127.0.0.1:${port}"
    moto_server -H 127.0.0.1 -p "${port}" >"${LOG_DIR}/moto.log" 2>&1 &
    MOTO_PID=$!
    if ! python - "${port}" "${MOTO_PID}" <<'PY'
import os
import sys
import time
import urllib.request

port, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("moto_server exited early")
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s/moto-api/" % port, timeout=2) as resp:
            if resp.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.25)
sys.exit("moto_server did not answer on /moto-api/ within 30 s")
PY
    then
        cat "${LOG_DIR}/moto.log" >&2 || true
        die "could not start moto_server"
    fi
    log "moto_server is up (pid ${MOTO_PID})"
    export AWS_URL="http://127.0.0.1:${port}"
    export AWS_ACCESS_KEY_ID=testing
    export AWS_SECRET_ACCESS_KEY=testing
    export AWS_SESSION_TOKEN=testing
    export AWS_REGION=us-east-1
    export AWS_DEFAULT_REGION=us-east-1
    # Keep any real profile/config out of the moto run.
    unset AWS_PROFILE AWS_DEFAULT_PROFILE
    export AWS_SHARED_CREDENTIALS_FILE="${LOG_DIR}/no-credentials"
    export AWS_CONFIG_FILE="${LOG_DIR}/no-config"
fi

# Prints the PLAY RECAP host lines of a run's log, failing if there are none.
recap_lines() {
    local lines
    lines="$(sed -n '/^PLAY RECAP/,$p' "$1" | grep -E 'ok=[0-9]+ +changed=[0-9]+' || true)"
    [[ -n "${lines}" ]] || die "no PLAY RECAP in $1"
    printf '%s\n' "${lines}"
}

run_playbook() {
    local run="$1"
    shift
    log "ansible-playbook ${PLAYBOOK} (run ${run})"
    ansible-playbook -i "${INVENTORY}" "${PLAYBOOK}" -e environment_secrets_hosts=environments "$@" 2>&1 \
        | tee "${LOG_DIR}/run${run}.log"
}

run_playbook 1 "$@"
run_playbook 2 "$@"

if recap_lines "${LOG_DIR}/run2.log" | grep -qE 'changed=[1-9]'; then
    recap_lines "${LOG_DIR}/run2.log" >&2
    die "second run reported changes: the playbook is not idempotent"
fi
log "second run reported changed=0 for every host: idempotent"

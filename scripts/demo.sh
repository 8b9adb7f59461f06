#!/usr/bin/env bash
# Demo of envops.aws_secrets: builds and installs the collection, then converges a whole
# environment's secrets twice with examples/demo/create_environment.yml and checks that the
# second run reports changed=0.
#
# Target selection:
#   * real AWS  - when AWS credentials are configured (AWS_ACCESS_KEY_ID or AWS_PROFILE set, or
#                 ~/.aws/credentials exists) and AWS_URL is not set. This creates real secrets.
#   * moto      - otherwise: a local moto_server on a free 127.0.0.1 port, fake credentials, started and stopped
#                 by the harness's launcher (python -m tests.support.moto start/stop).
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
MOTO_STATE_DIR="${LOG_DIR}/moto"
MOTO_STARTED=""

log() { printf '==> %s\n' "$*"; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }

cleanup() {
    if [[ -n "${MOTO_STARTED}" ]]; then
        log "stopping moto_server"
        "${VENV_BIN}/python" -m tests.support.moto stop --state-dir "${MOTO_STATE_DIR}" >/dev/null || true
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
    log "starting moto_server on a free 127.0.0.1 port"
    MOTO_STARTED=1
    moto_state="$(python -m tests.support.moto start --state-dir "${MOTO_STATE_DIR}")" \
        || die "could not start moto_server (logs in ${MOTO_STATE_DIR})"
    moto_url="$(python -c 'import json, sys; print(json.loads(sys.argv[1])["moto_url"])' "${moto_state}")"
    log "moto_server is up at ${moto_url}"
    export AWS_URL="${moto_url}"
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

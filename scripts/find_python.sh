#!/usr/bin/env bash
# Print the path of the first Python interpreter that works, trying each argument in turn.
# An argument is a version ("3.13"), a command ("python3.13") or a path. A command that is missing, or a
# pyenv shim for a version pyenv has not enabled, is looked up again in pyenv's versions directory
# ($(pyenv root)/versions/3.13.*), newest patch release first. Exits 1 if none works.
#
#   scripts/find_python.sh 3.13 3.12 3.11     -> the newest of them on this machine
#   scripts/find_python.sh python3.13         -> python3.13, from PATH or from pyenv
set -euo pipefail

pyenv_root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-${HOME}/.pyenv}")"

works() {
    "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] >= (3, 0) else 1)' >/dev/null 2>&1
}

for wanted in "$@"; do
    if [[ "${wanted}" =~ ^[0-9]+\.[0-9]+$ ]]; then
        version="${wanted}"
        command_name="python${version}"
    else
        command_name="${wanted}"
        version="$(sed -n 's/^.*python\([0-9][0-9]*\.[0-9][0-9]*\)$/\1/p' <<<"${wanted}")"
    fi
    if found="$(command -v "${command_name}" 2>/dev/null)" && works "${found}"; then
        echo "${found}"
        exit 0
    fi
    if [[ -n "${version}" && -d "${pyenv_root}/versions" ]]; then
        while IFS= read -r candidate; do
            if [[ -x "${candidate}" ]] && works "${candidate}"; then
                echo "${candidate}"
                exit 0
            fi
        done < <(find "${pyenv_root}/versions" -maxdepth 3 -path "*/versions/${version}.*/bin/python${version}" \
            2>/dev/null | sort -rV)
    fi
done
exit 1

#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs every test,
# browser tests included. Extra arguments go to pytest, e.g.
#   bash tests/run.sh -k explorer
#   bash tests/run.sh -m "not browser and not slow and not realdata"   # the quick loop
#
# On a fresh Debian machine it installs chromium and chromium-driver (apt, with
# sudo unless root), creates .venv with python3 -m venv (unless a virtual
# environment is active) and installs requirements-test.txt into it. Each step
# says what it does; a second run skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

step() { echo "==> $*"; }

took() {  # "1 min 23 s" for a number of seconds
  local s=$1
  if [ "$s" -ge 60 ]; then echo "$((s / 60)) min $((s % 60)) s"; else echo "$s s"; fi
}

apt_updated=""
apt_install() {  # Debian packages, with apt's own progress lines
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "Installing $* needs root or sudo; install them and run again." >&2
      exit 1
    fi
    sudo="sudo"
  fi
  if [ -z "$apt_updated" ]; then
    step "apt-get update"
    $sudo apt-get update -q
    apt_updated=1
  fi
  step "apt-get install $* (this can take a few minutes)"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

# 1. Chromium for the browser tests.
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  step "chromium and chromedriver: present"
else
  apt_install chromium chromium-driver
fi

# 1b. Debian's nginx and openssl for the reverse-proxy tests (tests/test_deploy.py); only the binary is used.
if [ -x /usr/sbin/nginx ] && command -v openssl >/dev/null 2>&1; then
  step "nginx and openssl: present"
else
  apt_install nginx openssl
fi

# 1c. Debian's PostgreSQL for the multi-server test (tests/test_multiserver.py starts its own throwaway cluster
#     from these binaries; the packaged service is not used).
if compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  step "postgresql: present"
else
  apt_install postgresql
fi

# 2. A virtual environment: the active one, else .venv (created with python3; `python` may not exist).
if [ -n "${VIRTUAL_ENV:-}" ]; then
  venv="$VIRTUAL_ENV"
  step "Python: the active virtual environment $venv"
else
  venv="$PWD/.venv"
  if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    step "Creating the virtual environment .venv (python3 -m venv .venv)"
    if ! python3 -m venv .venv; then
      apt_install python3-venv  # Debian keeps ensurepip, which venv needs, in a package of its own
      python3 -m venv .venv
    fi
  fi
  step "Python: .venv"
fi
py="$venv/bin/python"

# 3. Test dependencies, skipped while the requirement files are unchanged since the last install.
stamp="$venv/.ortsatlas-requirements.sha256"
wanted="$(cat requirements.txt requirements-test.txt | sha256sum | cut -d' ' -f1) $("$py" -V 2>&1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  step "Test dependencies: up to date"
else
  step "Installing the test dependencies (pip install -r requirements-test.txt; the first time takes minutes)"
  # pip's own lines (Collecting, Downloading, Installing), without the long list of what is already there.
  "$py" -m pip install --disable-pip-version-check -r requirements-test.txt \
    | { grep --line-buffered -v '^Requirement already satisfied' || true; }
  echo "$wanted" > "$stamp"
fi

# 4. The tests.
step "pytest $*"
tests_started=$SECONDS
status=0
"$py" -m pytest "$@" || status=$?
echo "==> Tests took $(took $((SECONDS - tests_started))) (all of run.sh: $(took $((SECONDS - started))))"
exit "$status"

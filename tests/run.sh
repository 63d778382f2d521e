#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs every test,
# browser tests included. Extra arguments go to pytest (e.g. -k explorer).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "Installing Debian's chromium and chromium-driver for the browser tests ..."
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

python -m pip install -q --disable-pip-version-check -r requirements-test.txt
python -m pytest "$@"

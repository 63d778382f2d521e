#!/usr/bin/env bash
# Dependency audit of what the app runs: pip-audit over every package installed in the virtual
# environment (transitive ones too), judged by deploy/audit_verdict.py: fails on a known
# vulnerability that has a fixed version, and fails when packages could not be audited at all.
#
#   deploy/audit.sh [VENV]      default .venv; pip-audit runs from a throw-away venv of its own
#   AUDIT_SERVICE=osv deploy/audit.sh   ask OSV instead of PyPI (pip-audit's --vulnerability-service)
#
# Needs the vulnerability service on the network: PyPI's per-release JSON API
# (https://pypi.org/pypi/NAME/VERSION/json) or api.osv.dev. Where only the package
# index is reachable, every package is "not audited" and the audit fails with exit 2.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
tool=$(mktemp -d "${TMPDIR:-/tmp}/audit.XXXXXX")
trap 'rm -rf "$tool"' EXIT

echo "==> pip-audit 2.10.1 in a venv of its own"
python3 -m venv "$tool/venv"
"$tool/venv/bin/pip" install --quiet --disable-pip-version-check pip-audit==2.10.1
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "==> auditing $site (${AUDIT_SERVICE:-pypi})"
# Its own exit status says "some vulnerability" or "error"; the verdict below decides.
# (Its own summary can say "No known vulnerabilities found" about packages it never looked up.)
"$tool/venv/bin/pip-audit" --path "$site" --vulnerability-service "${AUDIT_SERVICE:-pypi}" \
  --format json --output "$tool/report.json" --progress-spinner off > "$tool/pip-audit.log" 2>&1 || true
[ -s "$tool/report.json" ] || { tail -20 "$tool/pip-audit.log" >&2; echo "pip-audit wrote no report" >&2; exit 2; }
"$venv/bin/python" deploy/audit_verdict.py "$tool/report.json"

"""The verdict on a pip-audit JSON report (deploy/audit.sh): fail on a vulnerability that has a fix.

Why not pip-audit's own exit code: it fails on every known vulnerability,
also those nobody can fix yet by upgrading, and it *passes* ("No known
vulnerabilities found") when it could not look a package up at all, e.g.
when the vulnerability service is unreachable. Here a package that could not
be audited fails the audit, saying so: an audit that checked nothing must
not look like one that found nothing.

  python deploy/audit_verdict.py REPORT.json   → exit 0 ok, 1 fixable vulnerabilities, 2 not audited
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def verdict(report: dict) -> tuple[int, list[str]]:
    """Exit status and the lines to print for one pip-audit report (`--format json`)."""
    deps = report.get("dependencies", [])
    lines, fixable, skipped = [], 0, []
    for dep in deps:
        if "skip_reason" in dep:
            skipped.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        for vuln in dep.get("vulns", []):
            fixes = vuln.get("fix_versions") or []
            ids = ", ".join([vuln.get("id", "?"), *vuln.get("aliases", [])])
            if fixes:
                fixable += 1
                lines.append(f"FIX  {dep['name']} {dep['version']}: {ids}; fixed in {', '.join(fixes)}")
            else:
                lines.append(f"note {dep['name']} {dep['version']}: {ids}; no fixed version yet")
    if skipped:
        lines.append(f"{len(skipped)} of {len(deps)} packages could not be audited (is the vulnerability service "
                     "reachable from here?); first: " + "; ".join(skipped[:3]))
    audited = len(deps) - len(skipped)
    if fixable:
        lines.append(f"{fixable} known vulnerabilities have a fix: upgrade the pins in requirements*.txt")
        return 1, lines
    if skipped:
        return 2, lines
    lines.append(f"{audited} packages audited: no known vulnerability with a fix")
    return 0, lines


def main(argv: list[str]) -> int:
    status, lines = verdict(json.loads(Path(argv[1]).read_text()))
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))

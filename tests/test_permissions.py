"""Every right is a named predicate in auth/permissions.py, and nothing outside auth/ compares roles.

(a) One table: each predicate, asked by each kind of viewer about an
    indicator of the youth office ('jugend'), with the viewers who get a yes.
    A predicate added to auth/permissions.py without a row here fails.
(b) A scan of atlas/: `is_admin` or a comparison of `.role` there means a
    rights rule has leaked out of auth/ and fails, naming file and line.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from auth import permissions as p
from auth.permissions import ANONYMOUS, Principal

ROOT = Path(__file__).resolve().parents[1]
DEPT, IND = "jugend", "kita_quote"
OWNER = "jugendamt"

VIEWERS = {
    "anonymous": ANONYMOUS,
    "public": Principal("buerger", "public", logged_in=True),
    "internal": Principal("planer", "internal", logged_in=True),
    "own_steward": Principal(OWNER, "steward", frozenset({DEPT}), logged_in=True),
    "other_steward": Principal("sozialamt", "steward", frozenset({"soziales"}), logged_in=True),
    "admin": Principal("admin", "admin", logged_in=True),
    # A partner authority's token: reads the youth office's indicator at district level, nothing else.
    "partner": p.scoped(Principal("kreis", "steward", frozenset({DEPT}), logged_in=True),
                        p.Scope(frozenset({IND}), frozenset(), frozenset({"stadtbezirk"}), "t1")),
}
EVERYONE = set(VIEWERS)
STAFF = {"internal", "own_steward", "other_steward", "admin", "partner"}
OWN = {"own_steward", "admin"}
ADMIN = {"admin"}

# (predicate, arguments after the viewer, the viewers who may): everything else is refused.
CASES = [
    (p.may_know, ("public", DEPT, IND), EVERYONE),
    (p.may_know, ("internal", DEPT, IND), STAFF),
    # The partner's account is a youth-office steward: a grant narrows the account's rights, never widens them.
    (p.may_know, ("restricted", DEPT, IND), OWN | {"partner"}),
    (p.may_know, ("public", DEPT, "schulweg"), EVERYONE - {"partner"}),  # outside the partner's grant
    (p.may_know, ("public", DEPT, "schulweg", "bildung"), EVERYONE - {"partner"}),
    (p.may_read_level, ("stadtbezirk",), EVERYONE),
    (p.may_read_level, ("ortsteil",), EVERYONE - {"partner"}),
    (p.may_call, ("/api/v1/values",), EVERYONE),
    (p.may_call, ("/api/v1/profile",), EVERYONE - {"partner"}),
    (p.may_call, ("/api/v1/uploads",), EVERYONE - {"partner"}),
    (p.may_call, ("/api/v1/grids/schulbezirk/values",), EVERYONE),  # the grid itself is checked by may_read_grid
    (p.may_call, ("/api/v1/grids/schulbezirk/values/x",), EVERYONE - {"partner"}),
    (p.may_call, ("/api/v1/gridsx",), EVERYONE - {"partner"}),
    (p.may_read_grid, ("stadtbezirk",), EVERYONE),  # a scope's levels may name grids
    (p.may_read_grid, ("schulbezirk",), EVERYONE - {"partner"}),
    (p.sees_unsuppressed, (DEPT,), OWN),
    (p.may_deliver, (DEPT,), OWN),
    (p.may_deliver_outside, ("G03",), ADMIN),  # a Gemeinde's indicator: only inside the Gemeinde
    (p.may_deliver_outside, (None,), EVERYONE),  # a department of the whole territory
    (p.may_read_state, (DEPT, "draft"), OWN),
    (p.may_read_state, (DEPT, "withdrawn"), OWN),
    (p.may_read_state, (DEPT, "internal"), STAFF),
    (p.may_read_state, (DEPT, "public"), EVERYONE),
    (p.may_release, (DEPT, "internal"), OWN),
    (p.may_release, (DEPT, "public"), ADMIN),
    (p.may_release, (DEPT, "draft"), set()),
    (p.may_schedule_release, (DEPT, "internal"), OWN),
    (p.may_schedule_release, (DEPT, "public"), ADMIN),
    (p.may_withdraw, (DEPT, "draft"), OWN),
    (p.may_withdraw, (DEPT, "internal"), OWN),
    (p.may_withdraw, (DEPT, "public"), ADMIN),
    (p.may_release_publicly, (), ADMIN),
    (p.may_see_provenance, (), STAFF),
    (p.may_manage_boundaries, (), ADMIN),
    (p.may_upload, (), {"own_steward", "other_steward", "admin"}),
    (p.may_build_index, (), {"own_steward", "other_steward", "admin"}),
    (p.owns_upload, (OWNER,), OWN),
    (p.owns_upload, ("someone_else",), ADMIN),
    (p.may_set_visibility, (), ADMIN),
    (p.may_publish_directly, (), ADMIN),
    (p.may_administer, (), ADMIN),
    (p.may_edit_metadata, (), ADMIN),
    (p.sees_internal_figures, (), STAFF),
    (p.may_make_booklet, (), ADMIN),
    (p.may_render_report, ("public",), EVERYONE),
    (p.may_render_report, ("internal",), STAFF),
    (p.may_render_report, ("secret",), set()),
    (p.may_write_note, (DEPT,), OWN),
    (p.may_set_target, (DEPT,), OWN),
    (p.may_share, (DEPT,), OWN),
    (p.may_set_warning_rules, (DEPT,), OWN),
    (p.may_set_goals, (), ADMIN),
    (p.may_configure_dashboard, (DEPT,), OWN),
    (p.may_plan_measures, (DEPT,), OWN),
    (p.may_read_note, ("public",), EVERYONE),
    (p.may_read_note, ("internal",), STAFF),
    (p.may_read_note, ("draft",), set()),
]


def _case_id(case) -> str:
    fn, args, _ = case
    return f"{fn.__name__}({', '.join(map(str, args))})"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_predicate_for_every_viewer(case):
    fn, args, allowed = case
    answers = {name: fn(viewer, *args) for name, viewer in VIEWERS.items()}
    assert all(isinstance(a, bool) for a in answers.values()), answers
    assert {name for name, yes in answers.items() if yes} == allowed


def test_signed_out_steward_may_not_upload_or_own():
    """Rights of the workflow need an account: a steward principal that is not signed in gets nothing."""
    ghost = Principal(OWNER, "steward", frozenset({DEPT}))
    assert not p.may_upload(ghost)
    assert not p.owns_upload(ghost, OWNER)


def _predicates() -> set[str]:
    """The rights predicates auth/permissions.py defines (its public functions that answer yes or no)."""
    return {name for name, fn in inspect.getmembers(p, inspect.isfunction)
            if fn.__module__ == p.__name__ and name.startswith(("may_", "owns_", "sees_"))}


def test_every_predicate_has_rows_and_says_why():
    tabled = {fn.__name__ for fn, _, _ in CASES}
    assert _predicates() - tabled == set(), "predicates without a row in CASES"
    for name in _predicates():
        assert (getattr(p, name).__doc__ or "").strip(), f"{name} has no docstring saying why"


# ------------------------------------------------------------------ no rights rules outside auth/
ROLE_RULE = re.compile(r"\bis_admin\b|\.role\s*(?:==|!=|in\b|not\s+in\b)")


def rights_rules(text: str) -> list[tuple[int, str]]:
    """Lines that decide rights by themselves: `is_admin`, or `.role` compared or tested for membership."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if ROLE_RULE.search(line)]


def test_scanner_flags_role_rules_and_lets_role_display_pass():
    flagged = ["if viewer.is_admin:", 'if viewer.role == "admin":', 'ok = user.role in ("steward", "admin")',
               'if viewer.role not in ("steward", "admin"):', 'if v.role != "public":', "x = v.role  in ROLES"]
    for line in flagged:
        assert rights_rules(line) == [(1, line)], line
    shown = ["t('role_' + viewer.role)", 'print(f"{u.role:<9}")', "return user.role, list(user.departments)",
             "may_administer(viewer)", "role_index = 1"]
    for line in shown:
        assert rights_rules(line) == [], line


def test_no_rights_rules_outside_auth():
    found = [f"{path.relative_to(ROOT)}:{n}: {line}"
             for path in sorted((ROOT / "atlas").rglob("*.py"))
             for n, line in rights_rules(path.read_text(encoding="utf-8"))]
    assert not found, "rights decided outside auth/permissions.py:\n" + "\n".join(found)

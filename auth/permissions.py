"""Who may see what: the one place where visibility rules live.

Every service that reads indicators or values builds its WHERE clause from
`indicator_filter_sql` and `version_filter_sql`, so the rules are enforced in
the query itself rather than by filtering results afterwards. Deny by default:
anything the rules do not explicitly allow stays invisible.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("public", "internal", "steward", "admin")

# Indicator visibility levels and release states of a version.
VISIBILITIES = ("public", "internal", "restricted")
STATES = ("draft", "internal", "public")


@dataclass(frozen=True)
class Principal:
    """The viewer of a request, passed explicitly into every service call."""

    name: str = "anonymous"
    role: str = "public"
    departments: frozenset[str] = field(default_factory=frozenset)
    # Restricted indicators an admin granted to this user individually.
    grants: frozenset[str] = field(default_factory=frozenset)
    # Signed in with an account. Rights follow the role, not this: an account
    # with the role 'public' sees exactly what the anonymous public sees.
    logged_in: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {ROLES}")

    @property
    def rights(self) -> tuple:
        """What decides visibility (not the name): a cache key shared by equal viewers."""
        return (self.role, tuple(sorted(self.departments)), tuple(sorted(self.grants)))

    @property
    def has_public_rights_only(self) -> bool:
        return self.role == "public"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS = Principal()


def _sql_list(items: frozenset[str] | set[str]) -> tuple[str, list[str]]:
    """Placeholders for an IN list; an empty list yields a never-true clause."""
    if not items:
        return "(NULL)", []
    ordered = sorted(items)
    return "(" + ", ".join("?" for _ in ordered) + ")", ordered


def indicator_filter_sql(viewer: Principal, alias: str = "i") -> tuple[str, list]:
    """SQL predicate over the indicator catalogue: may `viewer` know it exists?"""
    if viewer.is_admin:
        return "TRUE", []
    if viewer.has_public_rights_only:
        return f"{alias}.visibility = 'public'", []
    depts, dept_params = _sql_list(viewer.departments)
    grants, grant_params = _sql_list(viewer.grants)
    clause = (
        f"({alias}.visibility IN ('public', 'internal')"
        f" OR ({alias}.visibility = 'restricted'"
        f" AND ({alias}.department IN {depts} OR {alias}.id IN {grants})))"
    )
    return clause, dept_params + grant_params


def version_filter_sql(viewer: Principal, alias: str = "ver", ind_alias: str = "i") -> tuple[str, list]:
    """SQL predicate over versions: which release states may `viewer` read?

    The public reads public versions, staff internal and public ones, and the
    owning department's stewards and admins also read drafts. Withdrawn
    versions (rolled back) are read by nobody.
    """
    if viewer.is_admin:
        return f"{alias}.state IN ('draft', 'internal', 'public')", []
    if viewer.has_public_rights_only:
        return f"{alias}.state = 'public'", []
    if viewer.role == "steward" and viewer.departments:
        depts, params = _sql_list(viewer.departments)
        return (
            f"({alias}.state IN ('internal', 'public')"
            f" OR ({alias}.state = 'draft' AND {ind_alias}.department IN {depts}))",
            params,
        )
    return f"{alias}.state IN ('internal', 'public')", []


def sees_unsuppressed(viewer: Principal, department: str) -> bool:
    """Small numbers are shown only to the owning department and admins."""
    if viewer.is_admin:
        return True
    return viewer.role == "steward" and department in viewer.departments


# The same rules for one indicator or version in Python (release workflow,
# version history). They mirror the SQL predicates above; tests check both.
def may_know(viewer: Principal, visibility: str, department: str, indicator_id: str) -> bool:
    """May the viewer know that this indicator exists (indicator_filter_sql for one row)?"""
    if viewer.is_admin:
        return True
    if visibility == "public":
        return True
    if viewer.has_public_rights_only:
        return False
    if visibility == "internal":
        return True
    return visibility == "restricted" and (department in viewer.departments or indicator_id in viewer.grants)


def may_deliver(viewer: Principal, department: str) -> bool:
    """Upload data for, and release internally, an indicator of this department."""
    return viewer.is_admin or (viewer.role == "steward" and department in viewer.departments)


def may_read_state(viewer: Principal, department: str, state: str) -> bool:
    """version_filter_sql for one version; withdrawn versions appear in the history of those who deliver."""
    if state in ("draft", "withdrawn"):
        return may_deliver(viewer, department)
    if state == "internal":
        return not viewer.has_public_rights_only
    return state == "public"


def may_release(viewer: Principal, department: str, to: str) -> bool:
    """draft → internal: the owning department's steward; → public: admins only."""
    if to == "internal":
        return may_deliver(viewer, department)
    return to == "public" and viewer.is_admin


def may_withdraw(viewer: Principal, department: str, state: str) -> bool:
    """Roll a version back: the owning steward for drafts and internal ones, admins for public ones."""
    return viewer.is_admin if state == "public" else may_deliver(viewer, department)


def may_manage_boundaries(viewer: Principal) -> bool:
    """New boundary sets change every map and aggregate: admins only."""
    return viewer.is_admin

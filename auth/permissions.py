"""Who may see what: the one place where visibility rules live.

Every service that reads indicators or values builds its WHERE clause from
`indicator_filter_sql` and `version_filter_sql`, so the rules are enforced in
the query itself rather than by filtering results afterwards. Deny by default:
anything the rules do not explicitly allow stays invisible.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

ROLES = ("public", "internal", "steward", "admin")

# Indicator visibility levels and release states of a version.
VISIBILITIES = ("public", "internal", "restricted")
STATES = ("draft", "internal", "public")


@dataclass(frozen=True)
class Scope:
    """What a partner token may read: named indicators and/or domains, at named levels; read-only.

    A partner authority (a neighbouring county, a school board) gets exactly
    this and nothing else: no other route, no writes, no small numbers.
    """
    indicators: frozenset[str] = field(default_factory=frozenset)
    domains: frozenset[str] = field(default_factory=frozenset)
    levels: frozenset[str] = field(default_factory=frozenset)
    token_id: str = ""  # the token it was granted with (for the audit log)


# The read routes a partner token may call; every other route answers as if it did not exist.
PARTNER_ROUTES = frozenset({"/api/v1/indicators", "/api/v1/levels", "/api/v1/areas", "/api/v1/values",
                            "/api/v1/export", "/api/v1/map"})
# The parallel grids' read routes (the list, one grid's areas and values): a grid is granted like a level.
PARTNER_GRID_ROUTE = re.compile(r"/api/v1/grids(/[^/]+/(areas|values))?")


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
    # Set for a partner token: reads are limited to it (see Scope); None for everybody else.
    scope: Scope | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {ROLES}")

    @property
    def rights(self) -> tuple:
        """What decides visibility (not the name): a cache key shared by equal viewers."""
        scope = self.scope and (tuple(sorted(self.scope.indicators)), tuple(sorted(self.scope.domains)),
                                tuple(sorted(self.scope.levels)))
        return (self.role, tuple(sorted(self.departments)), tuple(sorted(self.grants)), scope)

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


def _sql_array(items: frozenset[str]) -> str:
    return "[" + ", ".join("?" for _ in items) + "]::VARCHAR[]"


def indicator_filter_sql(viewer: Principal, alias: str = "i") -> tuple[str, list]:
    """SQL predicate over the indicator catalogue: may `viewer` know it exists?"""
    clause, params = _role_filter_sql(viewer, alias)
    if viewer.scope is None:
        return clause, params
    ids, id_params = _sql_list(viewer.scope.indicators)
    domains, domain_params = _sql_list(viewer.scope.domains)
    return (f"({clause}) AND ({alias}.id IN {ids} OR {alias}.domain IN {domains})",
            params + id_params + domain_params)


def _role_filter_sql(viewer: Principal, alias: str) -> tuple[str, list]:
    if viewer.is_admin:
        return "TRUE", []
    if viewer.has_public_rights_only:
        return f"{alias}.visibility = 'public'", []
    depts, dept_params = _sql_list(viewer.departments)
    grants, grant_params = _sql_list(viewer.grants)
    shared, shared_params = "FALSE", []
    if viewer.departments:  # the owner shared it with one of the viewer's organisations
        shared = f"list_has_any(string_split(coalesce({alias}.shared_with, ''), ','), {_sql_array(viewer.departments)})"
        shared_params = sorted(viewer.departments)
    clause = (
        f"({alias}.visibility IN ('public', 'internal')"
        f" OR ({alias}.visibility = 'restricted'"
        f" AND ({alias}.department IN {depts} OR {alias}.id IN {grants} OR {shared})))"
    )
    return clause, dept_params + grant_params + shared_params


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


def may_set_warning_rules(viewer: Principal, department: str) -> bool:
    """Set an indicator's early-warning rules: whoever sets its targets (its department's stewards, admins).

    The rules say what the department wants to be warned about; signed in,
    because every revision is kept with its author and audited.
    """
    return may_set_target(viewer, department)


def may_set_goals(viewer: Principal) -> bool:
    """Add goals (Leitziele, Teilziele) to the register: admins (the planning office).

    Goals are the council's decisions that every department's measures and
    targets refer to, so no single department sets them.
    """
    return viewer.logged_in and viewer.is_admin


def may_plan_measures(viewer: Principal, unit: str) -> bool:
    """Record or revise a measure: the responsible unit's stewards, admins; signed in, for the history."""
    return viewer.logged_in and may_deliver(viewer, unit)


def may_configure_dashboard(viewer: Principal, organisation: str) -> bool:
    """Choose an organisation's dashboard tiles: its own stewards, admins (signed in, audited)."""
    return viewer.logged_in and may_deliver(viewer, organisation)


def may_share(viewer: Principal, department: str) -> bool:
    """Share a restricted indicator with other organisations: whoever delivers it (its owner's stewards), admins.

    A Gemeinde's internal figures are the Gemeinde's to pass on: it decides
    which neighbour or county office may see them.
    """
    return viewer.logged_in and may_deliver(viewer, department)


def may_read_level(viewer: Principal, level: str) -> bool:
    """Areas and values of this level: everybody, except a partner token outside its granted levels."""
    return viewer.scope is None or level in viewer.scope.levels


def may_call(viewer: Principal, path: str) -> bool:
    """A partner token reaches only the read routes of PARTNER_ROUTES; everybody else every route
    (which then decides on its own)."""
    return viewer.scope is None or path in PARTNER_ROUTES or PARTNER_GRID_ROUTE.fullmatch(path) is not None


def may_read_grid(viewer: Principal, grid: str) -> bool:
    """A parallel grid's areas and estimates: everybody, except a partner token not granted that grid.

    A partner reads a grid (a school board its Grundschulbezirke) only when its
    scope names it among its levels, whatever base levels it may read.
    """
    return viewer.scope is None or grid in viewer.scope.levels


def scoped(viewer: Principal, scope: Scope) -> Principal:
    """The token's account, limited to the scope and to reading: at most the rights of 'internal' staff.

    Read-only and without small numbers, whatever the account's own role is:
    a partner reads released figures (internal ones where the account is
    staff), never drafts, and writes nothing.
    """
    role = "public" if viewer.has_public_rights_only else "internal"
    return Principal(viewer.name, role, viewer.departments, viewer.grants, logged_in=False, scope=scope)


def sees_unsuppressed(viewer: Principal, department: str) -> bool:
    """Small numbers are shown only to the owning department and admins."""
    if viewer.is_admin:
        return True
    return viewer.role == "steward" and department in viewer.departments


# The same rules for one indicator or version in Python (release workflow,
# version history). They mirror the SQL predicates above; tests check both.
def may_know(viewer: Principal, visibility: str, department: str, indicator_id: str, domain: str = "",
             shared_with: tuple[str, ...] = ()) -> bool:
    """May the viewer know that this indicator exists (indicator_filter_sql for one row)?

    Without `domain`, an indicator a partner token was granted only through its
    domain stays unknown (deny by default).
    """
    if viewer.scope is not None and not (indicator_id in viewer.scope.indicators
                                         or (domain and domain in viewer.scope.domains)):
        return False
    if viewer.is_admin:
        return True
    if visibility == "public":
        return True
    if viewer.has_public_rights_only:
        return False
    if visibility == "internal":
        return True
    return visibility == "restricted" and (department in viewer.departments or indicator_id in viewer.grants
                                           or bool(viewer.departments & set(shared_with)))


def may_deliver(viewer: Principal, department: str) -> bool:
    """Upload data for, and release internally, an indicator of this department."""
    return viewer.is_admin or (viewer.role == "steward" and department in viewer.departments)


def may_deliver_outside(viewer: Principal, organisation_area: str | None) -> bool:
    """Deliver values for areas outside the owning organisation's area.

    A Gemeinde's stewards deliver only for their own Gemeinde: its figures are
    its business, a neighbour's are not. The county's statistics office
    (admins) administers the whole store, and a department of the whole
    territory (no area) is not bound at all.
    """
    return viewer.is_admin or organisation_area is None


def may_read_state(viewer: Principal, department: str, state: str) -> bool:
    """version_filter_sql for one version; withdrawn versions appear in the history of those who deliver."""
    if state in ("draft", "withdrawn"):
        return may_deliver(viewer, department)
    if state == "internal":
        return not viewer.has_public_rights_only
    return state == "public"


def may_release_publicly(viewer: Principal) -> bool:
    """Put versions before the public, of any department: admins only.

    Publishing is the city's decision, not one department's, because a public
    figure cannot be taken back from whoever saw it. The upload page shows its
    public-release controls only to these viewers; the service decides anyway.
    """
    return viewer.is_admin


def may_release(viewer: Principal, department: str, to: str) -> bool:
    """draft → internal: the owning department's steward; → public: admins only."""
    if to == "internal":
        return may_deliver(viewer, department)
    return to == "public" and may_release_publicly(viewer)


def may_schedule_release(viewer: Principal, department: str, to: str) -> bool:
    """Set (or cancel) a release for a later time, an embargo: whoever may make that release now.

    A schedule is the same decision taken ahead of time, so it needs exactly the
    rights of the release it will perform when it falls due.
    """
    return may_release(viewer, department, to)


def may_withdraw(viewer: Principal, department: str, state: str) -> bool:
    """Roll a version back: the owning steward for drafts and internal ones, admins for public ones.

    Withdrawing a public version changes what the public sees, so it needs the
    rights of a public release.
    """
    return may_release_publicly(viewer) if state == "public" else may_deliver(viewer, department)


def may_see_provenance(viewer: Principal) -> bool:
    """Who typed a version in, from which file (checksum) and with which note: staff only.

    The public learns what was released and when, not the names of the staff
    behind it.
    """
    return not viewer.has_public_rights_only


def may_manage_boundaries(viewer: Principal) -> bool:
    """New boundary sets change every map and aggregate: admins only."""
    return viewer.is_admin


# Rights of the data stewards' workflow and of administration that do not
# depend on one indicator. Routes, callbacks and services call these; no
# role comparison lives outside auth/ (tests/test_permissions.py checks).
def may_upload(viewer: Principal) -> bool:
    """Use the upload page and the workflow's write endpoints: signed-in stewards and admins.

    The role decides, not a department: what a steward may deliver is decided
    per indicator by `may_deliver`. Signed in, because every upload has an owner
    (`owns_upload`) and the audit log needs a name.
    """
    return viewer.logged_in and viewer.role in ("steward", "admin")


def owns_upload(viewer: Principal, owner: str) -> bool:
    """See, confirm or cancel a pending upload: the account that sent it, and admins (who help out).

    A pending upload holds data nobody has released yet, so any other viewer is
    told it does not exist.
    """
    return viewer.logged_in and (viewer.is_admin or owner == viewer.name)


def may_set_visibility(viewer: Principal) -> bool:
    """Change who may see an indicator, and see the open requests for public visibility: admins only.

    Visibility decides what the public and other departments learn, across all
    versions of the indicator at once; a department cannot grant it to itself.
    """
    return viewer.is_admin


def may_publish_directly(viewer: Principal) -> bool:
    """Create an indicator as public without a request: whoever may set visibility.

    Anyone else who asks for 'public' gets an internal indicator plus a request
    that waits for `may_set_visibility`.
    """
    return may_set_visibility(viewer)


def may_edit_metadata(viewer: Principal) -> bool:
    """Edit an indicator's titles, definitions, source, contact, licence and suppression thresholds: admins only.

    The metadata are what every reader takes the figures to mean, and the
    thresholds decide which small numbers the public sees: a city-wide
    decision, like a public release.
    """
    return may_release_publicly(viewer)


def may_administer(viewer: Principal) -> bool:
    """Accounts, roles, departments, grants, API tokens and the audit log (/admin): admins only.

    These decide everybody else's rights, so only those who already hold all
    rights may change them.
    """
    return viewer.is_admin


# Area profiles, booklets, reports and interpretation notes.
def sees_internal_figures(viewer: Principal) -> bool:
    """Reads more than the public releases (internal indicators or versions): whatever is made for this
    viewer (a profile, its PDF, a report) carries the internal marking, so it is not passed on by mistake."""
    return not viewer.has_public_rights_only


def may_make_booklet(viewer: Principal) -> bool:
    """Generate a profile booklet of a whole level, for the public or the internal view: admins only.

    A booklet is the statistics office's publication, and it reads every
    area at once (a long job on the server).
    """
    return viewer.is_admin


def may_render_report(viewer: Principal, report_visibility: str) -> bool:
    """Render a report template: 'public' templates for everyone, 'internal' ones for staff.

    The figures in it follow the viewer's own rights either way.
    """
    return report_visibility == "public" or (report_visibility == "internal" and sees_internal_figures(viewer))


def may_write_note(viewer: Principal, department: str) -> bool:
    """Attach, change or delete an interpretation note on an indicator: its department's stewards, admins.

    Signed in, because a note is shown with its author and goes to the audit log.
    """
    return viewer.logged_in and may_deliver(viewer, department)


def may_read_note(viewer: Principal, note_visibility: str) -> bool:
    """A note of an indicator the viewer may see: public notes for everyone, internal ones for staff."""
    return note_visibility == "public" or (note_visibility == "internal" and sees_internal_figures(viewer))


def may_build_index(viewer: Principal) -> bool:
    """Build, preview and save composite indices: signed-in stewards and admins (the statistics office).

    An index is read with the builder's own rights, and saving one creates an
    indicator owned by a department, so it needs an account with a role that
    delivers data; what goes in is decided per input by the read rights.
    """
    return viewer.logged_in and viewer.role in ("steward", "admin")


def may_set_target(viewer: Principal, department: str) -> bool:
    """Set or change an indicator's target (value, warning zone, deadline): its department's stewards, admins.

    A target is the department's commitment; it is signed in, because every
    revision is kept with its author and goes to the audit log.
    """
    return viewer.logged_in and may_deliver(viewer, department)

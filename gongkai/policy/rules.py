"""The permission table and the functions that read it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from gongkai.accounts.models import SERVICE_NUMBER_PREFIX, User
from gongkai.core.paths import subtree_roots
from gongkai.org.models import PATH_SEPARATOR, OrgUnit, Role, RoleAssignment, UnitKind


class Action(StrEnum):
    ORG_VIEW = "org.view"  # the org tree and a unit's page
    MEMBERS_VIEW = "org.members_view"  # a unit's members with employee numbers and roles
    ROLE_MANAGE = "org.role_manage"  # grant and revoke role assignments
    ACCOUNT_MANAGE = "accounts.manage"  # unlock an account, issue a temporary password
    DIRECTORY_MANAGE = "accounts.directory_manage"  # directory sign-in: status, "required"
    ROSTER_IMPORT = "org.roster_import"
    AUDIT_BROWSE = "audit.browse"
    NOTICE_MANAGE = "notice.manage"  # chat robots, the delivery log, failed background tasks
    EVENTS_MANAGE = "events.manage"  # outbound event endpoints (webhooks) of units, their log
    API_SERVICE_MANAGE = "api.service_manage"  # service accounts and their API tokens
    BOARD_VIEW = "board.view"  # open a unit's board (items filtered by DISCLOSURE_READ_ALL)
    DISCLOSURE_READ_ALL = "disclosure.read_all"  # internal items of every unit in the subtree
    DISCLOSURE_DRAFT = "disclosure.draft"  # draft, submit, publish, correct, attest
    DISCLOSURE_APPROVE = "disclosure.approve"  # the unit head's approval
    DISCLOSURE_ENDORSE = "disclosure.endorse"  # the leadership group's, for company items
    DISCLOSURE_WITHDRAW = "disclosure.withdraw"
    DISCLOSURE_READ_WITHDRAWN = "disclosure.read_withdrawn"  # a withdrawn item's content
    DISCLOSURE_RATE = "disclosure.rate"
    READS_VIEW = "disclosure.reads_view"  # how many of the unit have read an item
    CATALOG_MANAGE = "catalog.manage"
    REGULATION_MANAGE = "regulation.manage"
    # Employee voice (gongkai.voice, publicity, reporting, surveys)
    SUGGESTION_SUBMIT = "suggestion.submit"  # send a suggestion to a unit of one's company
    SUGGESTION_HANDLE = "suggestion.handle"  # accept, decline, assign (the receiving unit)
    SUGGESTION_ANSWER = "suggestion.answer"  # answer as the responsible unit
    SUGGESTION_REVIEW = "suggestion.review"  # review a reopened suggestion
    SUGGESTION_SEE_AUTHOR = "suggestion.see_author"  # the name behind a hidden-name one
    PUBLICITY_OPEN = "publicity.open"  # open a publicity window on a disclosure, publish outcome
    OBJECTION_FILE = "objection.file"
    OBJECTION_REVIEW = "objection.review"  # read objections (and who filed), record findings
    CALENDAR_MANAGE = "calendar.manage"  # public holidays and adjusted working days
    REPORT_HANDLE = "report.handle"  # read and handle anonymous reports, enter hotline ones
    SURVEY_MANAGE = "survey.manage"
    SURVEY_RESULTS = "survey.results"
    # Workers' congress (gongkai.congress, ballots)
    CONGRESS_VIEW = "congress.view"
    CONGRESS_MANAGE = "congress.manage"  # terms, sessions, roster, agenda, attendance
    MOTION_PROPOSE = "motion.propose"  # draft, second (representatives)
    MOTION_HANDLE = "motion.handle"  # the motion committee: register, merge, decline, assign
    MOTION_ANSWER = "motion.answer"  # answer as the lead or assisting unit
    PATROL_RECORD = "patrol.record"
    MEETING_RECORD = "meeting.record"
    DIRECTOR_REPORT = "director.report"  # employee directors' yearly performance reports
    VOTE_MANAGE = "vote.manage"  # set up, open and close votes and evaluations
    VOTE_RECOUNT = "vote.recount"
    # Supervision (gongkai.assessment, supervision)
    COMPLIANCE_VIEW = "compliance.view"
    INSPECTION_MANAGE = "inspection.manage"  # rounds, checklists, findings, circulars
    RECTIFICATION_REPORT = "rectification.report"  # the department reports what it did
    RECTIFICATION_VERIFY = "rectification.verify"
    ASSESSMENT_MANAGE = "assessment.manage"  # weights, periods, publishing the ranking
    ASSESSMENT_VIEW = "assessment.view"  # the published ranking and how a score was made
    ACCOUNTABILITY_RECORD = "accountability.record"
    ACCOUNTABILITY_VIEW = "accountability.view"


# action → the roles that grant it on the holder's unit and its subtree.
# Role.EMPLOYEE is held implicitly by every active user on their company (see grants_for).
RULES: dict[Action, frozenset[Role]] = {
    Action.ORG_VIEW: frozenset(Role),
    Action.MEMBERS_VIEW: frozenset(
        {Role.UNIT_HEAD, Role.UNION_OFFICE, Role.LEADERSHIP, Role.SUPERVISION}
    ),
    Action.ROLE_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.ACCOUNT_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.DIRECTORY_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.ROSTER_IMPORT: frozenset({Role.UNION_OFFICE}),
    Action.AUDIT_BROWSE: frozenset({Role.UNION_OFFICE, Role.SUPERVISION}),
    Action.NOTICE_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.EVENTS_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.API_SERVICE_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.BOARD_VIEW: frozenset(Role),
    Action.DISCLOSURE_READ_ALL: frozenset(
        {
            Role.UNIT_HEAD,
            Role.TEAM_OFFICER,
            Role.DEPT_OFFICER,
            Role.UNION_OFFICE,
            Role.LEADERSHIP,
            Role.SUPERVISION,
            Role.DISCIPLINE,
            Role.EMPLOYEE_DIRECTOR,
        }
    ),
    Action.DISCLOSURE_DRAFT: frozenset(
        {Role.TEAM_OFFICER, Role.DEPT_OFFICER, Role.UNIT_HEAD, Role.UNION_OFFICE}
    ),
    Action.DISCLOSURE_APPROVE: frozenset({Role.UNIT_HEAD}),
    Action.DISCLOSURE_ENDORSE: frozenset({Role.LEADERSHIP}),
    Action.DISCLOSURE_WITHDRAW: frozenset({Role.UNIT_HEAD, Role.UNION_OFFICE}),
    Action.DISCLOSURE_READ_WITHDRAWN: frozenset({Role.SUPERVISION}),
    Action.DISCLOSURE_RATE: frozenset(Role),
    Action.READS_VIEW: frozenset({Role.UNIT_HEAD, Role.UNION_OFFICE, Role.LEADERSHIP}),
    Action.CATALOG_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.REGULATION_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.SUGGESTION_SUBMIT: frozenset(Role),
    Action.SUGGESTION_HANDLE: frozenset({Role.UNIT_HEAD, Role.UNION_OFFICE}),
    Action.SUGGESTION_ANSWER: frozenset({Role.UNIT_HEAD, Role.DEPT_OFFICER, Role.TEAM_OFFICER}),
    Action.SUGGESTION_REVIEW: frozenset({Role.UNION_OFFICE}),
    Action.SUGGESTION_SEE_AUTHOR: frozenset({Role.UNIT_HEAD, Role.UNION_OFFICE, Role.SUPERVISION}),
    Action.PUBLICITY_OPEN: frozenset(
        {Role.UNIT_HEAD, Role.UNION_OFFICE, Role.DEPT_OFFICER, Role.TEAM_OFFICER}
    ),
    Action.OBJECTION_FILE: frozenset(Role),
    Action.OBJECTION_REVIEW: frozenset({Role.SUPERVISION}),
    Action.CALENDAR_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.REPORT_HANDLE: frozenset({Role.DISCIPLINE}),
    Action.SURVEY_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.SURVEY_RESULTS: frozenset({Role.UNION_OFFICE, Role.LEADERSHIP, Role.SUPERVISION}),
    Action.CONGRESS_VIEW: frozenset(Role),
    Action.CONGRESS_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.MOTION_PROPOSE: frozenset({Role.REPRESENTATIVE}),
    Action.MOTION_HANDLE: frozenset({Role.UNION_OFFICE}),
    Action.MOTION_ANSWER: frozenset({Role.UNIT_HEAD, Role.DEPT_OFFICER}),
    Action.PATROL_RECORD: frozenset({Role.REPRESENTATIVE, Role.UNION_OFFICE}),
    Action.MEETING_RECORD: frozenset(
        {Role.UNION_OFFICE, Role.UNIT_HEAD, Role.DEPT_OFFICER, Role.TEAM_OFFICER}
    ),
    Action.DIRECTOR_REPORT: frozenset({Role.EMPLOYEE_DIRECTOR}),
    Action.VOTE_MANAGE: frozenset({Role.UNION_OFFICE}),
    Action.VOTE_RECOUNT: frozenset({Role.SUPERVISION}),
    Action.COMPLIANCE_VIEW: frozenset({Role.UNION_OFFICE, Role.LEADERSHIP, Role.SUPERVISION}),
    Action.INSPECTION_MANAGE: frozenset({Role.SUPERVISION}),
    Action.RECTIFICATION_REPORT: frozenset({Role.UNIT_HEAD}),
    Action.RECTIFICATION_VERIFY: frozenset({Role.SUPERVISION}),
    Action.ASSESSMENT_MANAGE: frozenset({Role.SUPERVISION}),
    Action.ASSESSMENT_VIEW: frozenset(Role),
    Action.ACCOUNTABILITY_RECORD: frozenset({Role.SUPERVISION}),
    Action.ACCOUNTABILITY_VIEW: frozenset(
        {Role.SUPERVISION, Role.DISCIPLINE, Role.LEADERSHIP, Role.UNION_OFFICE}
    ),
}


# The level-by-level approval of a disclosure (层层把关), as data: the levels an item of a
# unit of each kind passes, in order. Each level is an action given by its holders on the
# item's own unit when that is of the level's kind, else on the nearest unit above of that
# kind: a team's item is approved by the team's head, then by its department's head; a
# department's by its head; a company's by its head and then by the leadership group.
# Nobody approves their own item. :func:`approval_chain` derives an item's steps from its
# unit's ancestors, and :func:`next_approvers` says who takes the next one: the same answer
# decides who may act, who is told and whose queue shows the item.
@dataclass(frozen=True)
class Level:
    action: Action
    kind: UnitKind


APPROVALS: dict[UnitKind, tuple[Level, ...]] = {
    UnitKind.COMPANY: (
        Level(Action.DISCLOSURE_APPROVE, UnitKind.COMPANY),
        Level(Action.DISCLOSURE_ENDORSE, UnitKind.COMPANY),
    ),
    UnitKind.DEPARTMENT: (Level(Action.DISCLOSURE_APPROVE, UnitKind.DEPARTMENT),),
    UnitKind.TEAM: (
        Level(Action.DISCLOSURE_APPROVE, UnitKind.TEAM),
        Level(Action.DISCLOSURE_APPROVE, UnitKind.DEPARTMENT),
    ),
}
APPROVAL_ACTIONS = frozenset(level.action for levels in APPROVALS.values() for level in levels)


@dataclass(frozen=True)
class ApprovalStep:
    """Step ``index`` of an item's chain: ``action`` by the holders on ``unit``; ``last``
    when no step follows."""

    index: int
    action: Action
    unit: OrgUnit
    last: bool


def approval_chain(unit: OrgUnit, chain: list[OrgUnit] | None = None) -> tuple[ApprovalStep, ...]:
    """The approval steps of an item of ``unit``. ``chain`` is the unit's ancestors, root
    first, ending with the unit (read when not given: one query)."""
    if chain is None:
        chain = list(OrgUnit.objects.ancestors_of(unit))
    found: list[tuple[Action, OrgUnit]] = []
    for level in APPROVALS[UnitKind(unit.kind)]:
        at = next((u for u in reversed(chain) if u.kind == level.kind), None)
        if at is not None:
            found.append((level.action, at))
    return tuple(
        ApprovalStep(i, action, at, i == len(found) - 1) for i, (action, at) in enumerate(found)
    )


def approval_after(
    unit: OrgUnit, approved: int, chain: list[OrgUnit] | None = None
) -> ApprovalStep | None:
    """The step an item of ``unit`` needs once it has ``approved`` approvals; None when it
    has them all."""
    steps = approval_chain(unit, chain)
    return steps[approved] if approved < len(steps) else None


# (unit id, action) → the active users who hold a role granting the action on that unit
# itself (not inherited from above).
HolderMap = dict[tuple[int, Action], set[int]]


def direct_holders(
    unit_ids: set[int] | list[int], actions: set[Action] | frozenset[Action]
) -> HolderMap:
    """Who holds each of ``actions`` directly on each of the units, in one query."""
    wanted = {role: [a for a in actions if role in RULES[a]] for role in Role}
    found: HolderMap = {}
    assigned = RoleAssignment.objects.filter(
        unit_id__in=unit_ids,
        unit__is_active=True,
        user__is_active=True,
        role__in=[role for role, acts in wanted.items() if acts],
    ).exclude(user__employee_no__startswith=SERVICE_NUMBER_PREFIX)  # not people: never asked
    rows = assigned.values_list("unit_id", "role", "user_id")
    for unit_id, role, user_id in rows:
        for action in wanted[Role(role)]:
            found.setdefault((unit_id, action), set()).add(user_id)
    return found


@dataclass(frozen=True)
class Approvers:
    """Who takes ``step``: the holders on the step's unit, or, when it has none (other than
    the author), those of the nearest unit above that has some, who then act for the missing
    level (``acting_for``), explicitly and with a reason."""

    step: ApprovalStep
    unit: OrgUnit | None  # whose holders act; None when nobody up the chain holds the action
    people: frozenset[int]

    @property
    def acting_for(self) -> bool:
        return self.unit is not None and self.unit.pk != self.step.unit.pk


def next_approvers(
    step: ApprovalStep,
    chain: list[OrgUnit],
    *,
    author_id: int | None,
    holding: HolderMap | None = None,
) -> Approvers:
    """Who takes ``step`` of an item written by ``author_id`` (``chain``: root → the item's
    unit). ``holding`` is :func:`direct_holders` of the chain when the caller has it."""
    above = [u for u in chain if step.unit.path.startswith(u.path)]  # root → step unit
    if holding is None:
        holding = direct_holders({u.pk for u in above}, {step.action})
    for unit in reversed(above):
        people = holding.get((unit.pk, step.action), set()) - {author_id}
        if people:
            return Approvers(step, unit, frozenset(people))
    return Approvers(step, None, frozenset())


def role_for(user: Any, action: Action | str, unit: OrgUnit) -> Role | None:
    """The role by which ``user`` may do ``action`` on ``unit``: their grant nearest to it."""
    allowed = RULES[Action(action)]
    grants = [
        g for g in grants_for(user).items if g.role in allowed and unit.path.startswith(g.path)
    ]
    return max(grants, key=lambda g: len(g.path)).role if grants else None


@dataclass(frozen=True)
class Grant:
    role: Role
    path: str


@dataclass(frozen=True)
class Grants:
    """A user's roles, loaded once per request (two queries) and cached on the user."""

    items: tuple[Grant, ...]

    def roles(self) -> set[Role]:
        return {g.role for g in self.items}

    def paths_for(self, action: Action) -> list[str]:
        allowed = RULES[action]
        return sorted({g.path for g in self.items if g.role in allowed})


NO_GRANTS = Grants(items=())


def grants_for(user: Any) -> Grants:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_GRANTS
    cached = getattr(user, "_policy_grants", None)
    if cached is not None:
        return cached
    items = [
        Grant(role=Role(a.role), path=a.unit.path)
        for a in user.role_assignments.select_related("unit").filter(unit__is_active=True)
    ]
    company = company_of(user.unit) if user.unit_id else None
    if company is not None:
        items.append(Grant(role=Role.EMPLOYEE, path=company.path))
    grants = Grants(items=tuple(items))
    user._policy_grants = grants
    return grants


def narrow_grants(user: Any, roots: list[str]) -> None:
    """For the rest of this request, ``user``'s grants hold only within the subtrees at
    ``roots`` (an API token scoped to units): a grant above a root holds from the root
    down, a grant inside one stays, any other is dropped. Never adds a grant."""
    kept: dict[Grant, None] = {}
    for grant in grants_for(user).items:
        for root in roots:
            if grant.path.startswith(root):
                kept[grant] = None
            elif root.startswith(grant.path):
                kept[Grant(role=grant.role, path=root)] = None
    user._policy_grants = Grants(items=tuple(kept))


def company_of(unit: OrgUnit) -> OrgUnit | None:
    """The nearest company at or above the unit."""
    if unit.kind == UnitKind.COMPANY:
        return unit
    chain = list(OrgUnit.objects.ancestors_of(unit).filter(kind=UnitKind.COMPANY))
    return chain[-1] if chain else None


def can(user: Any, action: Action | str, unit: OrgUnit | None = None) -> bool:
    """May ``user`` do ``action`` on ``unit``? Without a unit: may they do it anywhere?"""
    paths = grants_for(user).paths_for(Action(action))
    if unit is None:
        return bool(paths)
    return any(unit.path.startswith(path) for path in paths)


def holders(action: Action | str, unit: OrgUnit) -> QuerySet[User]:
    """The active users who may do ``action`` on ``unit``: the reverse of :func:`can`. They
    hold a role granting it on the unit or an ancestor (an active one, as in
    :func:`grants_for`), or, when the action is granted to every employee, belong to a
    company at or above the unit (their nearest company, as in :func:`company_of`)."""
    roles = RULES[Action(action)]
    granted = RoleAssignment.objects.filter(
        role__in=roles, unit_id__in=unit.path_ids, unit__is_active=True
    ).values("user_id")
    who = Q(pk__in=granted)
    if Role.EMPLOYEE in roles:
        companies = OrgUnit.objects.filter(pk__in=unit.path_ids, kind=UnitKind.COMPANY)
        top = companies.order_by("depth").first()
        if top is not None:
            # Everyone under the topmost company of the chain, except those whose nearest
            # company is off the chain (a sister company below it).
            members = Q(unit__path__startswith=top.path)
            others = (
                OrgUnit.objects.filter(kind=UnitKind.COMPANY, path__startswith=top.path)
                .exclude(pk__in=companies.values("pk"))
                .values_list("path", flat=True)
            )
            for path in others:
                members &= ~Q(unit__path__startswith=path)
            who |= members
    # Service accounts hold roles but are not people to tell or to ask.
    return User.objects.filter(who, is_active=True).exclude(
        employee_no__startswith=SERVICE_NUMBER_PREFIX
    )


def require(user: Any, action: Action | str, unit: OrgUnit | None = None) -> None:
    """Raise PermissionDenied (the 403 page) unless :func:`can` allows it."""
    if not can(user, action, unit):
        raise PermissionDenied


def visible_scope_paths(user: Any, action: Action | str) -> list[str]:
    """The subtree roots in which ``user`` may do ``action``, for filtering querysets by
    ``path__startswith``; redundant nested roots are dropped."""
    return subtree_roots(grants_for(user).paths_for(Action(action)))


def can_on_person(user: Any, action: Action | str, person: Any) -> bool:
    """May ``user`` do ``action`` on ``person``? Decided on the person's unit; a person with
    no unit (a platform account) is covered only by a grant on a top-level unit."""
    if person.unit is not None:
        return can(user, action, person.unit)
    return any(path.count("/") == 2 for path in grants_for(user).paths_for(Action(action)))


def require_on_person(user: Any, action: Action | str, person: Any) -> None:
    if not can_on_person(user, action, person):
        raise PermissionDenied


class PolicyGate:
    """The policy as the permission gate of ``gongkai.core.access``, for org and audit."""

    def can(self, user: Any, action: str, unit: Any = None) -> bool:
        return can(user, action, unit)

    def can_on_person(self, user: Any, action: str, person: Any) -> bool:
        return can_on_person(user, action, person)

    def scope_paths(self, user: Any, action: str) -> list[str]:
        return visible_scope_paths(user, action)


GATE = PolicyGate()


@dataclass(frozen=True)
class Holding:
    """Who holds an action on a unit (on it or a unit above it), and the nearest unit on
    its chain where someone does (None: nobody does)."""

    people: frozenset[int]
    nearest: int | None


def holders_by_unit(action: Action, paths: dict[int, str]) -> dict[int, Holding]:
    """:func:`holders` for many units at once, in one query: for each unit id of ``paths``
    (unit id → its path), the active users holding ``action`` on the unit or an active unit
    above it. Not for an action granted to every employee (that is not a list of people)."""
    if Role.EMPLOYEE in RULES[action]:
        raise ValueError(f"{action} is granted to every employee")
    chains = {pk: [int(p) for p in path.split(PATH_SEPARATOR) if p] for pk, path in paths.items()}
    direct = direct_holders({a for above in chains.values() for a in above}, {action})
    found = {}
    for pk, above in chains.items():
        people: set[int] = set()
        for unit_id in above:
            people |= direct.get((unit_id, action), set())
        nearest = next((a for a in reversed(above) if direct.get((a, action))), None)
        found[pk] = Holding(frozenset(people), nearest)
    return found

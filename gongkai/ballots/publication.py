"""The result of a closed vote, published as a disclosure of the company.

The result of a secret ballot is a count, not an administrative decision: there is nothing for
a unit head or the leadership to approve, and letting them hold it back would defeat the
purpose. So the union office's "publish" publishes it at once through the one publish
service (gongkai.disclosure.services.publish: revision, audit event, ledger, search index,
boards), in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.ballots.models import Grade, Poll, PollKind
from gongkai.disclosure.models import CatalogEntry, Disclosure
from gongkai.disclosure.services import DirectPublication, Source, publish

ENTRY_FOR_KIND = {PollKind.RESOLUTION: "resolutions", PollKind.EVALUATION: "evaluation-results"}


def turnout_text(poll: Poll, result: dict[str, Any]) -> str:
    if poll.session_id is not None:
        return _(
            "Representatives present: %(present)s of %(total)s. Ballots cast: %(ballots)s of "
            "%(electorate)s eligible (%(turnout)s%%)."
        ) % {
            "present": result["present"],
            "total": result["total"],
            "ballots": result["ballots"],
            "electorate": result["electorate"],
            "turnout": result["turnout_pct"],
        }
    return _("Ballots cast: %(ballots)s of %(electorate)s eligible (%(turnout)s%%).") % {
        "ballots": result["ballots"],
        "electorate": result["electorate"],
        "turnout": result["turnout_pct"],
    }


def result_table(poll: Poll, result: dict[str, Any]) -> dict[str, Any] | None:
    if poll.kind == PollKind.RESOLUTION:
        return {
            "columns": [
                _("Item"),
                _("For"),
                _("Against"),
                _("Abstain"),
                _("For, share of present (%)"),
                _("For, share of all (%)"),
                _("Passed or not"),
            ],
            "rows": [
                [
                    row["label"],
                    str(row["counts"]["for"]),
                    str(row["counts"]["against"]),
                    str(row["counts"]["abstain"]),
                    row["for_pct_present"],
                    row["for_pct_total"],
                    _("Passed") if row["passed"] else _("Not passed"),
                ]
                for row in result["items"]
            ],
        }
    if result.get("withheld"):
        return None
    columns = [_("Name"), _("Position")]
    columns += [str(label) for value, label in Grade.choices]
    columns += [_("Excellent + competent, %"), _("Weighted score"), _("Flag")]
    rows = []
    for row in result["items"]:
        rows.append(
            [
                row["label"],
                row["position"],
                *[str(row["counts"][value]) for value in Grade.values],
                row["good_rate"],
                row["weighted_score"] or "",
                _("Incompetent rate above %(threshold)s%%") % {"threshold": result["threshold"]}
                if row["flag"]
                else "",
            ]
        )
    return {"columns": columns, "rows": rows}


def title_format(poll: Poll) -> str:
    """The published title: voting results (表决结果) of a resolution, evaluation results
    (测评结果) of an evaluation — distinct strings, never one "results" for both."""
    if poll.kind == PollKind.RESOLUTION:
        return _("Voting results: %(title)s")
    return _("Evaluation results: %(title)s")


def publish_result(*, actor: User, poll: Poll, at: datetime | None = None) -> Disclosure:
    """Publish the result disclosure (inside the caller's transaction)."""
    result = poll.result or {}
    entry = CatalogEntry.objects.get(code=ENTRY_FOR_KIND[PollKind(poll.kind)])
    now = at or timezone.now()
    procedure = "<p>{}</p>".format(
        escape(
            _(
                "Secret electronic ballot organised by the union office; each eligible voter cast "
                "one ballot; the ballots were counted when the vote closed and can be recounted by "
                "the supervision group."
            )
        )
    )
    paragraphs = [turnout_text(poll, result)]
    if poll.kind == PollKind.EVALUATION and result.get("withheld"):
        paragraphs.append(
            _("Fewer than %(min)s ballots were cast; the per-person results are withheld.")
            % {"min": poll.min_ballots}
        )
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    item = DirectPublication(
        unit=poll.company,
        entry=entry,
        title=(title_format(poll) % {"title": poll.title})[:200],
        source=Source.BALLOTS,
        procedure=procedure,
        result=body,
        event_date=timezone.localdate(now),
        table=result_table(poll, result),
    )
    return publish(actor=actor, item=item, at=now)

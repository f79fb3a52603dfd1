"""The results of a closed survey as an .xlsx workbook (openpyxl)."""

from __future__ import annotations

from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from gongkai.disclosure.models import Satisfaction
from gongkai.surveys.selectors import SurveyResults, all_texts


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is quoted (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def results_workbook(results: SurveyResults) -> bytes:
    survey = results.survey
    book = Workbook()
    bold = Font(bold=True)

    sheet = book.active
    assert sheet is not None  # noqa: S101
    sheet.title = _("Response rate")[:31]
    sheet.append([_cell(survey.title)])
    sheet["A1"].font = bold
    sheet.append([_("Addressed to"), survey.unit.name])
    sheet.append([_("Dates"), f"{survey.starts_on} – {survey.ends_on}"])
    sheet.append([])
    sheet.append([_("Unit"), _("Eligible"), _("Respondents"), _("Response rate (%)")])
    for cell in sheet[5]:
        cell.font = bold
    for rate in results.rates:
        sheet.append(
            ["　" * rate.unit.depth + rate.unit.name, rate.eligible, rate.respondents,
             _pct(rate.rate)]
        )  # fmt: skip

    scale = [str(label) for _v, label in Satisfaction.choices]
    ratings = book.create_sheet(_("Ratings")[:31])
    header = [_("Unit"), _("Pooled units"), _("Respondents"), _("Question"), *scale,
              _("Satisfied or basically (%)"), _("Score (0–100)")]  # fmt: skip
    ratings.append(header)
    for cell in ratings[1]:
        cell.font = bold
    if results.overall is None:
        ratings.append(
            [_("Withheld: fewer than %(n)s respondents.") % {"n": results.min_respondents}]
        )
    else:
        for bucket in [results.overall, *results.buckets]:
            label = _("All respondents") if bucket is results.overall else bucket.unit.name
            pooled = "、".join(u.name for u in bucket.pooled)
            for q in bucket.questions:
                ratings.append(
                    [label, pooled, bucket.respondents, _cell(q.question.text),
                     *[q.counts.get(v, 0) for v in Satisfaction.values],
                     _pct(q.content_pct), _pct(q.score)]
                )  # fmt: skip

    texts = book.create_sheet(_("Free text")[:31])
    texts.append([_("Question"), _("Answer (in random order)")])
    for cell in texts[1]:
        cell.font = bold
    if results.overall is not None:
        for question, _shown, _count in results.texts:
            for text in all_texts(survey, question):
                texts.append([_cell(question.text), _cell(text)])

    out = BytesIO()
    book.save(out)
    return out.getvalue()

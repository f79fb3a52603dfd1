"""The results of a closed survey as an .xlsx workbook (gongkai.core.spreadsheets)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from gongkai.core.satisfaction import Satisfaction
from gongkai.core.spreadsheets import XlsxWorkbook
from gongkai.surveys.selectors import SurveyResults, all_texts


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def results_workbook(results: SurveyResults) -> bytes:
    survey = results.survey
    book = XlsxWorkbook()

    sheet = book.sheet(_("Response rate"))
    sheet.append([survey.title], bold=True)
    sheet.append([_("Addressed to"), survey.unit.name])
    sheet.append([_("Dates"), f"{survey.starts_on} – {survey.ends_on}"])
    sheet.append([])
    sheet.append([_("Unit"), _("Eligible"), _("Respondents"), _("Response rate (%)")], bold=True)
    for rate in results.rates:
        sheet.append(
            ["　" * rate.unit.depth + rate.unit.name, rate.eligible, rate.respondents,
             _pct(rate.rate)]
        )  # fmt: skip

    scale = [str(label) for _v, label in Satisfaction.choices]
    ratings = book.sheet(_("Ratings"))
    header = [_("Unit"), _("Pooled units"), _("Respondents"), _("Question"), *scale,
              _("Satisfied or basically (%)"), _("Score (0–100)")]  # fmt: skip
    ratings.append(header, bold=True)
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
                    [label, pooled, bucket.respondents, q.question.text,
                     *[q.counts.get(v, 0) for v in Satisfaction.values],
                     _pct(q.content_pct), _pct(q.score)]
                )  # fmt: skip

    texts = book.sheet(_("Free text"))
    texts.append([_("Question"), _("Answer (in random order)")], bold=True)
    if results.overall is not None:
        for question, _shown, _count in results.texts:
            for text in all_texts(survey, question):
                texts.append([question.text, text])
    return book.to_bytes()

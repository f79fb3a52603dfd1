"""gongkai.core.ballotbox on its own: "has voted" under the UNIQUE constraint, boxes nobody
reads without the key, the move in a random order that empties the holding table and keeps
other owners' boxes, and the verification. Exercised here over the surveys' tables (an
auto-increment participation key; the ballots' tests cover a UUID one)."""

from __future__ import annotations

import pytest
from django.db import connection

from gongkai.core import holding, secretbox
from gongkai.core.ballotbox import BallotBox, encode, padded_length
from gongkai.surveys.models import Answer, BoxedAnswer, Participation, QuestionKind, Survey
from tests.conftest import Org
from tests.test_surveys import fixed_day, make_survey  # noqa: F401

BOX = BallotBox(
    purpose="tests.ballotbox",
    participation=Participation,
    held=BoxedAnswer,
    final=Answer,
    owner="survey",
)


def rows(survey: Survey, unit_id: int):
    question = survey.questions.get(kind=QuestionKind.TEXT)

    def build(content: dict) -> list[Answer]:
        return [
            Answer(survey=survey, question=question, unit_id=unit_id, rating="", text=t)
            for t in content["t"]
        ]

    return build


def test_padded_length_and_encoding():
    assert padded_length(0) == 64 and padded_length(59) == 64 and padded_length(60) == 128
    data = encode({"b": "长", "a": 1}, 64)
    assert len(data) == 64 and secretbox.unpad(data) == '{"a":1,"b":"长"}'.encode()
    with pytest.raises(ValueError, match="longer"):
        encode({"t": "x" * 100}, 64)


def test_participate_once_then_false(org: Org):
    survey = make_survey(org)
    user, unit = org["employee"], org["employee"].unit_id
    assert BOX.participate(survey.pk, user.pk, unit=unit) is True
    assert BOX.participate(survey.pk, user.pk, unit=unit) is False  # the transaction lives on
    assert Participation.objects.filter(survey=survey, user=user).count() == 1


def test_boxes_are_unreadable_of_one_length_and_bound_to_their_owner(org: Org):
    survey, other = make_survey(org), make_survey(org)
    BOX.hold(survey.pk, [({"t": ["secret-words"]}, 256), ({"t": ["x"]}, 256)])
    boxes = [bytes(b) for b in BOX.held_rows(survey.pk).values_list("box", flat=True)]
    assert len(boxes) == 2 and len({len(b) for b in boxes}) == 1
    assert not any(b"secret-words" in b for b in boxes)
    assert sorted(BOX.open_box(survey.pk, b)["t"][0] for b in boxes) == ["secret-words", "x"]
    with pytest.raises(secretbox.BoxError):
        BOX.open_box(other.pk, boxes[0])  # another owner's key
    with pytest.raises(secretbox.BoxError):
        BallotBox("tests.other", Participation, BoxedAnswer, Answer, "survey").open_box(
            survey.pk, boxes[0]
        )


def test_move_shuffles_empties_and_keeps_other_owners_boxes(org: Org):
    survey, other = make_survey(org), make_survey(org)
    unit = org.company.pk
    texts = [f"t{i:03d}" for i in range(60)]
    BOX.hold(survey.pk, [({"t": [t]}, 128) for t in texts])
    BOX.hold(other.pk, [({"t": ["kept"]}, 128)])
    before = BOX.move(survey.pk, rows(survey, unit))
    BOX.verify(survey.pk, before)
    written = list(
        Answer.objects.filter(survey=survey).order_by("id").values_list("text", flat=True)
    )
    assert sorted(written) == texts and written != texts  # all moved, in a random order
    assert not BOX.held_rows(survey.pk).exists()
    kept = [bytes(b) for b in BOX.held_rows(other.pk).values_list("box", flat=True)]
    assert [BOX.open_box(other.pk, b)["t"] for b in kept] == [["kept"]]
    # Idempotent: nothing left, nothing moved.
    BOX.seal(survey.pk, rows(survey, unit), what="Moving again")
    assert Answer.objects.filter(survey=survey).count() == 60
    if connection.vendor == "postgresql":
        assert holding.storage(BoxedAnswer) != before  # TRUNCATE: a new file


def test_verify_refuses_a_box_left_behind(org: Org):
    survey = make_survey(org)
    BOX.hold(survey.pk, [({"t": ["late"]}, 64)])
    with pytest.raises(holding.HoldingError, match="1 boxes still in surveys_boxedanswer"):
        BOX.verify(survey.pk, holding.storage(BoxedAnswer))

"""The sealed box a cast ballot is held in while its vote is open (gongkai.core.secretbox).

Content: ``{"g": rater group id or null, "c": {"<item id>": choice}}`` as compact JSON, padded
to one length for the whole poll — computed from the item ids and the longest value on the
scale, so that neither the group nor any choice shows in the length of the box. The key is
derived from SECRET_KEY and the poll's id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from gongkai.ballots.models import Choice, Grade, PollKind
from gongkai.core import secretbox

PURPOSE = "ballots.pending"
_GROUP_DIGITS = 20  # a bigint with its sign


def box_length(kind: str, item_ids: Iterable[str]) -> int:
    """The padded length of every ballot of a poll with these items (a multiple of 64)."""
    scale = Choice.values if kind == PollKind.RESOLUTION else Grade.values
    longest = max(len(v) for v in scale)
    size = len('{"g":,"c":{}}') + _GROUP_DIGITS + 4  # + the length prefix
    size += sum(len(key) + len('"":"",') + longest for key in item_ids)
    return 64 * (size // 64 + 1)


def seal(poll_id: int, kind: str, group_id: int | None, choices: dict[str, str]) -> bytes:
    data = json.dumps({"g": group_id, "c": choices}, separators=(",", ":"), sort_keys=True)
    length = box_length(kind, choices.keys())
    return secretbox.seal(PURPOSE, str(poll_id), secretbox.pad(data.encode(), length))


def open_ballot(poll_id: int, box: bytes) -> tuple[int | None, dict[str, str]]:
    """(rater group id, choices) of a box. Raises secretbox.BoxError."""
    content = json.loads(secretbox.unpad(secretbox.open_box(PURPOSE, str(poll_id), box)))
    return content["g"], content["c"]

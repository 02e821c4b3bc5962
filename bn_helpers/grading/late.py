"""Due dates and late penalties, configured in ``nbgrader_config.py``.

nbgrader decides *how late* a submission is: the submission's time (the
``timestamp.txt`` that ``nbgrader collect`` and ``zip_collect`` write beside it)
minus the assignment's due date in the gradebook, plus any extension given to
the student. This module decides *what lateness costs*, as an nbgrader
late-submission plugin, and writes the due dates of the configuration into the
gradebook so that nbgrader, the formgrader, ``nbgrader export`` and
``python -m bn_helpers.grading`` all see the same ones::

    c.AssignLatePenalties.plugin_class = "bn_helpers.grading.late.LatePenalty"
    c.LatePenalty.due_dates = {"02_forward": "2025-03-14 23:59:00 Europe/Berlin"}
    c.LatePenalty.per_day = 0.1          # 10 % of the score per started day late
    c.LatePenalty.grace_minutes = 15     # up to 15 minutes late counts as on time
    c.LatePenalty.zero_after_days = 7    # more than 7 days late scores 0 (0: never)

A time without a zone is UTC (nbgrader's rule). With ``per_day = 0`` (the
default) a late submission keeps its full score; its lateness is still shown.
"""
from __future__ import annotations

import datetime as _dt
import math

from nbgrader.plugins import BasePlugin
from traitlets import Dict, Float, Unicode

__all__ = ["LatePenalty", "parse_time", "describe_lateness"]

DAY = 86400.0


def parse_time(text: str | _dt.datetime | None) -> _dt.datetime | None:
    """A due date or a timestamp as nbgrader stores it: naive UTC (``None`` stays ``None``).

    Accepts what nbgrader's ``timestamp.txt`` holds (``2025-03-14 23:59:00 Europe/Berlin``,
    ``2025-03-14 23:59:00 +0100``) and ISO 8601 (``2025-03-14T23:59:00+01:00``); a
    time without a zone is UTC.

    Raises
    ------
    ValueError
        If the text is not a date and time.
    """
    from nbgrader.utils import parse_utc

    if text is None or text == "":
        return None
    try:
        return parse_utc(text)
    except (ValueError, OverflowError, TypeError) as exc:
        raise ValueError(f"not a date and time: {text!r} ({exc})") from None


class LatePenalty(BasePlugin):
    """nbgrader's late-submission plugin for this course: a share of the score per started day late."""

    due_dates = Dict(
        key_trait=Unicode(), value_trait=Unicode(), default_value={},
        help="Due date of each assignment, e.g. {'02_forward': '2025-03-14 23:59:00 Europe/Berlin'}; "
             "a time without a zone is UTC. An assignment not listed keeps the due date the gradebook "
             "has (none, or one set with `nbgrader db assignment add NAME --duedate=...`).",
    ).tag(config=True)

    per_day = Float(
        0.0, min=0.0, max=1.0,
        help="Share of the submission's score lost per started day late (0.1 = 10 %); 0 = no penalty.",
    ).tag(config=True)

    grace_minutes = Float(0.0, min=0.0, help="A submission this many minutes late or less counts as on time.").tag(
        config=True)

    zero_after_days = Float(
        0.0, min=0.0, help="A submission more than this many days late scores 0; 0 = never.",
    ).tag(config=True)

    def days_late(self, seconds_late: float) -> int:
        """Started days late, after the grace period (0 when on time)."""
        seconds = float(seconds_late or 0.0) - 60.0 * self.grace_minutes
        return 0 if seconds <= 0 else math.ceil(seconds / DAY - 1e-12)

    def penalty(self, score: float | None, seconds_late: float) -> float:
        """Points a submission scoring ``score`` loses for being ``seconds_late`` late (0 <= penalty <= score)."""
        score = float(score or 0.0)
        days = self.days_late(seconds_late)
        if days == 0 or score <= 0:
            return 0.0
        if self.zero_after_days and seconds_late - 60.0 * self.grace_minutes > self.zero_after_days * DAY:
            return score
        return round(min(score, score * self.per_day * days), 6)

    def due_date(self, assignment: str) -> _dt.datetime | None:
        """The configured due date of ``assignment`` (naive UTC), or ``None`` if it has none here.

        Raises
        ------
        ValueError
            If the configured text is not a date and time.
        """
        text = self.due_dates.get(assignment)
        try:
            return parse_time(text)
        except ValueError as exc:
            raise ValueError(f"c.LatePenalty.due_dates[{assignment!r}]: {exc}") from None

    # nbgrader's plugin interface (AssignLatePenalties calls it for each late notebook)
    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        penalty = self.penalty(score, total_seconds_late)
        self.log.info("Late by %.0f s (%d started days after grace): penalty %g of %g",
                      total_seconds_late, self.days_late(total_seconds_late), penalty, score or 0.0)
        return penalty


def describe_lateness(seconds_late: float) -> str:
    """``"1 d 2 h"``, ``"3 h 5 min"``, ``"40 s"``; ``""`` when on time."""
    seconds = int(round(seconds_late or 0))
    if seconds <= 0:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else f"{secs} s"

"""The funder return: per school, for a period, the pupils tutored, the hours they attended
(exact and rounded to the nearest half hour per pupil, as the school census asked), the total
spend and the school's own contribution to it (``costs.school_share`` of each group's cost,
at its programme's ``school_contribution_percent``). Every number is ``figures``'s."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from sqlalchemy import select

from lms.organisations.models import School
from lms.platform.extensions import db
from lms.platform.spreadsheets import XLSX_TYPE, csv_chunks, write_xlsx
from lms.tutoring.figures import Coverage, Period, Row, tutoring_figures

FORMATS = ("csv", "xlsx")
HEADINGS = ["School", "URN", "Pupils tutored", "Disadvantaged pupils tutored",
            "Hours attended", "Hours attended (each pupil's to the nearest half hour)",
            "Sessions delivered", "Total spend (£)", "School's own contribution (£)",
            "Funded (£)"]


@dataclass(frozen=True)
class FunderReturn:
    title: str
    period: Period
    #: ``(school, its figures)``, by school name.
    schools: list[tuple[School, Row]]
    total: Row


def funder_return(coverage: Coverage, period: Period) -> FunderReturn:
    figures = tutoring_figures(coverage, period, weeks=False, splits=("school",))
    rows = figures.rows("school")
    schools = {s.id: s for s in db.session.scalars(
        select(School).where(School.id.in_([int(r.key) for r in rows])))} if rows else {}
    return FunderReturn(coverage.title, period,
                        [(schools[int(r.key)], r) for r in rows if int(r.key) in schools],
                        figures.overall)


def _pounds(pence: float | None) -> str:
    return f"{(pence or 0) / 100:.2f}"


def _line(name: str, urn: str, row: Row) -> list[str]:
    cost, share = row.cost_pence or 0, row.school_share_pence or 0
    return [name, urn, str(row.pupils), str(row.disadvantaged_pupils), f"{row.hours:.1f}",
            f"{row.rounded_hours:.1f}", str(row.delivered or 0), _pounds(cost), _pounds(share),
            _pounds(cost - share)]


def lines(data: FunderReturn) -> list[list[str]]:
    """The return's rows: one a school, then the total."""
    return [*(_line(school.name, school.urn, row) for school, row in data.schools),
            _line("Total", "", data.total)]


def write(data: FunderReturn, fmt: str) -> tuple[bytes, str]:
    """The file's bytes and media type."""
    if fmt == "csv":
        return "".join(csv_chunks(HEADINGS, lines(data))).encode(), "text/csv"
    out = io.BytesIO()
    write_xlsx(out, sheet="Funder return", headings=HEADINGS, rows=lines(data),
               title=f"Tutoring funder return: {data.title}, {data.period.label}")
    return out.getvalue(), XLSX_TYPE


def filename(data: FunderReturn, fmt: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", data.title.lower()).strip("-")[:60] or "tutoring"
    return (f"funder-return-{slug}-{data.period.start:%Y-%m-%d}-to-"
            f"{data.period.end:%Y-%m-%d}.{fmt}")


__all__ = ["FunderReturn", "funder_return", "lines", "write", "filename", "HEADINGS", "FORMATS"]

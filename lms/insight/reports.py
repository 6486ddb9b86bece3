"""The trustees' termly board report: a trust's figures for a period, the period before it for
comparison, today's register and the period's exceptions, as a page and as a PDF.

Every figure comes from the dashboards' own functions (``lms.insight.figures`` and
``action_lists``; the cohort of a period is ``Filters`` with
``nominated_from``/``nominated_to``), so the report, the dashboards and their exports cannot
disagree. This module only chooses the periods, arranges the figures and prints them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fpdf import FPDF
from fpdf.fonts import FontFace

from lms.insight import action_lists, figures, scopes
from lms.insight.action_lists import EXCEPTION_ACTIONS, ExceptionItem, RegisterCompliance
from lms.insight.figures import PassRate, StageCount
from lms.insight.scopes import Filters, Scope
from lms.platform.errors import DomainError
from lms.platform.pdf import body_font
from lms.safeguarding import figures as safeguarding_figures
from lms.tutoring import impact
from lms.tutoring.figures import Period as TutoringPeriod
from lms.tutoring.models import ImpactReview

#: The longest period one report may cover, and the earliest day one may start.
MAX_PERIOD_MONTHS = 24
EARLIEST = date(2000, 1, 1)

#: The sections, with the same headings on the page and in the PDF.
HEADINGS = {
    "headline": "Headline figures",
    "pipeline": "Pipeline of the candidates nominated in the period",
    "pass_rates": "Pass rates by pathway",
    "register": "Register and safeguarding compliance",
    "exceptions": "Exceptions",
    "tutoring": "Tutoring delivery",
    "safeguarding": "Safeguarding concerns",
}

#: What the figures count, said on the page and in the PDF.
EXPLANATION = ("The figures for each period count the candidates nominated in it, at the stage "
               "they have reached today. The register and safeguarding figures are today's.")

#: An empty figure: nothing to count (no attempts taken, nobody endorsed).
NO_FIGURE = "–"


# --- periods -----------------------------------------------------------------------------------


def _term(day: date) -> tuple[str, date, date]:
    """The English school term a day falls in: autumn 1 September–31 December, spring
    1 January–31 March, summer 1 April–31 August (holidays belong to the term before)."""
    if day.month >= 9:
        return "Autumn", date(day.year, 9, 1), date(day.year, 12, 31)
    if day.month <= 3:
        return "Spring", date(day.year, 1, 1), date(day.year, 3, 31)
    return "Summer", date(day.year, 4, 1), date(day.year, 8, 31)


def default_period(today: date) -> tuple[date, date]:
    """The whole of the current term (its end may be after today)."""
    _, start, end = _term(today)
    return start, end


def term_so_far(today: date) -> tuple[date, date]:
    """The current term up to today: what a report asked for with no dates covers."""
    start, end = default_period(today)
    return start, min(end, today)


def previous_term(day: date) -> tuple[date, date]:
    """The whole of the term before the one ``day`` falls in."""
    start, _ = default_period(day)
    return default_period(start - timedelta(days=1))


def _add_months(day: date, months: int) -> date:
    from credentials.register.derivation import add_months

    return add_months(day, months)


def day_label(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def check_period(start: date, end: date, today: date) -> None:
    """A report covers days that have happened, in order, at most two years of them."""
    if start < EARLIEST:
        raise DomainError(f"The start date must be on or after {day_label(EARLIEST)}", "start")
    if start > today:
        raise DomainError("The start date must be today or in the past", "start")
    if end > today:
        raise DomainError("The end date must be today or in the past: the report covers what "
                          "has already happened", "end")
    if end < start:
        raise DomainError("The end date must be the same as or after the start date", "end")
    if end >= _add_months(start, MAX_PERIOD_MONTHS):
        raise DomainError("The period must be 2 years or shorter", "end")


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return f"{day_label(self.start)} to {day_label(self.end)}"

    @property
    def term(self) -> str | None:
        """The term's name when the period is a term, or a term so far."""
        name, start, end = _term(self.start)
        if self.start != start or self.end > end:
            return None
        return f"{name} term {start.year}" + ("" if self.end == end else " so far")

    def before(self) -> Period:
        """The period of the same length immediately before this one."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    @property
    def filters(self) -> Filters:
        """The dashboards' filters for the cohort nominated in this period."""
        return Filters(nominated_from=self.start, nominated_to=self.end)


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """One period's headline figures, for the candidates nominated in it."""

    nominated: int
    endorsed: int
    approved: int
    median_days: float | None
    first_pass_rate: float | None
    second_pass_rate: float | None


#: The headline rows: attribute of ``Headline``, label, unit.
HEADLINE_ROWS = (
    ("nominated", "Candidates nominated", "count"),
    ("endorsed", "Endorsed", "count"),
    ("approved", "Approved on the register", "count"),
    ("median_days", "Median days from nomination to endorsement", "days"),
    ("first_pass_rate", "First-attempt pass rate", "percent"),
    ("second_pass_rate", "Second-attempt pass rate", "percent"),
)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def format_value(value: float | None, unit: str = "count") -> str:
    """A figure as the page and the PDF both show it."""
    if value is None:
        return NO_FIGURE
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "pounds":
        return f"£{value:,.2f}"
    if unit == "days":
        return f"{_number(value)} day{'' if value == 1 else 's'}"
    return _number(value)


def format_change(change: float | None, unit: str = "count") -> str:
    """A change between periods: signed, rates in percentage points."""
    if change is None:
        return NO_FIGURE
    if change == 0:
        return "No change"
    sign = "+" if change > 0 else "−"
    size = abs(change)
    if unit == "percent":
        return f"{sign}{size:.1f} points"
    if unit == "pounds":
        return f"{sign}£{size:,.2f}"
    if unit == "days":
        return f"{sign}{_number(size)} day{'' if size == 1 else 's'}"
    return f"{sign}{_number(size)}"


@dataclass(frozen=True)
class Figure:
    """A headline figure in both periods."""

    label: str
    current: float | None
    previous: float | None
    unit: str

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 1)

    @property
    def shown(self) -> tuple[str, str, str]:
        """This period, the previous one, and the change, as printed."""
        return (format_value(self.current, self.unit), format_value(self.previous, self.unit),
                format_change(self.change, self.unit))


@dataclass(frozen=True)
class ExceptionCount:
    kind: str
    current: int
    previous: int


@dataclass(frozen=True)
class BoardReport:
    title: str
    trust_id: int | None
    period: Period
    previous_period: Period
    prepared_on: date
    #: When the pipeline figures were last rebuilt from the live records.
    built_at: datetime | None
    current: Headline
    previous: Headline
    #: Where each candidate nominated in the period is now, every stage.
    pipeline: tuple[StageCount, ...]
    #: Per pathway, then all pathways together (the period's cohort).
    pass_rates: tuple[PassRate, ...]
    #: Today's register, not the period's.
    register: RegisterCompliance
    exceptions: tuple[ExceptionItem, ...]
    exception_counts: tuple[ExceptionCount, ...]
    #: The trust's tutoring in the period, and the impact decisions made in it.
    tutoring: impact.BoardSection | None = None
    #: Counts and timings of the trust's safeguarding concerns: (label, this period, previous).
    safeguarding: tuple[tuple[str, str, str], ...] | None = None

    @property
    def cohort(self) -> int:
        return self.current.nominated

    @property
    def built_at_label(self) -> str | None:
        """When the pipeline figures were built, in England's time (for the page only: the
        PDF stays the same all day)."""
        from lms.platform.clock import LONDON

        if self.built_at is None:
            return None
        moment = self.built_at.astimezone(LONDON)
        return f"{moment:%H:%M} on {day_label(moment.date())}"

    @property
    def headline(self) -> tuple[Figure, ...]:
        return tuple(Figure(label, getattr(self.current, key), getattr(self.previous, key),
                            unit) for key, label, unit in HEADLINE_ROWS)

    @property
    def register_dues(self) -> list[tuple[str, int, int]]:
        """What is overdue and what falls due within 30 days."""
        r = self.register
        return [("DBS checks", r.dbs_overdue, r.dbs_due_soon),
                ("Safeguarding training", r.training_overdue, r.training_due_soon)]


def _figures(scope: Scope, period: Period) -> tuple[Headline, figures.Pipeline,
                                                      list[PassRate]]:
    filters = period.filters
    cohort = figures.pipeline(scope, filters)
    rates = figures.pass_rates_of(cohort)
    overall = rates[-1]
    headline = Headline(cohort.total, cohort.overall.endorsed, cohort.overall.approved,
                        figures.median_days_to_endorsement(scope, filters),
                        overall.first_rate, overall.second_rate)
    return headline, cohort, rates


def board_report(scope: Scope, start: date, end: date, now: datetime | None = None
                 ) -> BoardReport:
    """The report on a whole trust (or several) for ``start``–``end`` (UK dates), against the
    period of the same length just before it. Brings the pipeline records up to date first,
    as the dashboards do."""
    from lms.insight import pipeline as records
    from lms.platform import clock

    if scope.school_ids is not None:
        raise DomainError("The board report covers a whole trust")
    now = now or clock.now()
    today = clock.today(now)
    check_period(start, end, today)
    period = Period(start, end)
    previous = period.before()
    trusts = scopes.trust_ids_of(scope, Filters())
    records.refresh(trusts, now=now)
    current, cohort, rates = _figures(scope, period)
    before, _, _ = _figures(scope, previous)
    found = action_lists.exceptions(trusts, period.start, period.end)
    earlier = Counter(e.kind for e in action_lists.exceptions(trusts, previous.start,
                                                            previous.end))
    now_counts = Counter(e.kind for e in found)
    return BoardReport(
        title=scope.title, trust_id=scope.trust.id if scope.trust else None, period=period,
        previous_period=previous, prepared_on=today, built_at=records.built_at(trusts),
        current=current, previous=before, pipeline=tuple(cohort.stages),
        pass_rates=tuple(rates),
        register=action_lists.register_compliance(scope, Filters(), now),
        exceptions=tuple(found),
        exception_counts=tuple(ExceptionCount(kind, now_counts[kind], earlier[kind])
                               for kind in EXCEPTION_ACTIONS.values()),
        tutoring=impact.board_section(scope.trust, TutoringPeriod(period.start, period.end),
                                      TutoringPeriod(previous.start, previous.end))
        if scope.trust is not None else None,
        safeguarding=tuple(safeguarding_figures.board_rows(
            scope.trust.id, (period.start, period.end), (previous.start, previous.end)))
        if scope.trust is not None else None)


#: The tutoring rows: label, ``figures.Row`` attribute, unit (for ``format_value``).
TUTORING_ROWS = (
    ("Sessions delivered", "delivered", "count"),
    ("Sessions cancelled", "cancelled", "count"),
    ("Pupils tutored", "pupils", "count"),
    ("Disadvantaged pupils (share of those tutored)", "disadvantaged_percent", "percent"),
    ("Hours attended per pupil", "hours_per_pupil", "count"),
    ("Attendance", "attendance_percent", "percent"),
    ("Pupils at or above target", "at_target_percent", "percent"),
    ("Cost per attended hour", "cost_per_attended_hour", "pounds"),
)


def tutoring_figures(report: BoardReport) -> tuple[Figure, ...]:
    """The tutoring headline figures in both periods (``lms.tutoring.figures``)."""
    section = report.tutoring
    return tuple(Figure(label, getattr(section.current, key), getattr(section.previous, key),
                        unit) for label, key, unit in TUTORING_ROWS)


def tutoring_programme_rows(report: BoardReport) -> list[list[str]]:
    return [[r.label, format_value(r.pupils), format_value(r.hours_per_pupil),
             format_value(r.attendance_percent, "percent"),
             format_value(r.at_target_percent, "percent"),
             format_value(r.cost_per_attended_hour, "pounds")]
            for r in report.tutoring.programmes]


def exception_day(item) -> date:
    """The day in England an exception (or an impact decision) was decided."""
    from lms.platform.clock import LONDON

    moment = item.decided_at if isinstance(item, ImpactReview) else item.at
    return moment.astimezone(LONDON).date()


# --- the PDF -----------------------------------------------------------------------------------


class _ReportPdf(FPDF):
    """A4 portrait, black on white, ruled tables, a page number on every page."""

    def __init__(self, title: str, prepared_on: date) -> None:
        super().__init__(orientation="portrait", format="A4")
        self.family, fold = body_font(self)
        # The report's dashes and minus signs, which Latin-1 lacks, print as hyphens.
        self.clean = (lambda text: fold(text.replace("–", "-").replace("−", "-"))) if fold \
            else str
        self.report_title = title
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=20)
        self.alias_nb_pages()
        self.set_title(title)
        self.set_creator("Tutor Endorsement Platform")
        # Fixed to the report's date, so the same records print the same bytes that day.
        self.set_creation_date(datetime.combine(prepared_on, time(), UTC))

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(self.family, "", 8)
        self.cell(0, 5, self.clean(f"{self.report_title} · page {self.page_no()} of {{nb}}"),
                  align="C")

    def line_of(self, text: str, size: float = 10, *, bold: bool = False, gap: float = 1.5
                ) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, self.clean(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 60:  # keep a heading with the start of its table
            self.add_page()
        self.ln(4)
        self.line_of(text, 13, bold=True, gap=2)

    def ruled_table(self, rows: list[list[str]], widths: tuple[float, ...], *,
                    figures: bool = True) -> None:
        """The first row is the heading; with ``figures``, the columns after the first are
        numbers and right-aligned."""
        self.set_font(self.family, "", 9)
        align = ("LEFT",) + ("RIGHT" if figures else "LEFT",) * (len(widths) - 1)
        with self.table(col_widths=widths, width=sum(widths), align="LEFT",
                        text_align=align, borders_layout="HORIZONTAL_LINES",
                        line_height=5.5, padding=(1, 1.5),
                        headings_style=FontFace(emphasis="BOLD")) as table:
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(self.clean(value))
        self.ln(2)


def board_report_pdf(report: BoardReport) -> bytes:
    """The report as a printable PDF: the same sections and figures as the page."""
    title = f"Board report: {report.title}"
    pdf = _ReportPdf(title, report.prepared_on)
    pdf.add_page()
    pdf.line_of(title, 18, bold=True, gap=2)
    period = report.period
    pdf.line_of(period.label + (f" ({period.term})" if period.term else ""), 12, bold=True)
    pdf.line_of(f"Compared with the previous {report.previous_period.days} days, "
                f"{report.previous_period.label}.")
    pdf.line_of(f"Prepared on {day_label(report.prepared_on)} from the platform's records.")
    pdf.line_of(EXPLANATION, 9, gap=1)

    pdf.heading(HEADINGS["headline"])
    pdf.ruled_table([["Figure", "This period", "Previous period", "Change"]]
                    + [[f.label, *f.shown] for f in report.headline], (80, 30, 32, 32))

    pdf.heading(HEADINGS["pipeline"])
    pdf.line_of(f"{report.cohort} candidate{'' if report.cohort == 1 else 's'} nominated "
                f"from {period.label}, by the stage each is at today.", 9)
    pdf.ruled_table([["Stage", "Candidates", "Share"]]
                    + [[s.stage.label, format_value(s.count), format_value(s.percent,
                                                                            "percent")]
                       for s in report.pipeline]
                    + [["Total", format_value(report.cohort), ""]], (104, 35, 35))

    pdf.heading(HEADINGS["pass_rates"])
    pdf.ruled_table([["Pathway", "First attempts", "Passed", "Pass rate", "Second attempts",
                      "Passed", "Pass rate"]]
                    + [[r.label, format_value(r.first_taken),
                        format_value(r.first_passed), format_value(r.first_rate, "percent"),
                        format_value(r.second_taken), format_value(r.second_passed),
                        format_value(r.second_rate, "percent")] for r in report.pass_rates],
                    (30, 29, 20, 22, 34, 18, 21))

    pdf.heading(HEADINGS["register"])
    pdf.line_of(f"The register as it stands today, {day_label(report.prepared_on)}: today's "
                "register, not the period's.", 9)
    register = report.register
    pdf.ruled_table([["Status", "Tutors"]]
                    + [[label, format_value(n)] for label, n in report.register.by_status]
                    + [["Listed (not removed)", format_value(register.listed)],
                       ["Approved, of those listed",
                        format_value(register.approved_percent, "percent")]], (120, 54))
    pdf.ruled_table([["Check", "Overdue", f"Due within {scopes.DUE_SOON_DAYS} days"]]
                    + [[what, format_value(late), format_value(soon)]
                       for what, late, soon in report.register_dues], (94, 30, 50))

    pdf.heading(HEADINGS["exceptions"])
    pdf.ruled_table([["Kind", "This period", "Previous period"]]
                    + [[c.kind, format_value(c.current), format_value(c.previous)]
                       for c in report.exception_counts], (104, 35, 35))
    if report.exceptions:
        pdf.ruled_table([["Date", "Kind", "Reason"]]
                        + [[day_label(exception_day(e)), e.kind, e.reason or "No reason recorded"]
                           for e in report.exceptions], (32, 48, 94), figures=False)
    else:
        pdf.line_of("No exceptions were recorded in the period.")
    if report.tutoring is not None:
        _tutoring_pdf(pdf, report)
    if report.safeguarding is not None:
        pdf.heading(HEADINGS["safeguarding"])
        pdf.line_of(SAFEGUARDING_NOTE, 9)
        pdf.ruled_table([["Figure", "This period", "Previous period"]]
                        + [list(row) for row in report.safeguarding], (104, 35, 35))
    return bytes(pdf.output())


SAFEGUARDING_NOTE = ("Counts and timings only, never what a concern says; a count from 1 to 4 "
                     "is shown as \"fewer than 5\". The school's own safeguarding system holds "
                     "the record.")


TUTORING_NOTE = ("Hours count only pupils who were there; pupils are counted, never named. "
                 "Decisions are the central team's termly impact review, with their reasons.")


def _tutoring_pdf(pdf: _ReportPdf, report: BoardReport) -> None:
    pdf.heading(HEADINGS["tutoring"])
    pdf.line_of(TUTORING_NOTE, 9)
    pdf.ruled_table([["Figure", "This period", "Previous period", "Change"]]
                    + [[f.label, *f.shown] for f in tutoring_figures(report)], (80, 30, 32, 32))
    if report.tutoring.programmes:
        pdf.ruled_table([["Programme", "Pupils", "Hours per pupil", "Attendance",
                          "At target", "Per attended hour"]]
                        + tutoring_programme_rows(report), (54, 20, 26, 24, 22, 28))
    if report.tutoring.decisions:
        pdf.ruled_table([["Date", "Programme", "Decision", "Reason"]]
                        + [[day_label(exception_day(d)), d.programme_name, d.decision.label,
                            d.reason] for d in report.tutoring.decisions],
                        (28, 40, 22, 84), figures=False)
    else:
        pdf.line_of("No impact review decisions were recorded in the period.")


__all__ = ["BoardReport", "Period", "board_report", "board_report_pdf", "default_period",
           "term_so_far", "previous_term", "check_period", "format_value", "format_change",
           "HEADINGS", "tutoring_figures", "tutoring_programme_rows", "TUTORING_NOTE",
           "SAFEGUARDING_NOTE"]

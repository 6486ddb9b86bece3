"""Loading library units: the agreed front matter checked with a message naming the file and
the fault, minutes computed from the words, versions by content hash."""

import math
import shutil

import pytest
from sqlalchemy import select

from courses import lesson_parts
from courses.content import ContentError
from lms.library import content, services
from lms.library.models import LibraryUnit
from lms.platform.extensions import db
from tests.library_factory import UNITS, load_test_units


@pytest.fixture
def units_dir(tmp_path):
    root = tmp_path / "library"
    shutil.copytree(UNITS, root)
    return root


def _edit(root, slug, old, new):
    path = root / "units" / f"{slug}.md"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def _current() -> dict[str, LibraryUnit]:
    return {u.slug: u for u in db.session.scalars(
        select(LibraryUnit).where(LibraryUnit.is_current.is_(True)))}


def test_loading_makes_each_unit_current_with_its_minutes_computed(db_session):
    results = load_test_units()
    assert {r.slug for r in results} == {"first-session", "pupils-with-send",
                                         "checking-understanding"}
    assert all(r.created for r in results)
    unit = _current()["first-session"]
    body = (UNITS / "units" / "first-session.md").read_text().split("---", 2)[2]
    words = lesson_parts.reading_words(body)
    assert unit.words == words >= content.MIN_WORDS
    assert unit.minutes == math.ceil(words / 200) + 10
    assert unit.topics == ["planning-sessions"]
    assert unit.practices == ["starts_from_prior_knowledge", "manages_time"]
    assert unit.signals == ["attendance"]
    assert unit.resource_title == "First session checklist"
    assert unit.resource_content.startswith(b"# First session checklist")
    assert "<h2>Why it matters</h2>" in unit.body_html


def test_loading_unchanged_files_again_creates_nothing(db_session):
    load_test_units()
    again = load_test_units()
    assert not any(r.created for r in again)
    assert db.session.query(LibraryUnit).count() == 3


def test_an_edited_unit_is_a_new_version_and_the_old_one_stops_being_current(
        db_session, units_dir):
    first = {r.slug: r.version for r in services.load_units(units_dir)}
    _edit(units_dir, "first-session", "title: Running your first session",
          "title: Running a first session")
    second = {r.slug: r for r in services.load_units(units_dir)}
    assert second["first-session"].created
    assert second["first-session"].version != first["first-session"]
    assert not second["checking-understanding"].created
    assert _current()["first-session"].title == "Running a first session"
    assert db.session.query(LibraryUnit).filter_by(slug="first-session").count() == 2


def test_a_changed_resource_is_a_new_version(db_session, units_dir):
    before = {r.slug: r.version for r in services.load_units(units_dir)}
    (units_dir / "resources" / "hinge-questions.md").write_text("# Changed\n")
    after = {r.slug: r.version for r in services.load_units(units_dir)}
    assert after["checking-understanding"] != before["checking-understanding"]


def test_a_unit_whose_file_is_removed_is_no_longer_current(db_session, units_dir):
    services.load_units(units_dir)
    (units_dir / "units" / "checking-understanding.md").unlink()
    services.load_units(units_dir)
    assert set(_current()) == {"first-session", "pupils-with-send"}


def test_raw_html_in_a_unit_is_removed(db_session, units_dir):
    _edit(units_dir, "first-session", "## Why it matters\n",
          "## Why it matters\n\n<script>alert(1)</script><p onclick=\"x()\">Hi</p>\n\n")
    services.load_units(units_dir)
    html = _current()["first-session"].body_html
    assert "<script" not in html and "onclick" not in html


@pytest.mark.parametrize(("old", "new", "message"), [
    ("topics: [planning-sessions]", "topics: [planning-lessons]",
     "unknown topic 'planning-lessons'"),
    ("practices: [starts_from_prior_knowledge, manages_time]",
     "practices: [starts_from_prior_knowledge, asks_good_questions]",
     "unknown practice 'asks_good_questions'"),
    ("signals: [attendance]", "signals: [behaviour]", "unknown signal 'behaviour'"),
    ("phases: [primary, secondary]", "phases: [nursery]", "unknown phase 'nursery'"),
    ("file: first-session-checklist.md", "file: missing-checklist.md",
     "resource file 'missing-checklist.md' is missing"),
    ("unit: first-session", "unit: first-sessions", "'unit' must be the file's name"),
    ("summary: Plan and run a calm, useful first session.\n", "",
     "'summary' is missing"),
])
def test_a_faulty_front_matter_is_refused_naming_the_file_and_fault(
        db_session, units_dir, old, new, message):
    path = _edit(units_dir, "first-session", old, new)
    with pytest.raises(ContentError) as error:
        services.load_units(units_dir)
    assert str(path) in error.value.message and message in error.value.message
    assert db.session.query(LibraryUnit).count() == 0


def test_a_body_under_800_words_is_refused(db_session, units_dir):
    path = units_dir / "units" / "first-session.md"
    front = path.read_text().split("---", 2)[1]
    path.write_text(f"---{front}---\n## Short\n\nOnly a few words here.\n")
    with pytest.raises(ContentError) as error:
        services.load_units(units_dir)
    assert "a unit needs at least 800" in error.value.message


def test_the_references_do_not_count_towards_the_words(db_session, units_dir):
    path = units_dir / "units" / "first-session.md"
    front = path.read_text().split("---", 2)[1]
    path.write_text(f"---{front}---\n## Short\n\nA few words.\n\n## References\n\n"
                    + "Author, A. (2020) A long title. " * 200)
    with pytest.raises(ContentError, match="at least 800"):
        services.load_units(units_dir)


def test_flask_library_load_loads_and_reports_each_unit(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["library", "load", "--path", str(UNITS)])
    assert result.exit_code == 0, result.output
    assert "first-session: loaded new version" in result.output
    again = runner.invoke(args=["library", "load", "--path", str(UNITS)])
    assert "first-session: unchanged, version" in again.output


def test_flask_library_load_names_the_fault(app, db_session, units_dir):
    _edit(units_dir, "first-session", "topics: [planning-sessions]", "topics: [nope]")
    result = app.test_cli_runner().invoke(args=["library", "load", "--path", str(units_dir)])
    assert result.exit_code != 0 and "unknown topic 'nope'" in result.output


def test_the_shipped_units_read_without_fault():
    """The content writer's units, when there are any, pass the same checks."""
    if not list((content.CONTENT_ROOT / "units").glob("*.md")):
        pytest.skip("no units written yet")
    specs = content.read_units()
    assert all(spec.words >= content.MIN_WORDS for spec in specs)

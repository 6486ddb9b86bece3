"""An installed copy carries everything it needs: templates, static files, migrations and
course content."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_templates_static_files_migrations_and_content(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in [
        "lms/templates/base.html",
        "lms/templates/emails/invitation.html",
        "lms/templates/emails/invitation.txt",
        "lms/templates/courses/lesson.html",
        "lms/static/app.css",
        "lms/migrations/alembic.ini",
        "lms/migrations/env.py",
        "lms/migrations/versions/0001_core.py",
        "courses/content/pathways/primary.md",
        "courses/content/modules/safeguarding-and-conduct/04-when-you-are-worried.md",
        "assessments/__init__.py",
        "credentials/__init__.py",
    ]:
        assert expected in names, expected

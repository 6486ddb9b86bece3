"""An installed copy carries everything it needs: the four packages, templates, static files,
migrations, course content and the item bank."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["lms", "courses", "assessments", "credentials"]
# templates/ and static/ sit at the root of the repository and install inside lms/.
MAPPED = {"templates": "lms/templates", "static": "lms/static"}
NOT_SHIPPED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "instance", "*.egg-info", "__pycache__", "*.pyc",
    ".pytest_cache", ".ruff_cache", "test-artifacts", "node_modules",
)


def _source_files() -> set[str]:
    """Every file in the source tree that an installed copy must hold, by its wheel path."""
    expected = set()
    for top in [*PACKAGES, *MAPPED]:
        for path in (ROOT / top).rglob("*"):
            relative = path.relative_to(ROOT)
            if path.is_dir() or "__pycache__" in relative.parts or path.suffix == ".pyc":
                continue
            name = relative.as_posix()
            if top in MAPPED:
                name = MAPPED[top] + name[len(top):]
            expected.add(name)
    return expected


def _build_wheel(tmp_path: Path) -> set[str]:
    # Build from a clean copy: building in the checkout would reuse (and ship) whatever a
    # previous build left in build/lib, including files deleted since.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=NOT_SHIPPED)
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-cache-dir", "-w", str(out), str(source)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def test_the_wheel_ships_templates_static_files_migrations_content_and_item_bank(tmp_path):
    names = _build_wheel(tmp_path)
    for expected in [
        *(f"{package}/__init__.py" for package in PACKAGES),
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
        "assessments/items/safeguarding-and-conduct.yml",
    ]:
        assert expected in names, expected
    # Nothing in the source tree is left behind: a new kind of file (a font, an image, a
    # deeper template folder) needs a package-data pattern in pyproject.toml.
    missing = sorted(_source_files() - names)
    assert not missing, f"not in the wheel (add to [tool.setuptools.package-data]): {missing}"
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_the_readme_lists_every_setting_the_code_reads():
    from lms.platform.config import ENVIRONMENT

    read = set()
    pattern = re.compile(r"""(?:os\.environ(?:\.get)?[(\[]|_env_(?:int|bool)\()\s*["']([A-Z_]+)""")
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            read.update(pattern.findall(path.read_text()))
    assert read, "found no settings read from the environment"
    assert sorted(read - set(ENVIRONMENT)) == [], "read but not in lms.platform.config.ENVIRONMENT"
    readme = (ROOT / "README.md").read_text()
    table = {line.split("|")[1].strip().strip("`") for line in readme.splitlines()
             if line.startswith("| `")}
    assert sorted(set(ENVIRONMENT) - table) == [], "in ENVIRONMENT but not in README.md"

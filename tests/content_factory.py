"""Writes small course content trees for tests, in the same format as courses/content/."""

from __future__ import annotations

from pathlib import Path

LESSON = """---
pathways: [{pathways}]
module: {module}
lesson: {lesson}
title: {title}
order: {order}
outcomes:
  - Explain {title}
{extra}---
## What to do

Body of {title}.

## Activity: Try it ({minutes} minutes)

Try the idea with a pupil.

**You produce:** a note of what happened.

## Reflection

What will you try?
"""


def write_content(root: Path, *, pathway: str = "primary", modules: int = 2, lessons: int = 2,
                  minutes: int = 10, body_extra: str = "") -> Path:
    names = [f"module-{m}" for m in range(1, modules + 1)]
    (root / "pathways").mkdir(parents=True, exist_ok=True)
    (root / "pathways" / f"{pathway}.md").write_text(
        f"---\npathway: {pathway}\ntitle: Test {pathway} course\n"
        f"target_minutes: {modules * lessons * minutes}\nmodules: [{', '.join(names)}]\n---\n"
        "Welcome to the course.\n")
    for name in names:
        folder = root / "modules" / name
        (folder / "resources").mkdir(parents=True, exist_ok=True)
        (folder / "resources" / "plan.md").write_text(f"# Plan for {name}\n")
        (folder / "module.md").write_text(
            f"---\nmodule: {name}\ntitle: Title of {name}\npathways: [{pathway}]\n"
            f"summary: About {name}.\nresources:\n  - title: Plan\n    file: plan.md\n---\n")
        for n in range(1, lessons + 1):
            (folder / f"{n:02d}-lesson-{n}.md").write_text(LESSON.format(
                pathways=pathway, module=name, lesson=f"lesson-{n}", title=f"{name} lesson {n}",
                order=n, minutes=minutes, extra="") + body_extra)
    return root


def edit_lesson(root: Path, module: str, number: int, old: str, new: str) -> None:
    path = root / "modules" / module / f"{number:02d}-lesson-{number}.md"
    path.write_text(path.read_text().replace(old, new))

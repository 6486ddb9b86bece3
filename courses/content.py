"""Reading course content from Markdown files with YAML front matter, and rendering it safely."""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

import markdown
import nh3
import yaml

from assessments.bank.blueprints import BLUEPRINTS
from courses import lesson_parts
from lms.platform import yaml_text
from lms.platform.errors import DomainError
from lms.programme.models import Pathway

CONTENT_ROOT = Path(__file__).resolve().parent / "content"
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.DOTALL)
_LESSON_FILE = re.compile(r"^\d{2}-[a-z0-9-]+\.md$")
_ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "caption", "code", "dd", "del", "details", "dl", "dt",
    "em", "h2", "h3", "h4", "hr", "kbd", "li", "ol", "p", "pre", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"},
                       "td": {"colspan"}, "ol": {"start"}, "img": {"src", "alt"}}
#: How far a pathway's computed minutes may stray from its target.
TARGET_TOLERANCE = 0.15
#: Where a scenario's model answer stands in a lesson's HTML until the tutor has answered.
SCENARIO_MARK = "SCENARIO-ANSWER-{}"
SCENARIO_MARK_PATTERN = re.compile(r"<p>SCENARIO-ANSWER-(\d+)</p>")
#: A diagram: an SVG in the module's resources, small, with a title and a description.
MAX_DIAGRAM_BYTES = 20_000


class ContentError(DomainError):
    """A content file is missing something the platform needs; the message names the file."""


def render_markdown(text: str) -> str:
    """Markdown to HTML with every raw HTML tag, script and inline handler removed."""
    html = markdown.markdown(text or "", extensions=["sane_lists", "tables", "fenced_code"])
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS | {"img"},
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def render_lesson(body: str) -> tuple[str, list[dict]]:
    """A lesson's HTML with each scenario's model answer held back (a mark stands in its place),
    and the scenarios: their number, title and model answer as HTML."""
    html, scenarios = _render_lesson(body)
    return html, [dict(s) for s in scenarios]


@functools.lru_cache(maxsize=1024)
def _render_lesson(body: str) -> tuple[str, tuple[dict, ...]]:
    """Rendered once per text and process: three pathways share most lessons, and loading an
    unchanged course again renders nothing new."""
    parts, scenarios = [], []
    for section in lesson_parts.sections(body):
        activity = section.activity
        if section.heading is not None:
            parts.append(f"## {section.heading}\n")
        if activity is not None and activity.kind == "scenario":
            number = len(scenarios) + 1
            scenarios.append({"number": number, "title": activity.title,
                              "minutes": activity.minutes,
                              "answer_html": render_markdown(activity.model_answer)})
            parts.append(f"{activity.prompt}\n\n{SCENARIO_MARK.format(number)}\n\n")
        else:
            parts.append(section.text)
    return render_markdown("".join(parts)), tuple(scenarios)


def read_front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ContentError(f"{path}: no front matter (a '---' block at the top)")
    try:
        meta = yaml_text.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise ContentError(f"{path}: front matter must be a mapping")
    return meta, match.group(2)


def _need(meta: dict, key: str, path: Path, kind: type = str):
    value = meta.get(key)
    if value is None or (kind is str and not str(value).strip()):
        raise ContentError(f"{path}: '{key}' is missing")
    if not isinstance(value, kind):
        raise ContentError(f"{path}: '{key}' must be a {kind.__name__}")
    return value


@dataclass
class ResourceSpec:
    title: str
    filename: str
    content: bytes
    listed: bool = True

    @property
    def mimetype(self) -> str:
        if self.filename.endswith(".md"):
            return "text/markdown"
        if self.filename.endswith(".vtt"):
            return "text/vtt"
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"


@dataclass
class LessonSpec:
    slug: str
    title: str
    order: int
    outcomes: list[str]
    body: str
    video: dict | None
    source: Path

    @property
    def estimated_minutes(self) -> int:
        """Computed from the text (see ``courses.lesson_parts``), never typed in."""
        return lesson_parts.lesson_minutes(self.body, self.video)

    @property
    def reading_words(self) -> int:
        return lesson_parts.reading_words(self.body)


@dataclass
class ModuleSpec:
    slug: str
    title: str
    summary: str
    pathways: list[str]
    intro: str
    lessons: list[LessonSpec] = field(default_factory=list)
    resources: list[ResourceSpec] = field(default_factory=list)


@dataclass
class PathwaySpec:
    pathway: Pathway
    title: str
    target_minutes: int
    intro: str
    modules: list[ModuleSpec]
    version: str

    @property
    def check_minutes(self) -> int:
        """A minute for each item a module's check draws."""
        return BLUEPRINTS[self.pathway].formative_items

    def module_minutes(self, module: ModuleSpec) -> int:
        return sum(lesson.estimated_minutes for lesson in module.lessons) + self.check_minutes

    @property
    def total_minutes(self) -> int:
        return sum(self.module_minutes(m) for m in self.modules)

    @property
    def words(self) -> int:
        return sum(lesson.reading_words for m in self.modules for lesson in m.lessons)

    @property
    def within_target(self) -> bool:
        return abs(self.total_minutes - self.target_minutes) <= (
            TARGET_TOLERANCE * self.target_minutes)


def _read_lesson(path: Path, module: str) -> LessonSpec:
    meta, body = read_front_matter(path)
    if meta.get("module") != module:
        raise ContentError(f"{path}: 'module' must be {module!r}")
    outcomes = _need(meta, "outcomes", path, list)
    if not outcomes or not all(isinstance(o, str) and o.strip() for o in outcomes):
        raise ContentError(f"{path}: every lesson needs at least one learning outcome")
    if "## Reflection" not in body and "## Worked example" not in body:
        raise ContentError(f"{path}: a lesson needs a '## Reflection' or '## Worked example'")
    if "estimated_minutes" in meta:
        raise ContentError(f"{path}: 'estimated_minutes' is computed from the lesson's words, "
                           "activities and video; remove it")
    try:
        lesson_parts.sections(body)
    except lesson_parts.LessonTextError as exc:
        raise ContentError(f"{path}: {exc}") from exc
    video = meta.get("video")
    if video is not None:
        if not isinstance(video, dict) or not (video.get("url") or video.get("file")):
            raise ContentError(f"{path}: a video needs a 'url' or a 'file'")
        if not str(video.get("transcript") or "").strip():
            raise ContentError(f"{path}: a video needs a text transcript")
        if not isinstance(video.get("minutes"), int) or not 1 <= video["minutes"] <= 60:
            raise ContentError(f"{path}: a video says how long it runs, in whole 'minutes'")
    return LessonSpec(
        slug=_need(meta, "lesson", path),
        title=_need(meta, "title", path),
        order=_need(meta, "order", path, int),
        outcomes=[o.strip() for o in outcomes],
        body=body,
        video=video,
        source=path,
    )


def _read_module(folder: Path) -> ModuleSpec:
    path = folder / "module.md"
    if not path.exists():
        raise ContentError(f"{folder}: module.md is missing")
    meta, intro = read_front_matter(path)
    if meta.get("module") != folder.name:
        raise ContentError(f"{path}: 'module' must match its folder name {folder.name!r}")
    module = ModuleSpec(
        slug=folder.name,
        title=_need(meta, "title", path),
        summary=str(meta.get("summary") or "").strip(),
        pathways=list(meta.get("pathways") or []),
        intro=intro,
    )
    for lesson_path in sorted(folder.glob("*.md")):
        if lesson_path.name == "module.md":
            continue
        if not _LESSON_FILE.match(lesson_path.name):
            raise ContentError(f"{lesson_path}: lesson files are named NN-lesson-name.md")
        module.lessons.append(_read_lesson(lesson_path, folder.name))
    module.lessons.sort(key=lambda lesson: lesson.order)
    if not module.lessons:
        raise ContentError(f"{folder}: a module needs at least one lesson")
    listed = set()
    for item in meta.get("resources") or []:
        file = folder / "resources" / str(item.get("file", ""))
        if not item.get("file") or not file.is_file():
            raise ContentError(f"{path}: resource file {item.get('file')!r} is missing")
        module.resources.append(ResourceSpec(str(item.get("title") or file.name), file.name,
                                             file.read_bytes()))
        listed.add(file.name)
    for lesson in module.lessons:
        for key in ("file", "captions"):
            name = (lesson.video or {}).get(key)
            if name and name not in listed:
                file = folder / "resources" / name
                if not file.is_file():
                    raise ContentError(f"{lesson.source}: video {key} {name!r} is missing")
                module.resources.append(ResourceSpec(name, name, file.read_bytes(), False))
                listed.add(name)
    for lesson in module.lessons:
        for image in lesson_parts.images(lesson.body):
            if image.file not in listed:
                module.resources.append(_diagram(folder, lesson.source, image))
                listed.add(image.file)
    return module


def _diagram(folder: Path, source: Path, image: lesson_parts.Image) -> ResourceSpec:
    """A diagram a lesson shows: an accessible SVG, light enough for a phone."""
    file = folder / "resources" / image.file
    if "/" in image.file or not image.file.endswith(".svg") or not file.is_file():
        raise ContentError(f"{source}: diagram {image.file!r} is not an SVG in resources/")
    if len(image.alt) < 20:
        raise ContentError(f"{source}: diagram {image.file!r} needs a text alternative that "
                           "says what it shows")
    content = file.read_bytes()
    svg = content.decode("utf-8", "replace")
    if len(content) > MAX_DIAGRAM_BYTES:
        raise ContentError(f"{file}: a diagram must be under {MAX_DIAGRAM_BYTES // 1000} KB")
    if 'role="img"' not in svg or "<title" not in svg or "<desc" not in svg:
        raise ContentError(f"{file}: an SVG needs role=\"img\", a <title> and a <desc>")
    if re.search(r"<script|\bon\w+\s*=|(?:href|src)\s*=\s*[\"'](?:https?:|//)", svg, re.I):
        raise ContentError(f"{file}: an SVG may not carry scripts or fetch anything")
    return ResourceSpec(image.file, image.file, content, False)


def read_pathways(root: Path = CONTENT_ROOT) -> list[PathwaySpec]:
    """Read and check every pathway under ``root``; raise ``ContentError`` on the first fault."""
    modules: dict[str, ModuleSpec] = {}
    for folder in sorted((root / "modules").iterdir()) if (root / "modules").is_dir() else []:
        if folder.is_dir():
            modules[folder.name] = _read_module(folder)
    specs = []
    for path in sorted((root / "pathways").glob("*.md")):
        meta, intro = read_front_matter(path)
        try:
            pathway = Pathway(meta.get("pathway"))
        except ValueError as exc:
            raise ContentError(f"{path}: unknown pathway {meta.get('pathway')!r}") from exc
        chosen = []
        for slug in _need(meta, "modules", path, list):
            if slug not in modules:
                raise ContentError(f"{path}: module {slug!r} does not exist")
            if pathway.value not in modules[slug].pathways:
                raise ContentError(f"{path}: module {slug!r} does not list {pathway.value}")
            chosen.append(modules[slug])
        specs.append(PathwaySpec(
            pathway=pathway,
            title=_need(meta, "title", path),
            target_minutes=_need(meta, "target_minutes", path, int),
            intro=intro,
            modules=chosen,
            version=_version_of(path, chosen),
        ))
    return specs


def _version_of(manifest: Path, modules: list[ModuleSpec]) -> str:
    """A hash of every file that makes up the course: any edit gives a new version."""
    digest = hashlib.sha256(manifest.read_bytes())
    for module in modules:
        digest.update(b"\0module\0" + module.slug.encode())
        digest.update(module.lessons[0].source.with_name("module.md").read_bytes())
        for lesson in module.lessons:
            digest.update(b"\0lesson\0" + lesson.source.read_bytes())
        for resource in module.resources:
            digest.update(b"\0resource\0" + resource.filename.encode() + b"\0" + resource.content)
    return digest.hexdigest()[:16]

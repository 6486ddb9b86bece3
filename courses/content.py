"""Reading course content from Markdown files with YAML front matter, and rendering it safely."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

import markdown
import nh3
import yaml

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
                       "td": {"colspan"}, "ol": {"start"}}


class ContentError(DomainError):
    """A content file is missing something the platform needs; the message names the file."""


def render_markdown(text: str) -> str:
    """Markdown to HTML with every raw HTML tag, script and inline handler removed."""
    html = markdown.markdown(text or "", extensions=["sane_lists", "tables", "fenced_code"])
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def read_front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ContentError(f"{path}: no front matter (a '---' block at the top)")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
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
    estimated_minutes: int
    outcomes: list[str]
    body: str
    video: dict | None
    source: Path


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
    def total_minutes(self) -> int:
        return sum(lesson.estimated_minutes for m in self.modules for lesson in m.lessons)


def _read_lesson(path: Path, module: str) -> LessonSpec:
    meta, body = read_front_matter(path)
    if meta.get("module") != module:
        raise ContentError(f"{path}: 'module' must be {module!r}")
    outcomes = _need(meta, "outcomes", path, list)
    if not outcomes or not all(isinstance(o, str) and o.strip() for o in outcomes):
        raise ContentError(f"{path}: every lesson needs at least one learning outcome")
    if "## Reflection" not in body and "## Worked example" not in body:
        raise ContentError(f"{path}: a lesson needs a '## Reflection' or '## Worked example'")
    minutes = _need(meta, "estimated_minutes", path, int)
    if not 1 <= minutes <= 120:
        raise ContentError(f"{path}: estimated_minutes must be between 1 and 120")
    video = meta.get("video")
    if video is not None:
        if not isinstance(video, dict) or not (video.get("url") or video.get("file")):
            raise ContentError(f"{path}: a video needs a 'url' or a 'file'")
        if not str(video.get("transcript") or "").strip():
            raise ContentError(f"{path}: a video needs a text transcript")
    return LessonSpec(
        slug=_need(meta, "lesson", path),
        title=_need(meta, "title", path),
        order=_need(meta, "order", path, int),
        estimated_minutes=minutes,
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
    return module


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

"""The shape of the code, held by tests: one direction of imports, no cycles, no private name
across packages, modules of a readable size, and the outside (URLs, endpoints, commands)
unchanged by moving code around."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import grimp
import pytest

pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("lms", "courses", "assessments", "credentials")
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
MAX_MODULE_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _domain(module: str) -> str:
    """The domain subpackage a module belongs to (``lms.programme``, ``credentials.register``);
    for a module directly in a top-level package (``courses.services``, the shell's
    ``lms.cli``), that package."""
    modules = _modules()
    parts = module.split(".")
    for length in range(len(parts) - 1, 0, -1):
        candidate = ".".join(parts[:length])
        if candidate in modules and modules[candidate].name == "__init__.py" and length > 1:
            return candidate
    return parts[0]


def test_the_application_packages_have_no_import_cycle():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None, exclude_type_checking_imports=True)
    modules = {m for m in graph.modules if ".migrations" not in m}
    cycles = []
    for module in sorted(modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported in modules and graph.chain_exists(imported, module):
                cycles.append(graph.find_shortest_chain(imported, module) + (imported,))
    assert cycles == []


def test_no_module_imports_a_private_name_from_another_package():
    crossings = []
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
                continue
            if node.module.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and _domain(node.module) != _domain(module):
                    crossings.append(f"{module} imports {node.module}.{alias.name}")
    assert crossings == []


def test_no_application_module_is_longer_than_600_lines():
    long = {module: n for module, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_every_domain_package_is_on_the_map():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    domains = {str(path.parent.relative_to(ROOT)) for package in PACKAGES
               for path in (ROOT / package).glob("*/__init__.py")
               if path.parent.name != "migrations"}
    assert {d for d in domains if f"{d}/" not in text} == set()


def _url_map(app) -> list[str]:
    return sorted(f"{r.rule} {r.endpoint} {','.join(sorted(r.methods - {'HEAD', 'OPTIONS'}))}"
                  for r in app.url_map.iter_rules())


def _commands(group: click.Command, prefix: str = "flask") -> list[str]:
    lines = [f"{prefix} {','.join(sorted(p.name for p in group.params))}".rstrip()]
    if isinstance(group, click.Group):
        for name, command in sorted(group.commands.items()):
            lines += _commands(command, f"{prefix} {name}")
    return lines


@pytest.mark.parametrize("snapshot, read", [
    ("url_map.txt", lambda app: _url_map(app)),
    ("cli_commands.txt", lambda app: _commands(app.cli)),
])
def test_urls_endpoints_methods_and_commands_are_as_recorded(app, snapshot, read):
    """Moving code between packages changes nothing a browser, a script or an operator uses.
    A deliberate change to a route or command updates the snapshot in the same commit."""
    recorded = (SNAPSHOTS / snapshot).read_text(encoding="utf-8").splitlines()
    assert sorted(read(app)) == sorted(line.rstrip() for line in recorded)

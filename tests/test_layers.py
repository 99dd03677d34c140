"""Each layer imports only downwards:

    pipelines                     Definitions, jobs, sensors, the CLI: on top, imported by nobody
    assets, checks                thin Dagster wiring, sharing nothing sideways
    orchestration                 the Dagster base: IO manager, masked errors, paths, asset keys
    dancu                         the library, without Dagster
    sql                           data, read by dancu

`benchmarks` stands beside the product: it drives the library and the CLI, never the wiring.
Imports are read from the source with `ast`, so one inside a function counts as much as one at
the top, and a module that fails to import still shows what it imports.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The first-party packages each package may import, besides itself.
MAY_IMPORT = {
    "sql": set(),
    "dancu": {"sql"},
    "orchestration": {"dancu"},
    "assets": {"orchestration", "dancu"},
    "checks": {"orchestration", "dancu"},
    "pipelines": {"assets", "checks", "orchestration", "dancu"},
    "benchmarks": {"pipelines", "dancu"},
}


@dataclass(frozen=True, repr=False)
class Import:
    file: str  # relative to the repository: "assets/link.py"
    line: int
    module: str  # the module named, a relative import resolved: "assets.standardize"
    statement: str  # as written, for the failure message

    @property
    def importer(self) -> str:
        return self.file.split("/")[0]

    @property
    def package(self) -> str:
        return self.module.split(".")[0]

    def __repr__(self) -> str:
        return f"{self.file}:{self.line}: {self.statement}"


def _package_of(path: Path) -> list[str]:
    """The dotted package a module lives in, as parts: assets/link.py -> ["assets"]."""
    return list(path.relative_to(ROOT).parent.parts)


def _module_named(node: ast.Import | ast.ImportFrom, alias: ast.alias, path: Path) -> str:
    if isinstance(node, ast.Import):
        return alias.name
    package = _package_of(path)
    base = package[: len(package) - node.level + 1] if node.level else []
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(path: Path) -> list[Import]:
    """Every import statement in one file, however deep inside functions or branches."""
    file = path.relative_to(ROOT).as_posix()
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=file)):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        # `import a, b` names two modules; `from a import b, c` names one.
        aliases = node.names if isinstance(node, ast.Import) else node.names[:1]
        found += [
            Import(file, node.lineno, _module_named(node, alias, path), ast.unparse(node))
            for alias in aliases
        ]
    return found


def _packages_in_repository() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("*/__init__.py"))


ALL_IMPORTS = [
    found
    for package in _packages_in_repository()
    for path in sorted((ROOT / package).rglob("*.py"))
    for found in imports_of(path)
]
FIRST_PARTY = [i for i in ALL_IMPORTS if i.package in MAY_IMPORT and i.package != i.importer]


def _listed(imports: list[Import]) -> str:
    return "\n".join(f"  {i!r}" for i in imports)


def test_every_package_has_a_place_in_the_layers():
    assert set(_packages_in_repository()) <= set(MAY_IMPORT)


def test_no_cycle_between_packages():
    edges = {(i.importer, i.package) for i in FIRST_PARTY}
    reachable = set(edges)
    while closure := {(a, d) for a, b in reachable for c, d in reachable if b == c} - reachable:
        reachable |= closure
    in_cycle = [i for i in FIRST_PARTY if (i.package, i.importer) in reachable]
    assert not in_cycle, f"imports that close a cycle between packages:\n{_listed(in_cycle)}"


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_packages_import_only_their_layers_below(package):
    allowed = MAY_IMPORT[package]
    upwards = [i for i in FIRST_PARTY if i.importer == package and i.package not in allowed]
    assert not upwards, (
        f"{package} may import {sorted(allowed) or 'no first-party package'}, "
        f"but:\n{_listed(upwards)}"
    )


def test_nothing_but_the_benchmarks_imports_pipelines():
    below = [i for i in FIRST_PARTY if i.package == "pipelines" and i.importer != "benchmarks"]
    assert not below, f"pipelines is the top layer, yet imported by:\n{_listed(below)}"


def test_the_library_does_without_dagster():
    dagster = [
        i
        for i in ALL_IMPORTS
        if i.importer == "dancu" and (i.package == "dagster" or i.package.startswith("dagster_"))
    ]
    assert not dagster, f"dancu imports Dagster:\n{_listed(dagster)}"


def test_assets_share_nothing_sideways():
    sideways = [i for i in ALL_IMPORTS if i.importer == "assets" and i.package == "assets"]
    assert not sideways, f"asset modules import each other:\n{_listed(sideways)}"

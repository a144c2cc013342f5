"""The order the apps build on each other, and the imports that break it.

Each app may use the apps before it in LAYERS, never one after: a lower app that must reach
further offers a hook (marketplace.hooks, social.hooks, notifications.hooks, pricing.DISCOUNT_RULES,
events.subscribe) and the upper app registers in its AppConfig.ready(). The rule holds for the
modules that hold the domain (models, services, selectors, tasks and their helpers), imports inside
functions included; the composing modules (schema, admin, apps, demo data, management commands,
migrations) may reach any app, as the GraphQL schema and the admin are built from all of them.

`python -m config.layers` prints each app's imports of other apps and any that go upward or
form a cycle (tests/architecture/test_layers.py fails on them).
"""

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

LAYERS = (
    "accounts",
    "notifications",
    "marketplace",
    "shipping",
    "earnings",
    "cases",
    "reviews",
    "social",
    "discovery",
    "live",
    "sellers",
)
COMPOSING_MODULES = {"schema.py", "admin.py", "apps.py", "demo.py"}
COMPOSING_PACKAGES = {"schema", "migrations", "management"}


@dataclass(frozen=True)
class Import:
    where: str  # path:line
    importer: str
    imported: str

    def __str__(self):
        return f"{self.where}: {self.importer} imports {self.imported}"


def app_imports(root: Path) -> list[Import]:
    """Every import of another app by an app's domain modules."""
    found = []
    for app in LAYERS:
        for path in sorted((root / app).rglob("*.py")):
            relative = path.relative_to(root)
            if path.name in COMPOSING_MODULES or COMPOSING_PACKAGES & set(relative.parts):
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                for module in _imported_modules(node):
                    top = module.split(".")[0]
                    if top in LAYERS and top != app:
                        found.append(Import(f"{relative}:{node.lineno}", app, top))
    return found


def upward(imports: list[Import]) -> list[Import]:
    return [each for each in imports if LAYERS.index(each.imported) > LAYERS.index(each.importer)]


def cycles(imports: list[Import]) -> list[tuple[str, ...]]:
    """Cycles between apps, each once, from its first app in LAYERS."""
    edges = {app: {each.imported for each in imports if each.importer == app} for app in LAYERS}
    found = []

    def walk(path):
        for following in sorted(edges[path[-1]]):
            if following == path[0]:
                found.append((*path, following))
            elif following not in path and LAYERS.index(following) > LAYERS.index(path[0]):
                walk((*path, following))

    for app in LAYERS:
        walk((app,))
    return found


def _imported_modules(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module]
    return []


def main(root: Path) -> int:
    imports = app_imports(root)
    for app in LAYERS:
        uses = sorted({each.imported for each in imports if each.importer == app}, key=LAYERS.index)
        print(f"{app:<14} uses {', '.join(uses) or 'no other app'}")
    broken = upward(imports)
    for each in broken:
        print(f"upward: {each}")
    for cycle in cycles(imports):
        print("cycle: " + " -> ".join(cycle))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent))

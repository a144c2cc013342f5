"""Rooms a newcomer can find: the services and schema of the marketplace and of live selling are
packages of modules under 600 lines, each saying what it holds; their modules import each other
directly, never through the package's __init__, and without cycles; the __init__ re-exports what
callers use."""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("marketplace.services", "marketplace.schema", "live.services", "live.schema")


def modules(package: str) -> dict[str, ast.Module]:
    folder = ROOT / package.replace(".", "/")
    return {path.stem: ast.parse(path.read_text()) for path in sorted(folder.glob("*.py"))}


def sibling_imports(package: str, tree: ast.Module) -> set[str]:
    """Siblings a module imports (at runtime or for type checking), and "__init__" if it goes
    through the package."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(package + "."):
                found.add(node.module.removeprefix(package + "."))
            elif node.module == package or f"{node.module}.{node.names[0].name}" == package:
                found.add("__init__")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_each_module_is_small_and_says_what_it_holds(package):
    folder = ROOT / package.replace(".", "/")
    for path in folder.glob("*.py"):
        assert len(path.read_text().splitlines()) < 600, path
        assert ast.get_docstring(ast.parse(path.read_text())), path


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_import_siblings_directly_and_at_runtime_without_cycles(package):
    found = modules(package)
    runtime = {}
    for name, tree in found.items():
        if name == "__init__":
            continue
        assert "__init__" not in sibling_imports(package, tree), name
        imports = {
            node
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package + ".")
        }
        runtime[name] = {node.module.removeprefix(package + ".") for node in imports}

    def visit(name, path):
        for following in runtime[name]:
            assert following not in path, " -> ".join((*path, following))
            visit(following, (*path, following))

    for name in runtime:
        visit(name, (name,))


@pytest.mark.parametrize("package", PACKAGES)
def test_the_package_re_exports_what_it_lists(package):
    module = importlib.import_module(package)
    assert module.__all__ == sorted(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)

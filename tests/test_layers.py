"""The layers hold: read every module's imports (function-level ones too) and check the graph's shape, so an
import that runs the wrong way fails here before it tangles the code (README "Layout")."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("labeler", "projects", "controls", "quality", "ml", "exports", "workers", "frontend")
BUILT_ON_THE_CORE = ("controls", "quality", "ml", "exports", "workers", "frontend")
DOMAINS = ("controls", "quality", "ml", "exports")
PURE_ENGINES = ("quality/engine", "exports/engine", "ml/engines")
# What the engines may import from the apps: the core's pure modules (plain dataclasses and parsers), and the
# outbound-URL check the HTTP backend engine runs before every call (it reads its allow-list from the settings).
ENGINE_MAY_USE = ("projects.label_config", "projects.control_types", "labeler.outbound")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for app in APPS for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and "management" not in path.parts
    }


def imports_of(name: str, path: Path) -> set[str]:
    """Every module `name` imports, anywhere in the file, relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = source_modules()
    return {name: {target for target in imports_of(name, path) if target in modules and target != name}
            for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(start: str) -> None:
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter[0]
                counter[0] += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_no_module_imports_itself_round_a_circle(graph):
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_core_imports_none_of_the_apps_built_on_it(graph):
    wrong = {(name, target) for name, targets in graph.items() if name.startswith("projects")
             for target in targets if target.split(".")[0] in BUILT_ON_THE_CORE}
    assert wrong == set()


def test_the_domains_never_reach_up_into_the_background_side(graph):
    wrong = {(name, target) for name, targets in graph.items() if name.split(".")[0] in DOMAINS
             for target in targets if target.split(".")[0] == "workers"}
    assert wrong == set()


def test_the_engines_use_no_django_and_no_models():
    for folder in PURE_ENGINES:
        for path in (ROOT / folder).rglob("*.py"):
            name = module_name(path)
            for target in imports_of(name, path):
                top = target.split(".")[0]
                assert top != "django", f"{name} imports {target}"
                if top in APPS and target not in APPS and not target.startswith(folder.replace("/", ".")):
                    assert target.startswith(ENGINE_MAY_USE), f"{name} imports {target}"

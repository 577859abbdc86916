"""The layout shows the design: the engine never imports Streamlit, and the README names every module."""

import ast
import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = sorted(p for p in (ROOT / "playground").rglob("*.py"))


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_the_engine_never_imports_streamlit():
    assert len(ENGINE) > 40
    assert [p.relative_to(ROOT) for p in ENGINE if "streamlit" in imported(p)] == []


def test_the_readme_layout_section_names_every_module():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## How the code is laid out") :]
    section = section[: section.index("\n## ", 1)]
    missing = [str(p.relative_to(ROOT)) for p in ENGINE if p.name != "__init__.py" and f"`{p.name}`" not in section]
    assert missing == []
    for folder in ("explorer", "train", "render"):
        assert f"`playground/{folder}/`" in section
    for path in sorted((ROOT / "ui").glob("*.py")):
        assert path.name == "__init__.py" or f"`{path.name}`" in section, path.name



DOCTESTED = [p for p in ENGINE if ">>> " in p.read_text()]


@pytest.mark.parametrize("path", DOCTESTED, ids=[p.stem for p in DOCTESTED])
def test_every_engine_doctest_runs_and_holds(path):
    module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_the_home_page_runs_without_importing_torch():
    """Importing torch is most of a cold start's first page (bench_explorer: `streamlit run` → first rendered
    page); the home page runs without it, and ``ui.common.warm_up`` imports the engine once it has gone out."""
    script = ("import runpy, sys, threading; runpy.run_path('app.py'); print('torch' in sys.modules); "
              "[t.join() for t in threading.enumerate() if t.name == 'warm-up']; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-2:] == ["False", "True"]  # not for the home page; then, in the background

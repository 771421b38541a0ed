"""The layers of DESIGN.md "Layout" hold: import-linter's contracts (pyproject.toml) and
scripts/check_imports.py pass on the repository and fail on a copy with a deliberate
violation."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
SCRIPT = ROOT / "scripts" / "check_imports.py"
TOP_CONTRACT = "Top layers: ui | cli > demo > core | sandbox"
CORE_ALONE_CONTRACT = "Core alone: no Qt, app.ui, app.cli, app.demo, app.sandbox"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [str(LINT_IMPORTS)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@functools.cache
def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_imports", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of app/ and pyproject.toml to break on purpose."""
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write("\n" + text + "\n")


def run_script(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = load_script().main(["--root", str(root)])
    return code, capsys.readouterr().out


# import-linter


def test_lint_imports_passes_on_the_repo() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_lint_imports_fails_when_the_core_imports_the_console(tree: Path) -> None:
    append(tree / "app" / "core" / "domain" / "states.py", "from app.ui import common")

    result = lint_imports(tree)

    assert result.returncode != 0, result.stdout
    assert f"{TOP_CONTRACT} BROKEN" in result.stdout
    assert f"{CORE_ALONE_CONTRACT} BROKEN" in result.stdout
    assert "app.core.domain.states -> app.ui.common" in result.stdout


def test_lint_imports_fails_when_a_lower_core_layer_imports_a_higher_one(tree: Path) -> None:
    append(tree / "app" / "core" / "storage" / "errors.py", "import app.core.engine.events")

    result = lint_imports(tree)

    assert result.returncode != 0, result.stdout
    assert "Core layers: service down to support BROKEN" in result.stdout
    assert "app.core.storage.errors -> app.core.engine.events" in result.stdout


# scripts/check_imports.py


def test_check_imports_passes_on_the_repo() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    assert "no cycles" in result.stdout


def test_check_imports_finds_a_cycle(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    support = tree / "app" / "core" / "support"
    (support / "cycle_a.py").write_text("from app.core.support import cycle_b\n")
    # The other way round, relative and inside a function: it counts too.
    (support / "cycle_b.py").write_text("def later():\n    from . import cycle_a\n")

    code, out = run_script(tree, capsys)

    assert code == 1, out
    assert "import cycle" in out
    assert "app.core.support.cycle_a, app.core.support.cycle_b" in out
    assert (
        "app.core.support.cycle_a (app/core/support/cycle_a.py:1) -> "
        "app.core.support.cycle_b (app/core/support/cycle_b.py:2) -> app.core.support.cycle_a"
    ) in out


def test_check_imports_finds_a_module_importing_itself(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "app" / "core" / "support" / "selfish.py").write_text(
        "import app.core.support.selfish\n"
    )

    code, out = run_script(tree, capsys)

    assert code == 1, out
    assert "app.core.support.selfish imports itself" in out


def test_check_imports_ignores_a_cycle_under_type_checking(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    support = tree / "app" / "core" / "support"
    (support / "cycle_a.py").write_text("from app.core.support import cycle_b\n")
    (support / "cycle_b.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from . import cycle_a\n"
    )

    code, out = run_script(tree, capsys)

    assert code == 0, out


def test_check_imports_finds_the_core_importing_the_sandbox(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    append(tree / "app" / "core" / "domain" / "states.py", "from app.sandbox import seed")

    code, out = run_script(tree, capsys)

    assert code == 1, out
    assert "app.core.domain.states imports app.sandbox.seed" in out
    assert "must not import app.sandbox" in out


def test_check_imports_finds_a_crowded_folder(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crowded = tree / "app" / "core" / "crowded"
    crowded.mkdir()
    (crowded / "__init__.py").write_text("")
    for number in range(16):
        (crowded / f"part{number}.py").write_text("")

    code, out = run_script(tree, capsys)

    assert code == 1, out
    assert "app/core/crowded/ holds 16 modules (at most 15)" in out

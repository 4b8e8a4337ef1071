"""The library's layers (pyproject.toml, [tool.importlinter]; docs/guide/extending.md): every module imports only from the
layers below its own, so there is no import cycle. Checked by import-linter, on this checkout and on a copy with one
upward import planted (the check must catch it)."""

import os
import shutil
import subprocess
import sys

from conftest import ROOT


def lint_imports(src, cwd):
    """lint-imports with the contract of pyproject.toml on the package under ``src``: (exit status, its output)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                           "sys.exit(lint_imports_command())", "--config", str(ROOT / "pyproject.toml"),
                           "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def test_the_library_keeps_its_layers(tmp_path):
    status, out = lint_imports(ROOT / "src", tmp_path)
    assert status == 0 and "1 kept, 0 broken" in out, out


def test_an_upward_import_breaks_the_contract(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "recunlearn", copy / "recunlearn", ignore=shutil.ignore_patterns("__pycache__"))
    data = copy / "recunlearn" / "data.py"
    data.write_text(data.read_text() + "\n\ndef _planted():\n    from .report.paper import table_6_3  # noqa: F401\n")
    status, out = lint_imports(copy, tmp_path)
    assert status != 0 and "BROKEN" in out and "recunlearn.data -> recunlearn.report" in out, out

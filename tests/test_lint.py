"""ruff (configured in pyproject.toml) passes on the whole tree: lint and format."""

import shutil
import subprocess

import pytest

from tests.helpers import ROOT


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff(command):
    ruff = shutil.which("ruff")
    assert ruff, "ruff is installed by tests/requirements.txt"
    proc = subprocess.run([ruff, *command], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr

"""Build the desktop app: ``python build/build.py`` -> ``build/dist/QwenVoiceStudio-<version>-<os>-<variant>.<zip|tar.gz>``.

Runs PyInstaller on ``build/qwen_voice_studio.spec`` (one folder, two
executables) with the torch that is installed, and packs the folder into one
archive beside it. The torch in the environment decides the variant: a CPU
wheel gives the CPU build, a CUDA wheel the CUDA build (see build/README.md).

Options: ``--dist DIR`` / ``--work DIR`` (default build/dist, build/work),
``--no-archive`` (leave only the folder).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

BUILD_DIR = Path(__file__).resolve().parent
ROOT = BUILD_DIR.parent
SPEC = BUILD_DIR / "qwen_voice_studio.spec"
APP_NAME = "QwenVoiceStudio"
CLI_NAME = "qwen-voice-studio-cli"
#: Installed distributions whose version changes what is bundled.
BUNDLED_DISTS = (
    "torch",
    "qwen-tts",
    "transformers",
    "gradio",
    "gradio_client",
    "huggingface-hub",
    "onnxruntime",
    "silero-vad",
    "pypinyin",
    "g2pM",
    "praat-parselmouth",
    "imageio-ffmpeg",
    "librosa",
    "numpy",
    "pyinstaller",
    "pyinstaller-hooks-contrib",
)


def torch_variant() -> str:
    """'cuda<version>' when the installed torch is a CUDA build, else 'cpu'."""
    try:
        import torch
    except ImportError:
        return "cpu"
    return f"cuda{torch.version.cuda}" if torch.version.cuda else "cpu"


def imported_modules(root: Path = ROOT) -> list[str]:
    """Third-party top-level modules imported anywhere in app.py and studio/ (a new one needs a new analysis).

    The standard library is left out: torch and Gradio already pull nearly all
    of it into the bundle, and counting it would rebuild on every ``import re``.
    """
    names: set[str] = set()
    for path in [root / "app.py", *sorted((root / "studio").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return sorted(names - set(sys.stdlib_module_names) - {"studio", "__future__"})


def cache_key(root: Path = ROOT) -> str:
    """A hash of what decides the frozen program apart from the studio's own sources.

    The spec, this script, app.py, requirements.txt, the installed versions of
    the bundled distributions and the set of modules the studio imports. The
    studio package and presets are bundled as plain files, so a cached build
    can take newer ones by copying (see :func:`refresh_sources`).
    """
    digest = hashlib.sha256()
    for path in (SPEC, Path(__file__).resolve(), root / "app.py", root / "requirements.txt"):
        digest.update(path.read_bytes())
    for dist in BUNDLED_DISTS:
        try:
            digest.update(f"{dist}={importlib.metadata.version(dist)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{dist}=-\n".encode())
    digest.update(" ".join(imported_modules(root)).encode())
    digest.update(f"{sys.version}{platform.machine()}".encode())
    return digest.hexdigest()[:16]


def refresh_sources(app_dir: Path, root: Path = ROOT) -> None:
    """Replace the bundled studio package and presets in ``app_dir`` by the checkout's."""
    internal = app_dir / "_internal"
    for name, ignore in (("studio", shutil.ignore_patterns("__pycache__", "*.pyc")), ("presets", None)):
        shutil.rmtree(internal / name, ignore_errors=True)
        shutil.copytree(root / name, internal / name, ignore=ignore)


def executable(app_dir: Path, name: str = CLI_NAME) -> Path:
    """The path of one of the build's executables."""
    return app_dir / (f"{name}.exe" if sys.platform.startswith("win") else name)


def pyinstaller_command(dist: Path, work: Path) -> tuple[list[str], dict[str, str]]:
    """The PyInstaller command line and environment that build the app into ``dist`` (run from ``ROOT``)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level=WARN"]
    cmd += ["--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    return cmd, env


def run_pyinstaller(dist: Path, work: Path) -> Path:
    """Run PyInstaller on the spec; return the app folder."""
    cmd, env = pyinstaller_command(dist, work)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    return dist / APP_NAME


def folder_bytes(path: Path) -> int:
    """Total size of the files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def make_archive(app_dir: Path) -> Path:
    """Pack ``app_dir`` into a zip (Windows) or tar.gz (macOS, Linux) beside it."""
    version = _version()
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    base = app_dir.parent / f"{APP_NAME}-{version}-{system}-{platform.machine().lower()}-{torch_variant()}"
    kind = "zip" if system == "windows" else "gztar"
    return Path(shutil.make_archive(str(base), kind, root_dir=app_dir.parent, base_dir=app_dir.name))


def _version() -> str:
    for line in (ROOT / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("version"):
            return line.split("=")[1].strip().strip('"')
    return "0"


def main(argv: list[str] | None = None) -> int:
    """Build, pack and report sizes and times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=BUILD_DIR / "dist")
    parser.add_argument("--work", type=Path, default=BUILD_DIR / "work")
    parser.add_argument("--no-archive", action="store_true")
    args = parser.parse_args(argv)
    started = time.monotonic()
    app_dir = run_pyinstaller(args.dist.resolve(), args.work.resolve())
    built = time.monotonic()
    print(f"built {app_dir} ({torch_variant()}): {folder_bytes(app_dir) / 1e6:.0f} MB in {built - started:.0f} s")
    if not args.no_archive:
        archive = make_archive(app_dir)
        print(f"archive {archive}: {archive.stat().st_size / 1e6:.0f} MB in {time.monotonic() - built:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

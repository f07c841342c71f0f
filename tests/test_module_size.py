"""Every module in studio/ stays readable in one sitting: no file over 500 lines."""

from pathlib import Path

STUDIO = Path(__file__).resolve().parents[1] / "studio"
LIMIT = 500


def test_no_studio_module_is_over_500_lines():
    sizes = {str(p.relative_to(STUDIO)): len(p.read_text(encoding="utf-8").splitlines()) for p in STUDIO.rglob("*.py")}
    assert len(sizes) > 20  # the walk found the package
    too_long = {name: n for name, n in sizes.items() if n > LIMIT}
    assert not too_long, f"split these modules by job: {too_long}"

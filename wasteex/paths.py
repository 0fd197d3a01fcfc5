"""Where the top-level folders live, computed once from the package location.

A repository checkout keeps ``templates/``, ``static/``, ``migrations/`` and
``config.py`` beside the package; a built wheel carries copies inside the
package (see ``force-include`` in pyproject.toml). Never the working directory.
"""
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parent


def _pick(name: str, packaged: str) -> Path:
    in_checkout = _CHECKOUT / name
    return in_checkout if in_checkout.exists() else PACKAGE_DIR / packaged


TEMPLATES_DIR = _pick("templates", "_templates")
STATIC_DIR = _pick("static", "_static")
MIGRATIONS_DIR = _pick("migrations", "_migrations")
CONFIG_FILE = _pick("config.py", "_config.py")
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"
DEFAULT_INSTANCE_DIR = _CHECKOUT / "instance"

"""Language selection: the user's choice, then the session's, then the browser's; Chinese first.

The Chinese catalog lives under ``zh_Hans_CN`` because Babel normalises
``zh_CN`` to that name (FIELD_NOTES.md).
"""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_login import current_user

from wasteex import paths
from wasteex.extensions import babel

ALIASES = {"zh": "zh_Hans_CN", "zh_CN": "zh_Hans_CN", "zh-CN": "zh_Hans_CN", "zh_Hans_CN": "zh_Hans_CN",
           "en": "en", "en_US": "en", "en-US": "en"}


def normalise(code: str | None) -> str | None:
    return ALIASES.get(code or "")


def select_locale() -> str:
    """Outside a request (CLI, jobs, service tests) messages are in the default language."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = normalise(session.get("lang"))
    if chosen in languages:
        return chosen
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return normalise(best) or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(paths.TRANSLATIONS_DIR),
    )

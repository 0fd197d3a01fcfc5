"""Language selection: the user's choice, then the session's, then Chinese.

The Chinese catalog lives under ``zh_Hans_CN`` because Babel normalises
``zh_CN`` to that name (FIELD_NOTES.md).
"""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, session
from flask_login import current_user

from wasteex import paths
from wasteex.extensions import babel

ALIASES = {"zh": "zh_Hans_CN", "zh_CN": "zh_Hans_CN", "zh-CN": "zh_Hans_CN", "zh_Hans_CN": "zh_Hans_CN",
           "en": "en", "en_US": "en", "en-US": "en"}


def normalise(code: str | None) -> str | None:
    return ALIASES.get(code or "")


def select_locale() -> str:
    """Chinese first: the signed-in user's choice, else this session's, else Chinese.

    The browser's Accept-Language is deliberately not consulted: the platform
    is a Chinese municipal service, and English is a switch a person makes.
    Outside a request (CLI, jobs, service tests) messages are Chinese too.
    """
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = normalise(session.get("lang"))
    return chosen if chosen in languages else default


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(paths.TRANSLATIONS_DIR),
    )

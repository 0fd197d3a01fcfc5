"""Bridges between WTForms and domain errors, shared by every HTML view."""
from __future__ import annotations

from flask import flash, request
from flask_wtf import FlaskForm

from wasteex.errors import Conflict, ValidationFailed
from wasteex.extensions import db


def attach_errors(form: FlaskForm, error: ValidationFailed | Conflict) -> None:
    """Show a service's field errors next to the fields; others go to the form top."""
    for field_name, messages in error.fields.items():
        field = getattr(form, field_name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.append(" ".join(messages))
    if not error.fields:
        form.form_errors.append(error.message)


def form_data(form: FlaskForm, *exclude: str) -> dict:
    return {k: v for k, v in form.data.items() if k not in {"csrf_token", "submit", *exclude}}


def page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() else 1


def perform(form: FlaskForm, action, success: str | None = None):
    """The one submit path of every HTML form: validate, call the service, commit once.

    A domain refusal rolls back and puts its messages next to the fields.
    Returns the action's result (True when it returns nothing), or None when
    the form was not submitted, not valid, or refused.
    """
    if not form.validate_on_submit():
        return None
    try:
        result = action()
    except (ValidationFailed, Conflict) as error:
        db.session.rollback()
        attach_errors(form, error)
        return None
    db.session.commit()
    if success:
        flash(success, "success")
    return True if result is None else result

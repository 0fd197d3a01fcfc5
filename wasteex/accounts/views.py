"""Sign-up, sign-in, sign-out, password, language and personal API tokens."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from wasteex.accounts import service
from wasteex.accounts.forms import ChangePasswordForm, LoginForm, RegisterForm, TokenForm
from wasteex.errors import ValidationFailed
from wasteex.extensions import db
from wasteex.forms_support import attach_errors
from wasteex.urls import safe_next

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _start_session(user) -> None:
    session.clear()  # a fresh session at login: nothing carried over from before (fixation)
    login_user(user)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = service.register_user(form.email.data, form.name.data, form.password.data,
                                         locale=session.get("lang"))
        except ValidationFailed as error:
            attach_errors(form, error)
        else:
            db.session.commit()
            _start_session(user)
            flash(_("Welcome! Register your enterprise to start."), "success")
            return redirect(url_for("enterprises.new"))
    return render_template("accounts/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.email.data, form.password.data, request.remote_addr)
        except ValidationFailed as error:
            form.form_errors.append(error.message)
            status = error.status
        else:
            db.session.commit()
            _start_session(user)
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    service.revoke_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()  # the audit entry needs the model, not the proxy
        try:
            service.change_password(user, form.current_password.data, form.new_password.data)
        except ValidationFailed as error:
            attach_errors(form, error)
        else:
            db.session.commit()
            login_user(user)  # keep this session; every other one is revoked
            flash(_("Password changed. Other sessions were signed out."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/password.html", form=form)


@bp.get("/")
@login_required
def profile():
    return render_template("accounts/profile.html", tokens=service.list_tokens(current_user),
                           token_form=TokenForm())


@bp.post("/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("Give the token a name."), "danger")
        return redirect(url_for("accounts.profile"))
    token, secret = service.issue_token(current_user, form.name.data)
    db.session.commit()
    return render_template("accounts/token_created.html", token=token, secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    service.revoke_token(current_user, token_id)
    db.session.commit()
    flash(_("Token revoked."), "info")
    return redirect(url_for("accounts.profile"))


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    from wasteex.i18n import normalise

    lang = normalise(lang) or "zh_Hans_CN"
    session["lang"] = lang
    if current_user.is_authenticated:
        service.set_locale(current_user, lang)
        db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("main.home")))

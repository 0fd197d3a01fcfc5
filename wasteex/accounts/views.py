"""Sign-up, sign-in (password, then a TOTP code when enrolled), sign-out, password, TOTP
enrolment, re-authentication, language and personal API tokens."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from wasteex import security_log
from wasteex.accounts import reauth as reauthentication
from wasteex.accounts import second_factor, service
from wasteex.accounts import session as account_session
from wasteex.accounts.forms import ChangePasswordForm, CodeForm, LoginForm, ReauthForm, RegisterForm, TokenForm
from wasteex.accounts.models import User
from wasteex.errors import DomainError, ValidationFailed
from wasteex.extensions import db
from wasteex.forms_support import attach_errors
from wasteex.urls import safe_next

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _start_session(user, *, second_factor_passed: bool = False) -> None:
    # A fresh session at login: nothing carried over from before (fixation).
    account_session.begin(user, second_factor=second_factor_passed)


def _after_sign_in(user, next_url: str | None):
    """Where a signed-in user goes: enrolment first when their role needs TOTP and lacks it."""
    target = safe_next(next_url, url_for("main.home"))
    if not user.totp_enabled and second_factor.enrolment_required(user):
        return redirect(url_for("accounts.totp_setup", next=target))
    return redirect(target)


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
            if user.totp_enabled:  # password right: now the code, before any session exists
                account_session.fresh_session()
                session[account_session.PENDING_TOTP] = {
                    "uid": user.id, "tok": user.session_token, "at": account_session.now(),
                    "next": safe_next(request.args.get("next"), ""),
                }
                return redirect(url_for("accounts.login_code"))
            _start_session(user)
            return _after_sign_in(user, request.args.get("next"))
    return render_template("accounts/login.html", form=form), status


def _pending_totp_user() -> User | None:
    pending = session.get(account_session.PENDING_TOTP)
    if not isinstance(pending, dict):
        return None
    age = account_session.now() - pending.get("at", 0)
    if not 0 <= age <= current_app.config["TOTP_LOGIN_PENDING_SECONDS"]:
        return None
    user = db.session.get(User, pending.get("uid", 0))
    if user is None or not user.active or user.session_token != pending.get("tok") or not user.totp_enabled:
        return None
    return user


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """Second step of sign-in for accounts with TOTP on."""
    user = _pending_totp_user()
    if user is None:
        session.pop(account_session.PENDING_TOTP, None)
        flash(_("Please sign in again."), "warning")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            second_factor.verify_code(user, form.code.data, request.remote_addr)
        except ValidationFailed as error:
            db.session.rollback()
            form.code.errors.append(error.message)
            status = error.status
        else:
            next_url = session[account_session.PENDING_TOTP].get("next")
            db.session.commit()
            _start_session(user, second_factor_passed=True)
            security_log.event("login.success", user=user, second_factor="totp")
            return _after_sign_in(user, next_url)
    return render_template("accounts/login_code.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    security_log.event("logout", user=current_user._get_current_object())
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
            account_session.mark_reauthenticated()
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
    try:
        token, secret = service.issue_token(current_user._get_current_object(), form.name.data,
                                            second_factor=account_session.second_factor_passed())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("accounts.profile"))
    db.session.commit()
    return render_template("accounts/token_created.html", token=token, secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    service.revoke_token(current_user, token_id)
    db.session.commit()
    flash(_("Token revoked."), "info")
    return redirect(url_for("accounts.profile"))


@bp.route("/totp", methods=["GET", "POST"])
@login_required
def totp_setup():
    """Enrolment: scan the QR code (or type the secret), confirm with a first code."""
    user = current_user._get_current_object()
    next_url = safe_next(request.args.get("next"), url_for("accounts.profile"))
    if user.totp_enabled:
        return render_template("accounts/totp_enabled.html", form=CodeForm(),
                               required=second_factor.enrolment_required(user))
    enrolment = second_factor.start_enrolment(user)
    db.session.commit()  # the pending secret stays the same across reloads of this page
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            second_factor.confirm_enrolment(user, form.code.data, request.remote_addr)
        except ValidationFailed as error:
            db.session.rollback()
            form.code.errors.append(error.message)
            status = error.status
        else:
            db.session.commit()
            account_session.mark_second_factor(user)  # this session stays; the others were revoked
            flash(_("Two-step verification is on. Other sessions were signed out."), "success")
            return redirect(next_url)
    return render_template("accounts/totp_setup.html", form=form, enrolment=enrolment,
                           required=second_factor.enrolment_required(user)), status


@bp.post("/totp/disable")
@login_required
def totp_disable():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            second_factor.disable(current_user._get_current_object(), form.code.data, request.remote_addr)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            account_session.mark_reauthenticated()
            session.pop(account_session.MFA_AT, None)
            flash(_("Two-step verification is off."), "info")
    return redirect(url_for("accounts.totp_setup"))


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
def reauth():
    """"Confirm it is you" before a sensitive act; returns to ``next``."""
    form = ReauthForm()
    next_url = safe_next(request.args.get("next"), url_for("main.home"))
    status = 200
    if form.validate_on_submit():
        proof = (form.code.data or "").strip() or form.password.data
        if not proof:
            form.form_errors.append(_("Enter your password or a code."))
            status = 422
        else:
            try:
                reauthentication.verify_proof(current_user._get_current_object(), proof, request.remote_addr)
            except DomainError as error:
                db.session.rollback()
                form.form_errors.append(error.message)
                status = error.status
            else:
                db.session.commit()
                account_session.mark_reauthenticated()
                return redirect(next_url)
    return render_template("accounts/reauth.html", form=form), status


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

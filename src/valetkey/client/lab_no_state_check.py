"""LAB `--lab no-state-check`: the photo-printer's callback with the state check left out.

The classic mistake, kept in a module of its own so that it is easy to read and so that
`valetkey audit` reports it (OA103): the callback needs *a* sign-in started in this browser,
but it takes the pending sign-in that matches whatever state comes back, from any browser,
and never compares the state with this browser's own. An attacker's callback URL therefore
signs the victim in to the attacker's account (login CSRF; `valetkey lab login-csrf`).
"""

from __future__ import annotations

from flask import Flask, redirect, request
from werkzeug.wrappers import Response

from valetkey.client.browsers import COOKIE
from valetkey.client.steps import StepByStep
from valetkey.client.web import SignInRefused, error_page


def install(app: Flask, flow: StepByStep) -> None:
    """Replace the app's callback with the vulnerable one."""

    def callback() -> tuple[str, int] | Response:
        session_id = request.cookies.get(COOKIE)
        own = flow.browsers.take_pending(session_id or "")
        if own is None:
            return error_page("No sign-in was started here", "Start from the home page.")
        if request.args.get("error"):
            return error_page("Sign-in was not completed", "The provider refused.")
        if (
            flow.provider.iss_parameter_supported
            and request.args.get("iss") != flow.provider.issuer
        ):
            return error_page("The answer came from the wrong provider", "Wrong iss.")
        code = request.args.get("code", "")
        # LAB: no comparison of the returned state with this browser's; any match will do
        pending = flow.browsers.take_pending_by_state(request.args.get("state", "")) or own
        try:
            user = flow.identify(pending, flow.exchange(pending, code))
        except SignInRefused as refused:
            return error_page(refused.title, refused.message, refused.status)
        response = redirect("/photos", 303)
        response.set_cookie(
            COOKIE, flow.browsers.sign_in(session_id, user), httponly=True, samesite="Lax", path="/"
        )
        return response

    app.view_functions["callback"] = callback

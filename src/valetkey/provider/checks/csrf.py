"""Cross-site request forgery on the sandbox's own forms (RFC 6749 §10.12 for the
authorization server's pages; the login, consent and logout forms)."""

from __future__ import annotations

from valetkey.provider.checks import FormContext, check
from valetkey.provider.errors import PageError
from valetkey.provider.tokens import same


@check("", "RFC 6749 §10.12")
def form_from_this_session(ctx: FormContext) -> None:
    """The form carries the CSRF token of this browser session and this request.

    The token is an HMAC under the server's key, bound to the login session (or the browser
    id the server issued) and to the pending request: another site cannot make one, and a
    token planted on the same host for another session does not fit.
    """
    presented = ctx.form.get("csrf")
    if ctx.fresh_browser or presented is None or not same(ctx.expected_csrf, presented):
        raise PageError("the form was not sent from this browser session")

"""`valetkey lab`: the classic OAuth attacks, played against a vulnerable and a secure setup."""

from __future__ import annotations

import click

EXPLANATIONS = {
    "login-csrf": (
        "Login CSRF: the attacker starts a sign-in with their own account, stops before the "
        "app's callback, and gets the victim's browser to open that callback URL. An app "
        "that does not check that the state belongs to this browser's own sign-in finishes "
        "it, and the victim now works in the attacker's account, where everything they "
        "upload or type is the attacker's to read. The fix is a random state bound to the "
        "browser session, compared on return and used once (RFC 6749 §10.12; RFC 9700 §4.7)."
    ),
    "redirect-theft": (
        "Code theft: a provider that accepts any redirect_uri starting with a registered one "
        "lets an attacker craft a sign-in link that redirects to their own server, here "
        "through the userinfo trick http://app@attacker/. A victim already signed in at the "
        "provider is sent straight back with a code, to the attacker, who injects it into "
        "their own sign-in at the app and is signed in as the victim. The fix is exact "
        "redirect_uri matching (RFC 9700 §4.1.3)."
    ),
}


@click.group()
def lab() -> None:
    """Play a classic OAuth attack against a vulnerable setup and a secure control.

    Each lab exits 0 when the vulnerable setup was broken and the secure one held.
    """


def _report(name: str, outcomes: list[object]) -> None:
    from valetkey.client.labs import Outcome

    click.echo(EXPLANATIONS[name] + "\n")
    ok = True
    for outcome in outcomes:
        assert isinstance(outcome, Outcome)
        verdict = "BROKEN" if outcome.broken else "HELD"
        click.echo(f"  {outcome.setup:<36} {verdict:<7} {outcome.detail}")
        ok = ok and outcome.as_expected
    if not ok:
        raise click.ClickException("an outcome was not the expected one (see above)")
    click.echo("\nAs expected: the vulnerable setup was broken and the secure one held.")


@lab.command("login-csrf")
def login_csrf() -> None:
    """Deliver an attacker's callback to a victim (secure app vs --lab no-state-check)."""
    from valetkey.client.labs import run_login_csrf

    _report("login-csrf", list(run_login_csrf()))


@lab.command("redirect-theft")
def redirect_theft() -> None:
    """Steal a code through a loosely matched redirect_uri (loose vs strict sandbox)."""
    from valetkey.client.labs import run_redirect_theft

    _report("redirect-theft", list(run_redirect_theft()))

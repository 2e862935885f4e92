"""Which photo-printer app to run: a variant (step by step, or with Authlib) and its labs.

The one place that puts an app together, so that the step-by-step app does not import the
lab copy that replaces its callback (`lab_no_state_check` builds on `steps`).
"""

from __future__ import annotations

import httpx
from flask import Flask

from valetkey.client import authlib_app, lab_no_state_check, steps
from valetkey.client.authlib_app import SessionHook
from valetkey.client.config import ClientConfig, ClientLab

VARIANTS = ("steps", "authlib")


def create_app(
    variant: str,
    config: ClientConfig,
    http: httpx.Client | None = None,
    session_hook: SessionHook | None = None,
) -> Flask:
    """The app of this variant with the config's labs in place (labs are step-by-step only)."""
    if variant == "authlib":
        if ClientLab.NO_STATE_CHECK in config.lab:
            raise ValueError("the lab copies are step-by-step apps; use the steps variant")
        return authlib_app.create_app(config, http, session_hook=session_hook)
    app = steps.create_app(config, http)
    if ClientLab.NO_STATE_CHECK in config.lab:
        lab_no_state_check.install(app, app.extensions["photo_printer"])
    return app

"""Several small Django projects in one test process: settings are configured once, and each
project's WSGI handler tells a middleware which URLconf (its own) the request uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django
from django.conf import settings

ENV_KEY = "zoo.urlconf"


def configure(session_engine: str) -> None:
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="zoo-django-not-a-secret-but-long-enough-0123456789",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF="tests.probe_targets.django_support",
        MIDDLEWARE=[
            "tests.probe_targets.django_support.UrlconfMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
        ],
        INSTALLED_APPS=["django.contrib.sessions"],
        SESSION_ENGINE=session_engine,
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        DATABASES={},
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()


urlpatterns: list[Any] = []


class Urlconf:
    def __init__(self, patterns: list[Any]) -> None:
        self.urlpatterns = patterns


class UrlconfMiddleware:
    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        request.urlconf = request.META.get(ENV_KEY)
        return self.get_response(request)


def wsgi(
    patterns: list[Any], session_engine: str = "django.contrib.sessions.backends.cache"
) -> Any:
    """The project's WSGI app. One session engine per process (Django's settings are global):
    every zoo project uses the cache backend (server-side sessions)."""
    configure(session_engine)
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    conf = Urlconf(patterns)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ[ENV_KEY] = conf
        return handler(environ, start_response)

    return app

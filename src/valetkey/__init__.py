"""valetkey: make OAuth 2.0 and OpenID Connect integrations safe to build and easy to check."""

__version__ = "0.1.0"

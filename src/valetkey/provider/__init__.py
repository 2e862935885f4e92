"""The sandbox provider: an OAuth 2.0 + OpenID Connect authorization server and resource server."""

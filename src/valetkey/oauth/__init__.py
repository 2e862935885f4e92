"""Sans-I/O OAuth 2.0 and OpenID Connect primitives shared by every part of valetkey.

No HTTP, no storage, no web-framework types: base64url and JOSE helpers, PKCE, scopes,
redirect-URI rules, the authorization-request builder, client metadata and its validation,
redaction, and the participant and step vocabulary of a flow. The provider, the reference
client, the probes, the flow inspector and the tests import these and keep no copies.
"""

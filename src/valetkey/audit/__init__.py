"""The static auditor behind `valetkey audit`: OAuth 2.0 / OpenID Connect pitfalls
(OA101-OA121) found by data flow over Python's `ast`.

    from valetkey.audit.engine import audit_source, scan
"""

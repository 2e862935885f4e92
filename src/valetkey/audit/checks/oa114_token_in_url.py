"""OA114 token-in-url."""

from __future__ import annotations

from collections.abc import Iterator

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import kwarg
from valetkey.audit.oauth import HttpCall, http_calls, url_value
from valetkey.audit.registry import AuditConfig, Hit, check


@check("OA114")
def token_in_url(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: a requests/httpx (or OAuth session) call whose `params` carry `access_token`, or
    whose URL, built by f-string, concatenation or `urlencode`, has an `access_token`
    query parameter.
    """
    for http in http_calls(module):
        params = kwarg(http.call, "params")
        if params is None and http.client_type == lib.URLLIB3_POOL and _query_verb(module, http):
            params = kwarg(http.call, "fields")  # urllib3 encodes GET fields in the URL
        keys = module.eval(params, http.scope).key_names() if params is not None else frozenset()
        url = url_value(module, http.call, http.scope, http.method)
        if "access_token" in keys or "access_token" in url.key_names():
            yield Hit.at(http.call, "the access token is sent in the URL query")


def _query_verb(module: Analysis, http: HttpCall) -> bool:
    verb = module.eval(http.call.args[0], http.scope).text if http.call.args else None
    return (verb or "").upper() in ("GET", "HEAD", "DELETE", "OPTIONS")

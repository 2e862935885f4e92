"""OA112 id-token-unverified."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from valetkey.audit import libraries as lib
from valetkey.audit.analysis import Analysis
from valetkey.audit.index import Scope, kwarg
from valetkey.audit.registry import AuditConfig, Hit, check
from valetkey.audit.values import Kind, Value, const_str

_DISABLING_OPTIONS = ("verify_signature", "verify_aud", "verify_iss", "verify_exp")


@check("OA112")
def id_token_unverified(module: Analysis, config: AuditConfig) -> Iterator[Hit]:
    """Flags: an ID token (the `id_token` of a token response, or any token whose decoded
    claims are used for who the user is: `sub`, `email`, `preferred_username` ...) decoded
    by PyJWT or python-jose with `verify_signature`, `verify_aud`, `verify_iss` or
    `verify_exp` set to False, with `"none"` among the algorithms, or with algorithms taken
    from the token's own header (`get_unverified_header`); an ID token decoded without
    `issuer=` (PyJWT/python-jose do not check `iss` otherwise), read with
    `get_unverified_claims`, or base64-decoded by hand;
    joserfc's `jwt.decode` with no `JWTClaimsRegistry` validation in the module, and
    `authlib.jose` `jwt.decode` whose claims are never `.validate()`d; jwcrypto `JWT(jwt=...)`
    or `JWS().deserialize(...)` of an ID token given no key.

    Silent: a decode with verification switched off, of a token not known to be an ID
    token, whose claims stay in the function and are read only for what says nothing about
    the user (an access token's `exp`, read to schedule a refresh).
    """
    if not module.uses("jwt", "jose", "joserfc", "authlib", "base64", "jwcrypto"):
        return
    validated = _module_validates_claims(module)
    for node in module.nodes:
        if not isinstance(node, ast.Call):
            continue
        scope = module.scope_of(node)
        qual = module.resolve(node, scope).qualname or ""
        token = module.eval(node.args[0], scope) if node.args else Value()
        problem = _problem(module, node, scope, qual, token, validated)
        if problem is not None:
            yield Hit.at(node, problem)


def _is_id_token(value: Value) -> bool:
    return "id_token" in value.field_keys()


def _problem(
    module: Analysis, call: ast.Call, scope: Scope, qual: str, token: Value, validated: bool
) -> str | None:
    identity = _is_id_token(token) or _claims_identify(module, call, scope)
    if qual in lib.PYJWT_DECODE | lib.JOSE_DECODE:
        problem = _decode_problem(module, call, scope, token)
        if problem in _DISABLED and not identity and _claims_benign(module, call):
            return None  # e.g. an access token's `exp`, read to schedule a refresh
        return problem
    if qual in lib.JOSE_UNVERIFIED and identity and "header" not in qual:
        return "the ID token's claims are read without verification"
    if qual in lib.B64_DECODERS and _is_id_token(token):
        return "the ID token is base64-decoded by hand, without verification"
    if qual in lib.JWCRYPTO_TOKENS:
        return _jwcrypto_problem(module, call, scope, identity)
    if _jwcrypto_deserialize(module, call, scope):
        return _jwcrypto_problem(module, call, scope, identity, deserialize=True)
    if qual in lib.JOSERFC_DECODE | lib.AUTHLIB_JOSE_DECODE and not validated:
        return "the token's claims (iss, aud, exp) are never validated after decode"
    return None


_VERIFY_FALSE = "ID token decoded with verification disabled"
_IDENTITY_CLAIMS = frozenset(
    {"sub", "email", "preferred_username", "upn", "oid", "user_id", "uid", "username", "name"}
)


def _claims_benign(module: Analysis, call: ast.Call) -> bool:
    """The decoded claims stay in the function and only claims that say nothing about who
    the user is (`exp`, `iat` ...) are read from them."""
    if module.enclosing_function(call) is None:
        return False
    reads = _claim_reads(module, call)
    return reads is not None and all(k is not None and k not in _IDENTITY_CLAIMS for k in reads)


def _claims_identify(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """Are the decoded claims used to tell who the user is (`claims["sub"]`, `.get("email")`)?"""
    reads = _claim_reads(module, call)
    return reads is not None and any(k in _IDENTITY_CLAIMS for k in reads)


def _claim_reads(module: Analysis, call: ast.Call) -> list[str | None] | None:
    """Each use of the name the decoded claims are assigned to: the claim it reads
    (`claims["sub"]`, `claims.get("exp")`), or None for any other use; None when the
    claims are not assigned to a name."""
    parent = module.parents.get(id(call))
    if not isinstance(parent, ast.Assign) or not isinstance(parent.targets[0], ast.Name):
        return None
    name = parent.targets[0].id
    func = module.enclosing_function(call)
    reads: list[str | None] = []
    for node in module.own_nodes(func) if func is not None else module.nodes:
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            reads.append(_claim_read(module, node))
    return reads


def _claim_read(module: Analysis, name: ast.Name) -> str | None:
    use = module.parents.get(id(name))
    if isinstance(use, ast.Subscript) and use.value is name:
        return const_str(use.slice)
    if isinstance(use, ast.Attribute) and use.attr == "get":
        call_node = module.parents.get(id(use))
        if isinstance(call_node, ast.Call) and call_node.args:
            return const_str(call_node.args[0])
    return None


def _jwcrypto_deserialize(module: Analysis, call: ast.Call, scope: Scope) -> bool:
    """`token.deserialize(raw[, key])` on a jwcrypto `JWS()`/`JWT()` object."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "deserialize"):
        return False
    ctor = module.eval(call.func.value, scope).ctor
    return ctor is not None and module.qualname_of(ctor.func) in lib.JWCRYPTO_TOKENS


def _jwcrypto_problem(
    module: Analysis, call: ast.Call, scope: Scope, identity: bool, deserialize: bool = False
) -> str | None:
    """`JWT(jwt=raw)` or `JWS().deserialize(raw)` with no key: the claims are read
    unverified."""
    token = kwarg(call, "jwt") if not deserialize else (call.args[0] if call.args else None)
    if token is None:
        return None
    has_key = kwarg(call, "key") is not None or (deserialize and len(call.args) > 1)
    value = module.eval(token, scope)
    if has_key or not (identity or _is_id_token(value)):
        return None
    return "the ID token's claims are read without verification (jwcrypto, no key)"


def _disabled(name: str) -> str:
    return f"ID token decoded with `{name}` disabled"


_DISABLED = frozenset({_VERIFY_FALSE, *(_disabled(n) for n in _DISABLING_OPTIONS)})


def _decode_problem(module: Analysis, call: ast.Call, scope: Scope, token: Value) -> str | None:
    options = kwarg(call, "options")
    if options is not None:
        value = module.eval(options, scope)
        for name in _DISABLING_OPTIONS:
            item = value.key(name)
            if item is not None and _false(module, options, name):
                return _disabled(name)
    verify = kwarg(call, "verify")
    if isinstance(verify, ast.Constant) and verify.value is False:
        return _VERIFY_FALSE
    algorithms = kwarg(call, "algorithms") or (call.args[2] if len(call.args) > 2 else None)
    if algorithms is not None:
        algs = module.eval(algorithms, scope)
        if any(f.lower() == "none" for f in algs.fragments) or (algs.text or "").lower() == "none":
            return 'the accepted algorithms include "none"'
        if algs.has(Kind.UNVERIFIED):
            return "the algorithm is taken from the token's own header"
    if _is_id_token(token) and kwarg(call, "issuer") is None:
        return "the ID token's issuer (`iss`) is not checked"
    return None


def _false(module: Analysis, options: ast.expr, name: str) -> bool:
    """Is `name` set to the constant False in this options dict (or its definition)?"""
    for node in ast.walk(options):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == name:
                    return isinstance(v, ast.Constant) and v.value is False
    if isinstance(options, ast.Name):
        scope = module.scope_of(options)
        current: Scope | None = scope
        while current is not None:
            for binding in current.bindings.get(options.id, []):
                if binding.expr is not options and _false(module, binding.expr, name):
                    return True
            current = current.parent
    return False


def _compares_claims(module: Analysis) -> bool:
    """Hand-written claim checks: `iss` compared, and `aud` or `exp` compared too."""
    fields: set[str] = set()
    for node in module.nodes:
        if isinstance(node, ast.Compare):
            scope = module.scope_of(node)
            for side in (node.left, *node.comparators):
                fields |= module.eval(side, scope).field_keys()
    return "iss" in fields and bool(fields & {"aud", "exp"})


def _module_validates_claims(module: Analysis) -> bool:
    if _compares_claims(module):
        return True
    for node in module.nodes:
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr == "validate":
                return True
            qual = module.qualname_of(node.func) or ""
            if qual in lib.CLAIMS_VALIDATORS:
                return True
    return False

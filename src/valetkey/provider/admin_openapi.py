"""The OpenAPI 3.1 description of the admin API, served at /admin/openapi.json."""

from __future__ import annotations

from typing import Any

from valetkey.oauth.client_metadata import (
    GRANT_TYPES,
    ID_TOKEN_ALGS,
    RESPONSE_TYPES,
    SECRET_LENGTHS,
    TOKEN_ENDPOINT_AUTH_METHODS,
)

_ERROR = {
    "description": "an error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_ERRORS = {"400": _ERROR, "401": _ERROR}


def _json_body(schema: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _ok(description: str, status: str = "200") -> dict[str, Any]:
    return {
        status: {
            "description": description,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_ERRORS,
    }


_NAME = {"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}
_CLIENT = {"name": "client_id", "in": "path", "required": True, "schema": {"type": "string"}}
_RESOURCE = {
    "name": "uri",
    "in": "path",
    "required": True,
    "description": "the resource URI, percent-encoded",
    "schema": {"type": "string"},
}
_FLOW = {"name": "flow_id", "in": "path", "required": True, "schema": {"type": "string"}}
_LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20},
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "valetkey sandbox admin API", "version": "1"},
    "security": [{"adminToken": []}],
    "paths": {
        "/admin/users": {
            "get": {"summary": "List users", "responses": _ok("the users")},
            "post": {
                "summary": "Create a user",
                "requestBody": _json_body("NewUser"),
                "responses": {**_ok("created", "201"), "409": _ERROR},
            },
        },
        "/admin/users/{username}": {
            "patch": {
                "summary": "Change a user's password or claims",
                "parameters": [_NAME],
                "requestBody": _json_body("UserChange"),
                "responses": {**_ok("changed"), "404": _ERROR},
            },
            "delete": {
                "summary": "Delete a user (their tokens are revoked)",
                "parameters": [_NAME],
                "responses": {"204": {"description": "deleted"}, "404": _ERROR, "401": _ERROR},
            },
        },
        "/admin/clients": {
            "get": {"summary": "List clients", "responses": _ok("the clients")},
            "post": {
                "summary": "Register a client",
                "requestBody": _json_body("NewClient"),
                "responses": {**_ok("created", "201"), "409": _ERROR},
            },
        },
        "/admin/clients/{client_id}": {
            "delete": {
                "summary": "Remove a client (its tokens are revoked)",
                "parameters": [_CLIENT],
                "responses": {"204": {"description": "removed"}, "404": _ERROR, "401": _ERROR},
            },
        },
        "/admin/resources": {
            "get": {"summary": "List protected resources (RFC 8707)", "responses": _ok("them")},
            "post": {
                "summary": "Register a protected resource and the scopes it serves",
                "requestBody": _json_body("NewResource"),
                "responses": {**_ok("created", "201"), "409": _ERROR},
            },
        },
        "/admin/resources/{uri}": {
            "delete": {
                "summary": "Remove a protected resource",
                "parameters": [_RESOURCE],
                "responses": {"204": {"description": "removed"}, "404": _ERROR, **_ERRORS},
            },
        },
        "/admin/flows": {
            "get": {
                "summary": "Recent flows, newest first",
                "parameters": [_LIMIT, {**_CLIENT, "in": "query", "required": False}],
                "responses": _ok("the flows"),
            },
        },
        "/admin/flows/{flow_id}": {
            "get": {
                "summary": "One flow with its recorded events (redacted)",
                "parameters": [_FLOW],
                "responses": {**_ok("the flow and its events"), "404": _ERROR},
            },
        },
        "/admin/claims": {
            "post": {
                "summary": "Queue claims for the next token",
                "requestBody": _json_body("QueuedClaims"),
                "responses": _ok("queued"),
            }
        },
        "/admin/faults": {
            "post": {
                "summary": "Make the next N requests to a path fail",
                "requestBody": _json_body("Fault"),
                "responses": _ok("armed"),
            }
        },
        "/admin/clock": {
            "post": {
                "summary": "Move the sandbox's clock forward",
                "requestBody": _json_body("ClockAdvance"),
                "responses": _ok("the new time"),
            }
        },
        "/admin/keys/rotate": {
            "post": {"summary": "Rotate the signing keys now", "responses": _ok("the new keys")}
        },
        "/admin/requests": {
            "get": {"summary": "The recent request log", "responses": _ok("the log")}
        },
    },
    "components": {
        "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {"type": "string"},
                    "error_description": {"type": "string"},
                    "registration_error": {
                        "type": "string",
                        "enum": ["invalid_redirect_uri", "invalid_client_metadata"],
                        "description": "for a refused client registration: its RFC 7591 "
                        "§3.2.2 error code",
                    },
                },
            },
            "NewUser": {
                "type": "object",
                "required": ["username", "password"],
                "properties": {
                    "username": {"type": "string", "minLength": 1, "maxLength": 150},
                    "password": {"type": "string", "maxLength": 1024},
                    "claims": {"type": "object"},
                },
            },
            "UserChange": {
                "type": "object",
                "properties": {
                    "password": {"type": "string", "maxLength": 1024},
                    "claims": {"type": "object"},
                },
            },
            "NewResource": {
                "type": "object",
                "required": ["uri", "scopes"],
                "properties": {
                    "uri": {
                        "type": "string",
                        "description": "absolute https URL (or http to loopback), no fragment"
                        " or query (RFC 8707 §2)",
                        "maxLength": 2000,
                    },
                    "scopes": {
                        "type": "array",
                        "items": {"type": "string", "minLength": 1},
                        "minItems": 1,
                        "maxItems": 50,
                    },
                    "name": {"type": "string", "minLength": 1, "maxLength": 255},
                    "client_id": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "description": "the resource server's own confidential client: it may"
                        " introspect the access tokens issued for this resource (RFC 7662)",
                    },
                },
                "additionalProperties": False,
            },
            "NewClient": {
                "type": "object",
                "required": ["client_id"],
                "properties": {
                    "client_id": {"type": "string", "minLength": 1, "maxLength": 255},
                    "public": {"type": "boolean"},
                    "secret": {
                        "type": "string",
                        "minLength": SECRET_LENGTHS[0],
                        "maxLength": SECRET_LENGTHS[1],
                    },
                    "name": {"type": "string"},
                    "redirect_uris": {"type": "array", "items": {"type": "string"}},
                    "scopes": {"type": "string"},
                    "grants": {
                        "type": "array",
                        "items": {"type": "string", "enum": list(GRANT_TYPES)},
                    },
                    "token_endpoint_auth_method": {
                        "type": "string",
                        "enum": list(TOKEN_ENDPOINT_AUTH_METHODS),
                        "description": "RFC 7591 §2; default client_secret_basic, or none "
                        "for a public client; the token endpoint refuses any other method",
                    },
                    "response_types": {
                        "type": "array",
                        "items": {"type": "string", "enum": list(RESPONSE_TYPES)},
                        "description": "RFC 7591 §2; default: what the grants need (code "
                        "for authorization_code); /authorize refuses any other",
                    },
                    "id_token_alg": {"type": "string", "enum": list(ID_TOKEN_ALGS)},
                },
            },
            "QueuedClaims": {
                "type": "object",
                "required": ["claims"],
                "properties": {
                    "username": {"type": "string"},
                    "client_id": {"type": "string"},
                    "claims": {"type": "object"},
                },
            },
            "Fault": {
                "type": "object",
                "required": ["path"],
                "properties": {
                    "path": {"type": "string"},
                    "count": {"type": "integer", "minimum": 1, "maximum": 10000},
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "delay": {"type": "number", "minimum": 0, "maximum": 30},
                    "malformed": {"type": "boolean"},
                },
            },
            "ClockAdvance": {
                "type": "object",
                "required": ["advance"],
                "properties": {"advance": {"type": "number", "minimum": 0}},
            },
        },
    },
}

"""The data-flow layer: provenance through assignments, containers, strings and calls."""

from __future__ import annotations

import ast

import pytest

from valetkey.audit.analysis import Analysis
from valetkey.audit.values import Kind, Value


def value_of(source: str, name: str = "result") -> Value:
    """The value of the last assignment to `name` in the source."""
    module = Analysis(ast.parse(source))
    target = next(
        node
        for node in reversed(module.nodes)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    )
    return module.eval(target.value, module.scope_of(target))


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("import secrets\nresult = secrets.token_urlsafe(32)\n", Kind.CSPRNG),
        ("import random\nresult = str(random.random())\n", Kind.WEAK_RANDOM),
        ("import uuid\nresult = uuid.uuid1().hex\n", Kind.UUID1),
        ("import time\nresult = f'{time.time()}'\n", Kind.TIME),
        ("import os\nresult = os.environ['X']\n", Kind.ENV),
        ("import os\nresult = os.getenv('X', 'fallback')\n", Kind.ENV_DEFAULT),
        ("from flask import request\nresult = request.args.get('next')\n", Kind.REQUEST),
        ("from flask import request\nresult = request.host_url + 'cb'\n", Kind.HOST),
        ("from flask import request\nresult = request.cookies['c']\n", Kind.COOKIE),
        ("from flask import session\nresult = session.pop('k', None)\n", Kind.SESSION),
    ],
)
def test_sources(source: str, kind: Kind) -> None:
    assert kind in value_of(source).kinds()


def test_csprng_bits_follow_the_argument() -> None:
    value = value_of("import secrets\nresult = secrets.token_hex(8)\n")
    assert [o.bits for o in value.of(Kind.CSPRNG)] == [64]


def test_provenance_through_constants_dicts_fstrings_and_urlencode() -> None:
    source = (
        "import random\n"
        "from urllib.parse import urlencode\n"
        "STATE = str(random.random())\n"
        "params = {'response_type': 'code', 'state': STATE}\n"
        "result = f'https://as.example/authorize?{urlencode(params)}'\n"
    )
    value = value_of(source)
    assert value.key_names() == {"response_type", "state"}
    state = value.key("state")
    assert state is not None
    assert state.of(Kind.WEAK_RANDOM)[0].line == 3


def test_query_parameters_parsed_from_literal_text() -> None:
    value = value_of("x = 1\nresult = f'https://a.example/?response_type=token&state={x}'\n")
    response_type = value.key("response_type")
    assert response_type is not None
    assert response_type.text == "token"


def test_return_values_and_arguments_within_a_module() -> None:
    source = (
        "import random\ndef make(n):\n    return str(n) + 'x'\nresult = make(random.random())\n"
    )
    assert Kind.WEAK_RANDOM in value_of(source).kinds()


def test_class_attributes_and_self() -> None:
    source = (
        "import os\n"
        "class Client:\n"
        "    secret = os.getenv('S', 'dev')\n"
        "    def get(self):\n"
        "        result = self.secret\n"
        "        return result\n"
    )
    assert Kind.ENV_DEFAULT in value_of(source).kinds()


def test_session_links_routes() -> None:
    source = (
        "from flask import request, session\n"
        "def login():\n"
        "    session['next'] = request.args['next']\n"
        "def done():\n"
        "    result = session.pop('next')\n"
        "    return result\n"
    )
    kinds = value_of(source).kinds()
    assert {Kind.SESSION, Kind.REQUEST} <= kinds


def test_keyword_fields_of_unknown_calls_do_not_mix() -> None:
    source = (
        "import os\n"
        "from flask import request\n"
        "cfg = Settings(host=request.host, secret=os.environ['S'])\n"
        "result = cfg.secret\n"
    )
    assert value_of(source).kinds() == {Kind.ENV}


SESSION_ID_COOKIE = """
from flask import Flask, request
from .names import COOKIE

app = Flask(__name__)
PENDING = {}


class Flow:
    def expected(self, sid):
        result = PENDING.pop(sid, None)
        return result


def remember(response, sid):
    response.set_cookie(COOKIE, sid, httponly=True)


def routes(flow: Flow):
    @app.get("/cb")
    def cb():
        flow.expected(request.cookies.get(COOKIE))
        other = PENDING.get(request.cookies.get("never_set"))
"""


def test_lookup_by_an_app_set_cookie_is_session_bound() -> None:
    """A cookie the module sets (its name an imported constant) is the browser's session
    id; data looked up by it, through a method of a parameter typed with a module class,
    is bound to the session. A lookup by a cookie the app never sets is not."""
    assert Kind.SESSION in value_of(SESSION_ID_COOKIE).kinds()
    assert Kind.SESSION not in value_of(SESSION_ID_COOKIE, "other").kinds()

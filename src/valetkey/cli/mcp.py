"""`valetkey mcp serve`: the reference protected MCP server, trusting the sandbox."""

from __future__ import annotations

from urllib.parse import urlsplit

import click

DEFAULT_URL = "http://127.0.0.1:8790/mcp"


@click.group()
def mcp() -> None:
    """The reference protected MCP server (needs the mcp extra: pip install 'valetkey[mcp]')."""


@mcp.command("serve")
@click.option(
    "--url",
    default=DEFAULT_URL,
    show_default=True,
    help="The canonical server URL: where it listens, and the audience its tokens must name.",
)
@click.option(
    "--issuer",
    default="http://127.0.0.1:8400",
    show_default=True,
    help="The authorization server it trusts (the sandbox), exactly as its tokens name it.",
)
@click.option(
    "--client-id",
    envvar="VALETKEY_MCP_CLIENT_ID",
    default=None,
    help="Its own client at the sandbox (introspection, the photos API). "
    "[env: VALETKEY_MCP_CLIENT_ID]",
)
@click.option(
    "--client-secret",
    envvar="VALETKEY_MCP_CLIENT_SECRET",
    default=None,
    help="That client's secret; prefer the environment variable. [env: VALETKEY_MCP_CLIENT_SECRET]",
)
def serve(url: str, issuer: str, client_id: str | None, client_secret: str | None) -> None:
    """Serve MCP (streamable HTTP) at URL, protected by tokens from ISSUER.

    \b
    Tools: list_photos (photos.read), print_photo (photos.read photos.print).
    Metadata: /.well-known/oauth-protected-resource/mcp and /.well-known/oauth-protected-resource
    """
    try:
        import uvicorn

        from valetkey.mcp.server import McpSettings, build_app
        from valetkey.mcp.upstream import Credentials
    except ImportError as exc:
        raise click.ClickException(
            f"the MCP server needs the mcp extra ({exc.name} is missing): "
            "pip install 'valetkey[mcp]'"
        ) from None
    if bool(client_id) != bool(client_secret):
        raise click.ClickException("give both --client-id and --client-secret, or neither")
    creds = Credentials(client_id, client_secret) if client_id and client_secret else None
    where = urlsplit(url)
    if where.scheme not in ("http", "https") or not where.hostname or not where.path:
        raise click.ClickException(f"--url must be an http(s) URL with a path, not {url!r}")
    app = build_app(McpSettings(url, issuer, creds))
    click.echo(f"MCP server at {url}, trusting {issuer}")
    port = where.port or (443 if where.scheme == "https" else 80)
    uvicorn.run(app, host=where.hostname, port=port, log_level="warning")

"""The `valetkey` command: one click group whose subcommands are imported only when used.

Keeping the imports lazy keeps `valetkey --help` and `valetkey serve` quick to start: the
auditor's modules are not loaded to serve tokens, and the server's are not loaded to audit.
"""

from __future__ import annotations

import importlib

import click

from valetkey import __version__

# name -> ("module:attribute", one-line help shown by `valetkey --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("valetkey.cli.serve:serve", "Run the sandbox OAuth 2.0 / OpenID Connect provider."),
    "users": ("valetkey.cli.users:users", "Add and list the sandbox's users (no server needed)."),
    "clients": ("valetkey.cli.clients:clients", "Add, list and remove registered clients."),
    "resources": (
        "valetkey.cli.resources:resources",
        "Add, list and remove protected resources (RFC 8707 resource indicators).",
    ),
    "demo": ("valetkey.cli.demo:demo", "Walk through the authorization-code flow, step by step."),
    "client": ("valetkey.cli.client:client", "Run the photo-printer reference app."),
    "lab": ("valetkey.cli.lab:lab", "Play a classic OAuth attack: login-csrf, redirect-theft."),
    "mcp": ("valetkey.cli.mcp:mcp", "Run the reference protected MCP server (mcp serve)."),
    "probe": (
        "valetkey.cli.probe:probe",
        "Attack a live authorization server, client app or MCP server.",
    ),
    "trace": ("valetkey.cli.trace:trace", "Show recorded flows as diagrams (SVG, Mermaid)."),
    "audit": ("valetkey.cli.audit:audit", "Find OAuth/OIDC pitfalls in Python source."),
    "explain": (
        "valetkey.cli.explain:explain",
        "Explain a check id (AS-23, LC-14, OA103, ...): rule, attack, examples.",
    ),
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, _, attribute = entry[0].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - programming error
            raise TypeError(f"{entry[0]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="valetkey")
def cli() -> None:
    """valetkey: OAuth 2.0 and OpenID Connect, safe to build and easy to check.

    \b
    Start here:
      valetkey serve            a strict sandbox provider on http://127.0.0.1:8400
      valetkey demo             the authorization-code flow, step by step
      valetkey demo --mcp       MCP authorization, step by step
      valetkey audit src/       find OAuth pitfalls in your Python code
    """


def main() -> None:
    cli(prog_name="valetkey")

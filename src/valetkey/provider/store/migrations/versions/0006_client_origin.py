"""clients.application_type (OIDC Registration §2) and clients.origin (how it was registered)

Revision ID: 0006
Revises: 0005

`origin` is `admin` (the CLI, the admin API, the demo data), `dynamic` (RFC 7591 dynamic
registration) or `cimd` (a client ID metadata document). Rows from before this revision
were all registered by an admin; their application type is `native` when a redirect URI
uses a private-use scheme (RFC 8252 §7.1), else `web`.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("application_type", sa.String(16), nullable=False, server_default="web")
        )
        batch_op.add_column(
            sa.Column("origin", sa.String(16), nullable=False, server_default="admin")
        )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT client_id, redirect_uris FROM clients")).fetchall()
    for client_id, redirect_uris in rows:
        if not all(uri.startswith(("https:", "http:")) for uri in json.loads(redirect_uris)):
            bind.execute(
                sa.text("UPDATE clients SET application_type = 'native' WHERE client_id = :id"),
                {"id": client_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("origin")
        batch_op.drop_column("application_type")

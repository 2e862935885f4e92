"""resources, and the resources of pending requests, codes and tokens (RFC 8707)

Revision ID: 0005
Revises: 0004

The `resources` table holds the protected resources a `resource` parameter may name, with
the scopes each serves. Pending requests, codes and tokens from before this revision named
no resource: they get the empty list, which is what a request without `resource` still
gets (an access token for the sandbox's own API).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WITH_RESOURCES = ("auth_requests", "codes", "tokens")


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("uri", sa.String(2000), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    for table in WITH_RESOURCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("resources", sa.Text(), nullable=False, server_default="")
            )


def downgrade() -> None:
    for table in WITH_RESOURCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("resources")
    op.drop_table("resources")

"""clients.token_endpoint_auth_method and clients.response_types (RFC 7591 §2)

Revision ID: 0004
Revises: 0003

Rows registered before this revision get the values the RFC 7591 §2 defaults give their
registration: a public client (no secret) authenticates with `none`, a confidential one
with `client_secret_basic`, which is how the demo clients, the reference apps and the probes
send their secret; a client that posted its secret (`client_secret_post`) must be registered
again with `--auth-method client_secret_post`. A client registered for the
`authorization_code` grant gets the `code` response type, and nothing else.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_endpoint_auth_method", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("response_types", sa.Text(), nullable=True))
    op.execute(
        "UPDATE clients SET token_endpoint_auth_method = CASE WHEN secret_hash IS NULL"
        " THEN 'none' ELSE 'client_secret_basic' END,"
        " response_types = CASE WHEN grant_types LIKE '%\"authorization_code\"%'"
        " THEN '[\"code\"]' ELSE '[]' END"
    )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.alter_column(
            "token_endpoint_auth_method", existing_type=sa.String(32), nullable=False
        )
        batch_op.alter_column("response_types", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("response_types")
        batch_op.drop_column("token_endpoint_auth_method")

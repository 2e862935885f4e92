"""resources.client_id: the resource server's own client (RFC 7662 §2.1)

Revision ID: 0008
Revises: 0007

A protected resource may name the confidential client it authenticates as. That client may
then introspect the access tokens issued for the resource, as well as its own. Rows from
before this revision name none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_column("client_id")

"""auth_requests.response_type, for the implicit lab switch

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("response_type", sa.String(length=32), nullable=False, server_default="code")
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_requests", schema=None) as batch_op:
        batch_op.drop_column("response_type")

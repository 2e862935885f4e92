"""injected_faults: the faults the admin API injected, shared by the instances on one
database (each taken by exactly one request, at whichever instance it arrives)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "injected_faults",
        sa.Column("path_hash", sa.String(64), primary_key=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("delay", sa.Float(), nullable=False),
        sa.Column("malformed", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("injected_faults")

"""shared_state: what instances sharing a database share: the DPoP proof jtis seen (their
SHA-256) and the claims the admin API queued for a user's or a client's next token

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dpop_proofs",
        sa.Column("jti_hash", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_dpop_proofs_expires_at", "dpop_proofs", ["expires_at"])
    op.create_table(
        "queued_claims",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("claims", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("queued_claims")
    op.drop_index("ix_dpop_proofs_expires_at", "dpop_proofs")
    op.drop_table("dpop_proofs")

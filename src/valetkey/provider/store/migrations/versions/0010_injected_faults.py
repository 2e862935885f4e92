"""injected_faults: the faults the admin API injected, shared by the instances on one
database (each taken by exactly one request, at whichever instance it arrives); on
PostgreSQL, a version of the clients table that every change to it moves (a trigger), so
that instances can keep parsed clients between changes

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

    if op.get_bind().dialect.name == "postgresql":
        op.execute(CLIENTS_CHANGED)
        op.execute(
            "CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients"
            " FOR EACH STATEMENT EXECUTE FUNCTION valetkey_clients_changed()"
        )


# any change to the clients table, by any instance or tool, moves its version (one row)
CLIENTS_CHANGED = """
CREATE FUNCTION valetkey_clients_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO server_state (name, value) VALUES ('clients_version', '1')
  ON CONFLICT (name) DO UPDATE
  SET value = CAST(CAST(server_state.value AS BIGINT) + 1 AS TEXT);
  RETURN NULL;
END $$
"""


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER clients_changed ON clients")
        op.execute("DROP FUNCTION valetkey_clients_changed()")
    op.drop_table("injected_faults")

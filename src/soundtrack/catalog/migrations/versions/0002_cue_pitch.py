"""cues: pitch (episode Hz per recording Hz), for songs the scan found pitch-shifted

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cues") as batch:
        batch.add_column(sa.Column("pitch", sa.Float(), server_default="1.0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("cues") as batch:
        batch.drop_column("pitch")

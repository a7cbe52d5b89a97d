"""free-text comments, released to leaders in batches

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent_key", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "respondent_key"),
        # No rowid on SQLite, as for responses: insertion order must not be recoverable.
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("comments")

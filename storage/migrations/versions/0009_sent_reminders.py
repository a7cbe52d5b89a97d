"""reminders that persist (Slack DMs, Teams 1:1 chats) are kept until taken back at close

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sent_reminders_round_id", "sent_reminders", ["round_id"])


def downgrade() -> None:
    op.drop_index("ix_sent_reminders_round_id", table_name="sent_reminders")
    op.drop_table("sent_reminders")

"""a school year: holidays, quiet hours and weekends, reminders, counts kept at closing

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=True),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("holidays", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holidays_survey_id"), ["survey_id"], unique=False)

    # Existing surveys get the defaults new ones get: quiet 19:00-07:00, weekends quiet, a
    # reminder 24 hours before closing.
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quiet_start", sa.Time(), nullable=True, server_default="19:00:00"))
        batch_op.add_column(sa.Column("quiet_end", sa.Time(), nullable=True, server_default="07:00:00"))
        batch_op.add_column(sa.Column("quiet_weekends", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("remind_hours", sa.Integer(), nullable=False, server_default="24"))

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sent_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("sent_count")
        batch_op.drop_column("reminded_at")

    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_column("remind_hours")
        batch_op.drop_column("quiet_weekends")
        batch_op.drop_column("quiet_end")
        batch_op.drop_column("quiet_start")

    with op.batch_alter_table("holidays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holidays_survey_id"))

    op.drop_table("holidays")

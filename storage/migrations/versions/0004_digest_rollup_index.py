"""a covering index for the digest's rollup query

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain CREATE INDEX: no table rebuild, so the responses table keeps WITHOUT ROWID on SQLite.
    op.create_index(
        "ix_responses_rollup",
        "responses",
        ["round_id", "item_id", "facet", "segment", "score", "valence"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_responses_rollup", table_name="responses")

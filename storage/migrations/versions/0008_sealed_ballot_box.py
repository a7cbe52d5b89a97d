"""forward anonymity: a key per round, a ballot box sealed into counts at close

Revision ID: 0008
Revises: 0007

Answers of open rounds move to `held_answers` (keyed under a per-round key in `round_keys`),
closed rounds keep only `sealed_counts`, comments likewise. Existing closed rounds are sealed
here. Rounds still open are closed and sealed too: their keys were made with the old scheme
(HMAC of the deployment's secret), which would let anyone holding that secret re-link them, and
the migration cannot re-key them without the secret. Their answers are kept as counts.
"""

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GROUPS = "round_id, bank_id, item_id, facet, segment, score, valence, option, bank_version"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "round_keys",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id"),
        # Never in PostgreSQL's WAL (so in no archive or replica either); gone after a crash, which
        # closes the round early with the answers it has (surveys/closing.py).
        prefixes=["UNLOGGED"] if _postgres() else [],
    )
    op.create_table(
        "held_answers",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent_key", sa.String(length=64), nullable=False),
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("bank_id", sa.String(length=80), nullable=False),
        sa.Column("item_id", sa.String(length=80), nullable=False),
        sa.Column("bank_version", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("option", sa.String(length=40), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("valence", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("picks", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "respondent_key", "facet"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "sealed_counts",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.String(length=80), nullable=False),
        sa.Column("item_id", sa.String(length=80), nullable=False),
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("valence", sa.SmallInteger(), nullable=False),
        sa.Column("option", sa.String(length=40), nullable=False),
        sa.Column("bank_version", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(
            "round_id", "bank_id", "item_id", "facet", "segment", "score", "valence", "option", "bank_version"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "held_comments",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent_key", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "respondent_key"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "sealed_comments",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "ordinal"),
        sqlite_with_rowid=False,
    )
    # Plain ADD COLUMNs (no batch rebuild of `rounds`).
    op.add_column("rounds", sa.Column("k", sa.Integer(), nullable=False, server_default="5"))
    op.add_column("rounds", sa.Column("scrub_pending", sa.Boolean(), nullable=False, server_default=sa.false()))

    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE rounds SET k = (SELECT CASE WHEN s.k < 3 THEN 3 ELSE s.k END FROM surveys s"
            " WHERE s.id = rounds.survey_id)"
        )
    )
    now = dt.datetime.now(dt.UTC)
    bind.execute(
        sa.text(
            "UPDATE rounds SET sent_count = (SELECT count(*) FROM deliveries d"
            " WHERE d.round_id = rounds.id AND d.status = 'sent'), closed_at = :now WHERE closed_at IS NULL"
        ),
        {"now": now},
    )
    bind.execute(sa.text("DELETE FROM deliveries WHERE round_id IN (SELECT id FROM rounds WHERE closed_at = :now)"),
                 {"now": now})
    bind.execute(
        sa.text(
            f"INSERT INTO sealed_counts ({GROUPS}, n) SELECT {GROUPS}, count(*) FROM responses"
            f" GROUP BY {GROUPS} ORDER BY {GROUPS}"
        )
    )
    comments = bind.execute(sa.text("SELECT round_id, text FROM comments")).all()
    by_round: dict[int, list[str]] = {}
    for round_id, text in comments:
        by_round.setdefault(int(round_id), []).append(str(text))
    rows = []
    for round_id, texts in sorted(by_round.items()):
        ordered = sorted(texts, key=lambda t: _text_order(round_id, t))  # noqa: B023 (used at once)
        rows += [{"round_id": round_id, "ordinal": i, "text": text} for i, text in enumerate(ordered)]
    if rows:
        insert = "INSERT INTO sealed_comments (round_id, ordinal, text) VALUES (:round_id, :ordinal, :text)"
        bind.execute(sa.text(insert), rows)
    bind.execute(
        sa.text(
            "UPDATE rounds SET scrub_pending = :yes WHERE id IN (SELECT round_id FROM responses)"
            " OR id IN (SELECT round_id FROM comments)"
        ),
        {"yes": True},
    )
    op.drop_index("ix_responses_rollup", table_name="responses")
    op.drop_index("ix_responses_round_item", table_name="responses")
    op.drop_table("responses")
    op.drop_table("comments")


def _text_order(round_id: int, text: str) -> str:
    return hashlib.sha256(f"{round_id}|{text}".encode()).hexdigest()


def downgrade() -> None:
    """Back to per-answer rows: each sealed count becomes that many rows under random keys."""
    op.create_table(
        "responses",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=80), nullable=False),
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("respondent_key", sa.String(length=64), nullable=False),
        sa.Column("bank_id", sa.String(length=80), nullable=False),
        sa.Column("bank_version", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("option", sa.String(length=40), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("valence", sa.SmallInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "item_id", "facet", "respondent_key"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_responses_round_item", "responses", ["round_id", "item_id", "segment"], unique=False)
    op.create_index(
        "ix_responses_rollup",
        "responses",
        ["round_id", "item_id", "facet", "segment", "score", "valence"],
        unique=False,
    )
    op.create_table(
        "comments",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent_key", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "respondent_key"),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    counts = bind.execute(
        sa.text(
            f"SELECT {GROUPS}, n, r.opened_at FROM sealed_counts JOIN rounds r ON r.id = sealed_counts.round_id"
        )
    ).all()
    rows = []
    for c in counts:
        day = c.opened_at if isinstance(c.opened_at, dt.datetime) else dt.datetime.fromisoformat(str(c.opened_at))
        for _ in range(int(c.n)):
            rows.append(
                {
                    "round_id": c.round_id, "item_id": c.item_id, "facet": c.facet,
                    "respondent_key": secrets.token_hex(32), "bank_id": c.bank_id,
                    "bank_version": c.bank_version, "segment": c.segment, "option": c.option,
                    "score": c.score, "valence": c.valence, "day": day.date(),
                }
            )
    if rows:
        bind.execute(
            sa.text(
                "INSERT INTO responses (round_id, item_id, facet, respondent_key, bank_id, bank_version, segment,"
                " option, score, valence, day) VALUES (:round_id, :item_id, :facet, :respondent_key, :bank_id,"
                " :bank_version, :segment, :option, :score, :valence, :day)"
            ),
            rows,
        )
    sealed = bind.execute(sa.text("SELECT round_id, text FROM sealed_comments")).all()
    if sealed:
        bind.execute(
            sa.text("INSERT INTO comments (round_id, respondent_key, segment, text) VALUES (:r, :k, '', :t)"),
            [{"r": r, "k": secrets.token_hex(32), "t": t} for r, t in sealed],
        )
    # Plain DROP COLUMNs (SQLite 3.35+), not a batch rebuild: with foreign keys on, dropping the
    # old `rounds` table would cascade into the rows just restored above.
    op.execute("ALTER TABLE rounds DROP COLUMN scrub_pending")
    op.execute("ALTER TABLE rounds DROP COLUMN k")
    op.drop_table("sealed_comments")
    op.drop_table("held_comments")
    op.drop_table("sealed_counts")
    op.drop_table("held_answers")
    op.drop_table("round_keys")

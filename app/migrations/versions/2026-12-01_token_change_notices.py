"""token change notices: NOTIFY bordermark_tokens after changes to api_tokens, so each
process's cache of resolved tokens (app/auth/token_cache.py) drops them on commit

Revision ID: 4c8e1a5f7b32
Revises: 9f4b2d7e6a13
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "4c8e1a5f7b32"
down_revision: str | None = "9f4b2d7e6a13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION bordermark_notify_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('bordermark_tokens', TG_OP);
          RETURN NULL;
        END $$
        """
    )
    # A new token is never in a cache (unknown tokens are not cached): changes only.
    op.execute(
        "CREATE TRIGGER api_tokens_notify AFTER UPDATE OR DELETE OR TRUNCATE ON api_tokens "
        "FOR EACH STATEMENT EXECUTE FUNCTION bordermark_notify_tokens()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER api_tokens_notify ON api_tokens")
    op.execute("DROP FUNCTION bordermark_notify_tokens()")

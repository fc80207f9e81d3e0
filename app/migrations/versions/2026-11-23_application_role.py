"""application role: what the service's database login may do (no UPDATE/DELETE of the
audit log or incident history)

Revision ID: 8d2f4a6c1e90
Revises: 5b1c0e7d9a21
Create Date: 2026-11-23 23:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8d2f4a6c1e90"
down_revision: str | None = "5b1c0e7d9a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "bordermark_app"
APPEND_ONLY = ("audit_log", "incident_history")
READ_ONLY = ("alembic_version", "spatial_ref_sys")


def upgrade() -> None:
    # Roles belong to the cluster, not the database: create it once, grant per database.
    # Production logs in as a member: CREATE ROLE bordermark_web LOGIN IN ROLE bordermark_app.
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
            CREATE ROLE {ROLE} NOLOGIN;
          END IF;
        END $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")
    for table in APPEND_ONLY:  # the trigger refuses the owner too; this is the second wall
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {ROLE}")
    for table in READ_ONLY:
        op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {ROLE}")
    # Tables later migrations create get the same grants (append-only ones revoke again).
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {ROLE}"
    )


def downgrade() -> None:
    # The role stays (other databases of the cluster may use it); this database forgets it.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {ROLE}")

"""Storage: SQLAlchemy Core tables, Alembic migrations and the queries the provider runs."""

"""store: SQLAlchemy Core tables and one module per aggregate."""

# Alembic revisions (a package only so that an installed wheel ships them; alembic skips this file).

"""Fixtures shared by the backend and fault suites."""
import pytest


# PostgreSQL, the scale-out store (hallmark.devdb)
@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory):
    """One throw-away PostgreSQL server for the session (Debian's package, installed by `make test-backend`)."""
    from hallmark import devdb

    cluster = devdb.start(tmp_path_factory.mktemp("postgres"))
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster):
    """A fresh, empty database on the session's PostgreSQL, as a SQLAlchemy URL (DATABASE_URL); dropped after."""
    import uuid

    name = f"test_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name)
    yield url
    pg_cluster.drop_database(name)

"""The gradebook database: drivers, schema, and many graders writing at once.

nbgrader talks to the gradebook through SQLAlchemy, so ``NBGRADER_DB_URL`` is
an SQLAlchemy URL. SQLAlchemy 2.x reads ``postgresql://`` as psycopg 3
(``pip install "psycopg[binary]"``, the ``postgres`` extra of this package);
``postgresql+psycopg2://`` names psycopg2 (``pip install psycopg2-binary``).

Concurrency: ``python -m bn_helpers.grading autograde`` grades each student in
its own process, all writing the one gradebook. PostgreSQL serialises them
itself. SQLite does too, with a file lock; a writer that finds the file locked
waits (the busy timeout, raised here to 60 s from Python's 5 s) instead of
failing. Every write nbgrader makes for one student is a short transaction on
that student's own rows, so nothing is lost; a student whose grading still
fails on a locked database is graded again (:mod:`.runner`), and every result
is read back from the gradebook before the table calls it graded.
"""
from __future__ import annotations

from contextlib import contextmanager

from .errors import GradingError

__all__ = ["install_busy_timeout", "check_driver", "ensure_schema", "upgrade", "open_gradebook", "BUSY_TIMEOUT_MS"]

BUSY_TIMEOUT_MS = 60_000
_installed = False


def install_busy_timeout(ms: int = BUSY_TIMEOUT_MS) -> None:
    """Make every SQLite connection SQLAlchemy opens in this process wait ``ms`` for a lock."""
    global _installed
    if _installed:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _busy_timeout(dbapi_connection, connection_record):  # noqa: ANN001
        if type(dbapi_connection).__module__.startswith(("sqlite3", "pysqlite")):
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(ms)}")
            cursor.close()

    _installed = True


def check_driver(url: str) -> None:
    """Fail with the install command when the URL's database driver is missing.

    Raises
    ------
    GradingError
        If SQLAlchemy does not know the URL, or its driver cannot be imported.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError


    try:
        parsed = make_url(url)
        dialect = parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise GradingError(f"the gradebook URL {_hide_password(url)} is not an SQLAlchemy URL: {exc}") from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        hint = ""
        if parsed.get_backend_name() == "postgresql":
            hint = (' Install psycopg 3 with `pip install "psycopg[binary]"` (or `pip install -e ".[postgres]"`), '
                    "or, with psycopg2-binary installed, write the URL as postgresql+psycopg2://...")
        raise GradingError(f"the gradebook URL {_hide_password(url)} needs the driver "
                           f"{parsed.get_driver_name()!r}, which is not installed ({exc}).{hint}") from None


def _hide_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<url>"


def _table_names(url: str) -> list[str]:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def ensure_schema(url: str, course_id: str = "default_course") -> bool:
    """Create nbgrader's tables in an empty database (stamped with nbgrader's migration head).

    Returns whether the database was empty. nbgrader itself does the same the
    first time any command opens the gradebook; doing it once, first, means
    parallel graders never race to create it.

    Raises
    ------
    GradingError
        If the driver is missing or the database cannot be reached.
    """
    from sqlalchemy.exc import SQLAlchemyError


    check_driver(url)
    install_busy_timeout()
    try:
        empty = not _table_names(url)
        with open_gradebook(url, course_id):
            pass
    except SQLAlchemyError as exc:
        raise GradingError(f"cannot open the gradebook {_hide_password(url)}: {exc.__class__.__name__}: "
                           f"{str(exc).splitlines()[0]}") from None
    return empty


def upgrade(url: str, course_id: str = "default_course") -> str:
    """``nbgrader db upgrade`` that also works on an empty database.

    nbgrader's migrations start from the tables of an old nbgrader, so on an
    empty database (a new PostgreSQL one) ``nbgrader db upgrade`` fails; here an
    empty database gets the current tables instead, and one with tables is
    migrated by nbgrader's own ``alembic`` scripts.
    """
    if ensure_schema(url, course_id):
        return "created the gradebook's tables"
    from nbgrader import dbutil

    dbutil.upgrade(url)
    return "upgraded the gradebook to nbgrader's current schema"


@contextmanager
def open_gradebook(url: str, course_id: str = "default_course"):
    """nbgrader's :class:`~nbgrader.api.Gradebook`, closed on exit."""
    from nbgrader.api import Gradebook

    install_busy_timeout()
    gb = Gradebook(url, course_id)
    try:
        yield gb
    finally:
        gb.close()

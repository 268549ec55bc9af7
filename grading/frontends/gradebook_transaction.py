"""One transaction around everything nbgrader writes for a student (mnist-kit autograde).

nbgrader's code opens a new `Gradebook(db_url)` (an engine, a session, a commit) for
each step of autograding: the student, the submission and its timestamp, the zero
of a missing notebook, every grade and comment, the late penalty. Run as it is, an
interruption between two of those commits leaves a student half recorded.

    with GradebookTransactions(db_url) as gradebook:     # every Gradebook of nbgrader here uses ...
        with gradebook.transaction():                   # ... this one connection, in this transaction
            converter.init_assignment(...)              # nbgrader's own code, unchanged
            converter.convert_single_notebook(...)
        # committed here, as a whole; rolled back as a whole if anything raised

While it is active, `nbgrader.api.create_engine` hands every Gradebook of that
database the one connection of the open transaction (SQLAlchemy then "joins" it: a
Gradebook's commit writes nothing yet, a rollback undoes the whole transaction), so
the code that runs is nbgrader's own, grade by grade, only the commit is ours. Any
other database URL gets an engine of its own, as before. Outside a transaction the
course's gradebook is not available (a RuntimeError says so): nothing can write it
behind the transaction's back.

Each Gradebook nbgrader opens also checks that every table exists (SQLAlchemy's
create_all, and an inspection of the table names) and that the course's row exists
(check_course, which adds it if not): on the one connection the tables are checked
once per run and a course once per transaction, not a dozen times per notebook (the
tables do not come and go while nbgrader grades, and a row added in a transaction
is there until it ends).
"""

import contextlib
import threading
from collections.abc import Iterator
from typing import Any


class GradebookTransactions:
    """Route every nbgrader Gradebook of `db_url` in this process through one transaction at a time."""

    def __init__(self, db_url: str) -> None:
        from sqlalchemy import create_engine

        self.db_url = db_url
        self.engine = create_engine(db_url, future=True)
        self._connection = None
        self._original = None
        self._lock = threading.RLock()

    def __enter__(self) -> "GradebookTransactions":
        import nbgrader.api

        self._original = nbgrader.api.create_engine
        self._original_inspect = nbgrader.api.inspect
        self._original_create_all = nbgrader.api.Base.metadata.create_all
        self._original_check_course = nbgrader.api.Gradebook.check_course
        self._tables: list[str] | None = None
        self._courses: set[str] = set()
        nbgrader.api.create_engine = self._create_engine
        nbgrader.api.inspect = self._inspect
        nbgrader.api.Base.metadata.create_all = self._create_all
        transactions = self

        def check_course(gradebook: Any, course_id: str = "default_course", **kwargs: Any) -> Any:
            ours = transactions._connection is not None and gradebook.engine is transactions._connection
            if ours and not kwargs and course_id in transactions._courses:
                return None  # Gradebook.__init__, its only caller, ignores what it returns
            course = transactions._original_check_course(gradebook, course_id=course_id, **kwargs)
            if ours:
                transactions._courses.add(course_id)
            return course

        nbgrader.api.Gradebook.check_course = check_course
        return self

    def __exit__(self, *exc: object) -> None:
        import nbgrader.api

        nbgrader.api.create_engine = self._original
        nbgrader.api.inspect = self._original_inspect
        nbgrader.api.Gradebook.check_course = self._original_check_course
        del nbgrader.api.Base.metadata.create_all  # the method of the class again
        self.engine.dispose()

    def _inspect(self, target: Any) -> Any:
        if self._connection is None or target is not self._connection:
            return self._original_inspect(target)
        if self._tables is None:
            self._tables = list(self._original_inspect(target).get_table_names())
        return _TableNames(self._tables)

    def _create_all(self, *args: Any, bind: Any = None, **kwargs: Any) -> None:
        if self._connection is not None and bind is self._connection and self._tables_created:
            return
        self._original_create_all(*args, bind=bind, **kwargs)
        if self._connection is not None and bind is self._connection:
            self._tables_created = True

    _tables_created = False

    def _create_engine(self, url: Any, *args: Any, **kwargs: Any) -> Any:
        if str(url) != self.db_url:
            return self._original(url, *args, **kwargs)
        if self._connection is None:
            raise RuntimeError(f"the gradebook {self.db_url} was opened outside a transaction")
        return self._connection

    @contextlib.contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Any]:
        """Everything nbgrader does to the gradebook inside: committed at the end if `commit`
        and nothing raised, else rolled back. Yields the connection (for reading it directly).

        If nbgrader rolls the transaction back itself (it does so on a database error and then
        raises), nothing more can be written in it: a new transaction on the connection is
        refused, and the block ends with an error instead of a commit.
        """
        from sqlalchemy import event

        with self._lock:
            if self._connection is not None:
                raise RuntimeError("a gradebook transaction is already open")
            connection = self.engine.connect()
            connection.dispose = lambda *args, **kwargs: None  # Gradebook.close() disposes its "engine"
            outer = connection.begin()

            def refuse(conn: Any) -> None:
                raise RuntimeError("the gradebook transaction was rolled back by nbgrader; nothing was recorded")

            event.listen(connection, "begin", refuse)
            self._connection = connection
            try:
                yield connection
                if not outer.is_active:
                    raise RuntimeError("the gradebook transaction was rolled back by nbgrader; nothing was recorded")
                if commit:
                    outer.commit()
                else:
                    outer.rollback()
            except BaseException:
                if outer.is_active:
                    outer.rollback()
                raise
            finally:
                self._connection = None
                self._courses = set()
                event.remove(connection, "begin", refuse)
                connection.close()


class _TableNames:
    """What nbgrader's Gradebook asks an inspector: the table names (read once per run)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def get_table_names(self) -> list[str]:
        return list(self.names)

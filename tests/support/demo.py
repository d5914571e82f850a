"""The demo content for tests, loaded by its loaders once per test process and copied after that.

The loaders take some 650 queries and a third of a second on every load; the rows they leave are
the same each time. The first load runs in a transaction that is rolled back, keeping the rows it
added (exactly as the database returned them, on-commit work included); each test then gets them
by one multi-row insert per table.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Model
from django.test import TestCase

Rows = list[tuple[Any, ...]]
Loader = Callable[[], object]


def run_loaders(loaders: Sequence[Loader]) -> None:
    # As a committed transaction leaves them: search texts are rebuilt at the commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        for load in loaders:
            load()


def stored_models() -> list[type[Model]]:
    """Every model with a table of its own, many-to-many tables and historical records included."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and not model._meta.swapped
    ]


def _columns(model: type[Model]) -> list[str]:
    return [field.column for field in model._meta.concrete_fields]


def table_rows(model: type[Model]) -> Rows:
    """The rows of the model's table as the database driver returns them, columns as in the model."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in _columns(model))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {quote(model._meta.db_table)}")  # noqa: S608 (names only)
        return [tuple(row) for row in cursor.fetchall()]


def _primary_key_index(model: type[Model]) -> int:
    return _columns(model).index(model._meta.pk.column)


class DemoRows:
    """The rows the demo loaders add to an otherwise unchanged database, table by table."""

    def __init__(self, tables: dict[type[Model], Rows]) -> None:
        self.tables = tables

    @classmethod
    def capture(cls, loaders: Sequence[Loader]) -> "DemoRows":
        """Run the loaders in a transaction that is rolled back; keep what they added."""
        models = stored_models()
        with transaction.atomic():
            before = {
                model: {row[_primary_key_index(model)] for row in table_rows(model)} for model in models
            }
            run_loaders(loaders)
            tables = {}
            for model in models:
                index = _primary_key_index(model)
                added = [row for row in table_rows(model) if row[index] not in before[model]]
                if added:
                    tables[model] = added
            transaction.set_rollback(True)
        return cls(tables)

    def insert(self) -> None:
        """Insert the rows as they were; foreign keys are checked at the commit, so the order of the
        tables does not matter. Sequences move past the inserted keys (PostgreSQL)."""
        quote = connection.ops.quote_name
        with transaction.atomic(), connection.cursor() as cursor:
            for model, rows in self.tables.items():
                columns = _columns(model)
                placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
                # SQLite takes at most 999 parameters in one statement.
                per_statement = max(1, 999 // len(columns))
                for start in range(0, len(rows), per_statement):
                    batch = rows[start : start + per_statement]
                    cursor.execute(
                        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 (names only)
                        f"({', '.join(quote(column) for column in columns)}) "
                        f"VALUES {', '.join([placeholders] * len(batch))}",
                        [value for row in batch for value in row],
                    )
            for statement in connection.ops.sequence_reset_sql(no_style(), list(self.tables)):
                cursor.execute(statement)


_captured: dict[tuple[str, ...], DemoRows] = {}


def load_demo(*loaders: Loader) -> None:
    """What the demo ``loaders`` (run in this order) store, as a committed load leaves it."""
    key = (connection.alias, *(f"{load.__module__}.{load.__qualname__}" for load in loaders))
    if key not in _captured:
        _captured[key] = DemoRows.capture(loaders)
    _captured[key].insert()

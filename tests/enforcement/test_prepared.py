"""Prepared statements: planned once per session, the same answers as the plain statement."""

import pytest
from django.db import connection, transaction

from enforcement import prepared


def test_placeholders_are_numbered_and_a_literal_percent_stays():
    assert prepared._numbered("SELECT %s, %s WHERE a LIKE 'x%%'") == "SELECT $1, $2 WHERE a LIKE 'x%'"


def _prepared_here() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_a_statement_is_prepared_once_per_session_and_again_on_a_new_connection():
    sql = "SELECT %s::int + %s::int"
    with connection.cursor() as cursor:
        prepared.execute(cursor, "test_sum", sql, [2, 3])
        assert cursor.fetchone() == (5,)
    assert "test_sum" in _prepared_here()
    try:
        with transaction.atomic():  # a rollback does not take the prepared statement with it
            with connection.cursor() as cursor:
                prepared.execute(cursor, "test_sum", sql, [4, 5])
                assert cursor.fetchone() == (9,)
            raise RuntimeError
    except RuntimeError:
        pass
    with connection.cursor() as cursor:
        prepared.execute(cursor, "test_sum", sql, [1, 1])
        assert cursor.fetchone() == (2,)
    connection.close()  # a new session knows no prepared statement: it is prepared again
    with connection.cursor() as cursor:
        prepared.execute(cursor, "test_sum", sql, [10, 20])
        assert cursor.fetchone() == (30,)
    assert "test_sum" in _prepared_here()


@pytest.mark.django_db(transaction=True)
def test_a_statement_prepared_but_not_noted_is_used_as_it_is():
    """An interruption between PREPARE and its noting leaves the statement on the server only: the
    next use finds it there instead of preparing it again (which PostgreSQL refuses)."""
    with connection.cursor() as cursor:
        prepared.execute(cursor, "test_twice", "SELECT %s::int * 2", [21])
        assert cursor.fetchone() == (42,)
    prepared._prepared[connection.connection].discard("test_twice")
    with connection.cursor() as cursor:
        prepared.execute(cursor, "test_twice", "SELECT %s::int * 2", [5])
        assert cursor.fetchone() == (10,)

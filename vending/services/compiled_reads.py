"""Hot reads compiled once: the ORM writes the statement the first time, later calls only run it.

A `QuerySet.get` builds the query, its WHERE tree and its SQL anew on every call; on the vend path that cost
more than the statements themselves (docs/BENCHMARKS.md, issue 18). A `CompiledRead` asks the ORM for the
statement of its queryset once per database (the same SQL, FOR UPDATE clause and joins the ORM runs), and on
each call executes that SQL with the new parameters and builds the rows as the ORM's own iterator does: every
column through its converters, `Model.from_db`, the `select_related` rows cached by Django's own populators.

Only the filter values change between calls, and they are checked to be the statement's parameters, in order,
when it is compiled. Passing them as the column's Python type (an int id, a str) is the caller's part: the ORM
would have converted them, this does not.
"""

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=models.Model)


class _Compiled:
    """One read's statement and row layout on one database."""

    def __init__(self, queryset: models.QuerySet, params: tuple[Any, ...]) -> None:
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, compiled_params = compiler.as_sql()
        if tuple(compiled_params) != params:
            raise ValueError(f"the compiled read's parameters {compiled_params!r} are not {params!r}")
        self.sql = sql
        self.locks = bool(queryset.query.select_for_update)
        klass_info = compiler.klass_info
        assert klass_info is not None
        select = compiler.select
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [s[0].target.attname for s in select[self.start : self.end]]
        # Django 5.2 takes three arguments; the stubs already follow a later signature.
        self.populators = get_related_populators(klass_info, select, queryset.db)  # type: ignore[call-arg]
        self.converters = list(compiler.get_converters([s[0] for s in select[0 : compiler.col_count]]).items())


class CompiledRead(Generic[M]):
    """`build(*params)` is the queryset (a filter on `params`, ordered and sliced as wanted); `rows(*params)` its
    rows, `get(*params)` its one row (DoesNotExist / MultipleObjectsReturned as `QuerySet.get` raises them)."""

    def __init__(self, model: type[M], build: Callable[..., models.QuerySet[M]]) -> None:
        self.model = model
        self.build = build
        # Per database alias: the statement depends on the backend and its settings, not on the thread's connection.
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, *params: Any, using: str = DEFAULT_DB_ALIAS) -> list[M]:
        if None in params:  # the ORM would write IS NULL for it, not the compiled `= %s`
            raise ValueError("a compiled read takes no None parameter")
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = _Compiled(self.build(*params).using(using), params)
        connection = connections[using]
        if compiled.locks and connection.features.has_select_for_update and connection.get_autocommit():
            # as the ORM refuses it: a lock outside a transaction would be released at once
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        found = []
        for fetched_row in fetched:
            row = list(fetched_row)
            for pos, (converters, expression) in compiled.converters:
                value = row[pos]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[pos] = value
            obj = self.model.from_db(using, compiled.init_list, row[compiled.start : compiled.end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def get(self, *params: Any, using: str = DEFAULT_DB_ALIAS) -> M:
        found = self.rows(*params, using=using)
        if len(found) == 1:
            return found[0]
        name = self.model._meta.object_name
        if not found:
            raise self.model.DoesNotExist(f"{name} matching query does not exist.")  # type: ignore[attr-defined]
        raise self.model.MultipleObjectsReturned(  # type: ignore[attr-defined]
            f"get() returned more than one {name} -- it returned {len(found)}!"
        )

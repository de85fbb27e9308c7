"""Building the records of large tables quickly: :func:`builder`.

Every record sheetbill reads (a :class:`~sheetbill.models.Customer`, an Invoice, a Charge, ...) is a frozen
dataclass with ``__slots__``, so issued history cannot be changed by accident once it is read. The price is
in the ``__init__`` that :mod:`dataclasses` writes for a frozen class: it must set each field through
``object.__setattr__`` (its own ``__setattr__`` refuses), which makes a Customer of 20 fields cost about
5 us to build against 1.5 us for the same class unfrozen. A table of 100,000 customers pays half a
second for that alone.

:func:`builder` gives a callable that builds the same record at the unfrozen price: it builds an instance
of a *twin* class (the same fields and defaults, with the same slots in the same order, not frozen) and
then makes the instance one of the real class (``__class__`` assignment, which Python allows between
classes whose instances have the same layout). The result is an instance of the real class in every
respect: frozen, equal, hashed, printed, pickled and copied as one built by the class itself, which a
test checks for every record class the readers build.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from itertools import repeat
from operator import attrgetter
from typing import Any


def builder(factory: Callable[..., Any], blank: frozenset[str] = frozenset()) -> Callable[..., Any]:
    """A callable that builds what ``factory(**values)`` builds, faster when ``factory`` is a frozen
    dataclass with slots whose ``__init__`` is the generated one and that has no ``__post_init__``;
    ``factory`` itself otherwise (a function, or a class this does not apply to).

    With ``blank``, each field named there that is not given is None, whatever its default (history read
    back: an empty cell is None); the twin class has that default, so no call merges dictionaries.

    The callable made for a class also has ``columns``, which builds the records of a whole block of
    rows given column by column (:func:`_columns_builder`; :func:`sheetbill.tables.read_table` uses it)."""
    if isinstance(factory, type):
        return _class_builder(factory, blank)
    return factory if not blank else _with_blanks(factory, blank)


def _with_blanks(factory: Callable[..., Any], blank: frozenset[str]) -> Callable[..., Any]:
    """``factory`` called with None for each field of ``blank`` not given."""
    nones = dict.fromkeys(sorted(blank))

    def build(**values: Any) -> Any:
        return factory(**(nones | values))

    return build


@cache  # classes only: a reader's factory function (often a closure over its run) is not kept
def _class_builder(factory: type, blank: frozenset[str] = frozenset()) -> Callable[..., Any]:
    """:func:`builder` of a class, made once per class and ``blank``."""
    if not _builds_plainly(factory):
        return _with_blanks(factory, blank) if blank else factory
    twin = dataclasses.make_dataclass(
        # with blanks, every field is keyword-only: a blank field with its default None may come before one
        # without a default (the builder is called with keywords alone, so nothing else changes)
        factory.__name__, [_twin_field(fld, fld.name in blank, bool(blank)) for fld in dataclasses.fields(factory)],
        slots=True, eq=False, repr=False, match_args=False)
    twin.__module__ = factory.__module__

    def build(**values: Any) -> Any:
        record = twin(**values)
        record.__class__ = factory
        return record

    build.__doc__ = f"Builds a {factory.__name__} (see sheetbill.records.builder)."
    build.columns = _columns_builder(factory, blank)  # type: ignore[attr-defined]
    return build


#: A field with no value to give a record that leaves it out (no default, or a default factory).
_NO_DEFAULT = object()


def _columns_builder(factory: type, blank: frozenset[str]) -> Callable[..., list | None]:
    """``build.columns(columns, holes)`` of :func:`builder`: the records of a block of rows given column
    by column (``columns``: each field's values, one per row, all of equal length; ``holes``: for a field,
    the rows where it is not given), each what ``build(**values)`` gives for that row, or None when a
    left-out field has no value but from a default factory or none at all (call ``build`` per row then:
    it says what is wrong). The records are made by mapping :func:`rebuilt`'s builder over the columns."""
    fields = dataclasses.fields(factory)
    names = {fld.name for fld in fields}
    left_out = {fld.name: None if fld.name in blank else fld.default if fld.default is not dataclasses.MISSING
                else _NO_DEFAULT for fld in fields}
    make = _positional(factory)

    def build_columns(columns: Mapping[str, list], holes: Mapping[str, Sequence[int]]) -> list | None:
        if not columns or not names.issuperset(columns):
            return None
        count = len(next(iter(columns.values())))
        arguments = []
        for name, value in left_out.items():
            column = columns.get(name)
            if column is None or name in holes:
                if value is _NO_DEFAULT:
                    return None
                if column is None:
                    column = repeat(value, count)
                else:
                    column = list(column)
                    for index in holes[name]:
                        column[index] = value
            arguments.append(column)
        return list(map(make, *arguments))

    return build_columns


def share_values(records: Iterable[Any], name: str, canonical: Mapping[Any, Any]) -> None:
    """Give each record's field ``name`` the object ``canonical`` holds for its value, when it holds one.

    For a reader that has just built ``records`` and holds objects of those values already (a Charge's
    Customer ID is its customer's): a million charges then do not keep a million copies of a hundred
    thousand Customer IDs. ``canonical`` maps each value to an object equal to it and of its type
    (a dictionary of each value to itself, all of one type), so the records stay what they were in every
    respect but memory: equal, hashed, printed and pickled alike.
    """
    share = object.__setattr__  # how the frozen class's own __init__ sets its fields
    held_by = attrgetter(name)
    for record in records:
        held = held_by(record)
        value = canonical.get(held)
        if value is not None and value is not held:
            share(record, name, value)


def rebuilt(factory: type, values: Sequence[Any]) -> Any:
    """``factory(*values)`` (each field's value, in order), built as :func:`builder` builds it when
    ``factory`` is a class it applies to: how the run memo gives back its records
    (:func:`sheetbill.memo.unpack`), millions of them in a daily click."""
    return _positional(factory)(*values)


@cache
def _positional(factory: type) -> Callable[..., Any]:
    """:func:`rebuilt`'s builder of ``factory`` records from all their values, in field order."""
    if not _builds_plainly(factory):
        return factory
    # every value is given: positional, no defaults, so no field order rule stands in the way
    twin = dataclasses.make_dataclass(factory.__name__, [(fld.name, fld.type) for fld in dataclasses.fields(factory)],
                                      slots=True, eq=False, repr=False, match_args=False)

    def build(*values: Any) -> Any:
        record = twin(*values)
        record.__class__ = factory
        return record

    return build


def _builds_plainly(factory: type) -> bool:
    """True for a frozen dataclass with slots and no base class (so that a twin has its layout), without
    ``__post_init__`` and without init-only or non-init fields, whose ``__init__`` :mod:`dataclasses`
    generated (compiled from a string)."""
    if not dataclasses.is_dataclass(factory):
        return False
    params = factory.__dataclass_params__  # type: ignore[attr-defined]
    init = factory.__dict__.get("__init__")
    return (params.frozen and params.init and "__slots__" in factory.__dict__ and factory.__bases__ == (object,)
            and not hasattr(factory, "__post_init__")
            and all(fld.init for fld in dataclasses.fields(factory))
            and len(dataclasses.fields(factory)) == len(factory.__dataclass_fields__)  # type: ignore[attr-defined]
            and getattr(getattr(init, "__code__", None), "co_filename", "") == "<string>")


def _twin_field(fld: dataclasses.Field, blank: bool = False, keyword: bool = False
                ) -> tuple[str, Any, dataclasses.Field]:
    """The twin's field for ``fld``: its name, type, default (None when ``blank``) and whether it is
    keyword-only (always with ``keyword``)."""
    kw_only = keyword or fld.kw_only is True
    if blank:
        return fld.name, fld.type, dataclasses.field(default=None, kw_only=kw_only)
    if fld.default_factory is not dataclasses.MISSING:
        return fld.name, fld.type, dataclasses.field(default_factory=fld.default_factory, kw_only=kw_only)
    if fld.default is not dataclasses.MISSING:
        return fld.name, fld.type, dataclasses.field(default=fld.default, kw_only=kw_only)
    return fld.name, fld.type, dataclasses.field(kw_only=kw_only)

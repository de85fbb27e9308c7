"""Records built by sheetbill.records.builder are the records their classes build."""

import copy
import dataclasses
import pickle

import pytest

from sheetbill import models
from sheetbill.bank.entries import BankEntry
from sheetbill.records import builder, share_values

_RECORD_CLASSES = [cls for cls in vars(models).values()
                   if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == models.__name__]
_RECORD_CLASSES.append(BankEntry)  # the statement readers' record
_FAST = [cls for cls in _RECORD_CLASSES if builder(cls) is not cls]


def _values(cls, skip_defaults: bool) -> dict:
    """A distinct value for every field (for the defaulted ones only when not ``skip_defaults``)."""
    return {fld.name: f"{cls.__name__}.{fld.name}" for fld in dataclasses.fields(cls)
            if not skip_defaults or (fld.default is dataclasses.MISSING
                                     and fld.default_factory is dataclasses.MISSING)}


def _hash_of(record):
    try:
        return hash(record)
    except TypeError as err:  # a record holding a dict (Settings) is not hashable, however it is built
        return type(err)


def test_the_readers_records_are_built_fast():
    """The classes of the large tables take the fast way (else the test below proves nothing)."""
    assert {models.Customer, models.Invoice, models.InvoiceLine, models.Charge, models.Payment, BankEntry} <= set(_FAST)


@pytest.mark.parametrize("cls", _FAST, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("skip_defaults", [False, True], ids=["every field", "defaults left out"])
def test_a_built_record_is_the_record_its_class_builds(cls, skip_defaults):
    values = _values(cls, skip_defaults)
    built, made = builder(cls)(**values), cls(**values)
    assert type(built) is cls
    assert built == made and repr(built) == repr(made) and _hash_of(built) == _hash_of(made)
    assert [getattr(built, f.name) for f in dataclasses.fields(cls)] == \
        [getattr(made, f.name) for f in dataclasses.fields(cls)]
    first = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, first, "changed")
    assert pickle.loads(pickle.dumps(built)) == made
    assert copy.deepcopy(built) == made and copy.copy(built) == made
    assert dataclasses.replace(built, **{first: "other"}) == dataclasses.replace(made, **{first: "other"})
    assert not hasattr(built, "__dict__")


@pytest.mark.parametrize("cls", _RECORD_CLASSES, ids=lambda cls: cls.__name__)
def test_a_record_the_run_memo_gives_back_is_the_record_its_class_builds(cls):
    """Through the memo's pack and unpack (records rebuilt from their values by sheetbill.records.rebuilt):
    every record class, taken the fast way or not, comes back as its class builds it, frozen."""
    from sheetbill.memo import pack, unpack

    values = _values(cls, False)
    made = cls(**values)
    back = unpack(pack([made, (1, made)]))
    assert back[1][1] is back[0]  # one object stays one object
    back = back[0]
    assert type(back) is cls
    assert back == made and repr(back) == repr(made) and _hash_of(back) == _hash_of(made)
    assert [getattr(back, f.name) for f in dataclasses.fields(cls)] == \
        [getattr(made, f.name) for f in dataclasses.fields(cls)]
    if cls.__dataclass_params__.frozen:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(back, dataclasses.fields(cls)[0].name, "changed")
    assert not hasattr(back, "__dict__") or not hasattr(made, "__slots__")


@pytest.mark.parametrize("cls", _FAST, ids=lambda cls: cls.__name__)
def test_a_builder_refuses_what_its_class_refuses(cls):
    with pytest.raises(TypeError):
        builder(cls)(**_values(cls, False), not_a_field=1)
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if required:
        values = _values(cls, True)
        del values[required[0]]
        with pytest.raises(TypeError):
            builder(cls)(**values)


def test_what_a_builder_does_not_apply_to_is_left_as_it_is():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        amount: int

        def __post_init__(self):
            if self.amount < 0:
                raise ValueError("negative")

    @dataclasses.dataclass(frozen=True)
    class WithoutSlots:
        amount: int

    def a_function(**values):
        return values

    for factory in (Checked, WithoutSlots, a_function):
        assert builder(factory) is factory


def test_a_readers_factory_function_is_not_kept():
    """builder keeps what it made for classes only: a reader's factory function, often a closure over one
    run's amounts, is handed back and not held, so a long-running server does not keep every run's."""
    import gc
    import weakref

    def make_factory():
        pool = {}

        def factory(**values):
            return pool.setdefault(len(pool), values)
        return factory

    factory = make_factory()
    assert builder(factory) is factory
    alive = weakref.ref(factory)
    del factory
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize("cls", _FAST, ids=lambda cls: cls.__name__)
def test_with_blank_fields_a_field_not_given_is_none_whatever_its_default(cls):
    """History read back: every field not given is None (a blank cell), others as the class builds them."""
    everything = _values(cls, False)
    blank = frozenset(everything)
    built = builder(cls, blank)()
    assert type(built) is cls and not hasattr(built, "__dict__")
    assert all(getattr(built, name) is None for name in everything)
    given = builder(cls, blank)(**everything)
    assert given == cls(**everything) and repr(given) == repr(cls(**everything))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(given, next(iter(everything)), "changed")


def test_blank_fields_apply_to_what_a_builder_does_not_build_itself():
    def a_function(**values):
        return values

    assert builder(a_function, frozenset({"b"}))(a=1) == {"a": 1, "b": None}
    assert builder(a_function, frozenset({"b"}))(a=1, b=2) == {"a": 1, "b": 2}


def test_a_shared_value_leaves_the_record_as_it_was_but_for_the_object():
    make = builder(models.Charge)
    one = "".join(["C", "7"])
    charges = [make(charge_id=f"X{n}", date=None, customer_id="".join(["C", "7"]),
                    service_code="S") for n in range(3)]
    before = [(copy.copy(charge), hash(charge), repr(charge), pickle.dumps(charge)) for charge in charges]
    share_values(charges, "customer_id", {one: one, "C8": "C8"})
    assert all(charge.customer_id is one for charge in charges)
    assert [(charge, hash(charge), repr(charge), pickle.dumps(charge)) for charge in charges] == before
    stranger = make(charge_id="X9", date=None, customer_id="C9", service_code="S")
    share_values([stranger], "customer_id", {one: one})  # a value the mapping does not hold is left alone
    assert stranger.customer_id == "C9"

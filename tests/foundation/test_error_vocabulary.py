"""One error vocabulary: each error name means one thing, refusals are VendingErrors and provider failures are not,
and vending.exceptions holds no class that nothing raises (two such classes once shadowed the provider errors)."""

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

from vending import exceptions, payments
from vending.exceptions import AmountOutOfRange, BadMeterNumber, VendingError
from vending.meter_numbers import clean_drn

ROOT = Path(__file__).resolve().parents[2]
APPS = ("vending", "ussd", "backoffice", "demo")
# vending.sts is the standalone STS engine (no Django, its own purity test): its StsError is the engine's own
# base class, and the one place that calls the engine for the pipeline wraps it in vending.exceptions.StsError.
SAME_NAME_ALLOWED = {"StsError": {"vending.exceptions", "vending.sts.errors"}}


def _error_classes() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for package in APPS:
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for name, obj in vars(module).items():
                if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                    found.setdefault(name, set()).add(module.__name__)
    return found


def test_each_error_name_is_defined_once():
    twice = {
        name: modules
        for name, modules in _error_classes().items()
        if len(modules) > 1 and SAME_NAME_ALLOWED.get(name) != modules
    }
    assert twice == {}


def test_provider_errors_are_never_caught_as_customer_refusals():
    # Channels and the admin catch VendingError as a refusal; a provider failure must reach the task's retry.
    for name in ("PaymentError", "ProviderUnavailable", "ProviderRejected", "OutcomeUnknown", "InvalidCallback"):
        assert not issubclass(getattr(payments, name), VendingError), name


def test_every_class_in_vending_exceptions_is_raised_or_subclassed_somewhere():
    names = {name for name, obj in vars(exceptions).items() if inspect.isclass(obj) and issubclass(obj, VendingError)}
    used: set[str] = set()
    for package in APPS:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    used.add(node.func.id)
                elif isinstance(node, ast.ClassDef):
                    used.update(base.id for base in node.bases if isinstance(base, ast.Name))
    assert names - used == set()


def test_message_keys_are_given_to_the_constructor():
    error = AmountOutOfRange("too much", message_key="quote.err.range", message_values={"maximum": "KES 10"})
    assert (str(error), error.message_key, error.message_values) == (
        "too much",
        "quote.err.range",
        {"maximum": "KES 10"},
    )
    plain = VendingError("no key")
    assert plain.message_key is None and plain.message_values == {}


def test_a_bad_meter_number_says_which_rule_it_broke():
    problems = []
    for typed in ("0412345678X", "041234567", "04123456785"):
        try:
            clean_drn(typed)
        except BadMeterNumber as exc:
            problems.append(exc.problem)
    assert problems == ["digits", "length", "check"]

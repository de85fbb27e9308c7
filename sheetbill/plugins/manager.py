"""The plugin manager factory and the one typed facade through which the core calls plugins.

:func:`get_plugin_manager` builds a fresh manager every time (never at import): it adds the hook
specs, registers the built-in payers exactly as third-party plugins are registered, loads the
``sheetbill`` entry-point group and checks that every implementation matches a spec. No code outside
this module calls ``pm.hook.*``; :class:`Plugins` does, so argument passing, result checking and
error isolation live in one place.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import pluggy

from ..i18n import Msg
from ..models import Charge, Payer, PayerCode, Service, Settings
from ..money import quantize
from ..problems import ConfigurationError
from . import defaults, hookspecs
from .types import Adjudication, BilledCode, Claim, ClaimRefused

ENTRY_POINT_GROUP = "sheetbill"

#: Built-in plugins, registered by the same call as installed ones.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "sheetbill.payers.standard",
    "sheetbill.payers.fee_schedule",
    "sheetbill.payers.employer",
    "sheetbill.payers.goae",
)

#: The plugin name used for payers whose ``Plugin`` cell is blank.
DEFAULT_PAYER_PLUGIN = "standard"

#: The hooks called for one payer, on the plugin that claimed the payer's ``Plugin`` name.
PAYER_HOOKS: tuple[str, ...] = (
    "sheetbill_map_code", "sheetbill_needs_authorization", "sheetbill_charge_amount", "sheetbill_adjudicate",
    "sheetbill_invoice_fields",
)

_MISSING = object()


class PluginError(Exception):
    """A plugin raised or answered nonsense; the message names the plugin and what was wrong."""


class Refused(PluginError):
    """A plugin refused a charge with :class:`~sheetbill.plugins.types.ClaimRefused`: the message is the
    plugin's, for the clerk, and ``column`` the Charges column to fix."""

    def __init__(self, message: str, column: str):
        super().__init__(message)
        self.column = column


def get_plugin_manager(extra_plugins: Iterable[object] = (), *, entry_points: bool = True) -> pluggy.PluginManager:
    """A new plugin manager with the specs, the built-in payers, installed plugins and ``extra_plugins``.

    :param extra_plugins: plugin objects or modules to register after the built-ins (tests, embedding).
        Each is registered under its ``__name__`` (modules, classes) or its class name (instances).
    :param entry_points: load the ``sheetbill`` entry-point group (turn off for hermetic tests).
    :raises ConfigurationError: when an installed plugin cannot be imported, two installed packages
        announce a plugin of the same name, a plugin is registered twice, or a plugin implements a
        hook that does not exist or with parameters the spec does not have.
    """
    pm = pluggy.PluginManager("sheetbill")  # the project name of the hookspec and hookimpl markers
    pm.add_hookspecs(hookspecs)
    for module_name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    if entry_points:
        _load_entry_points(pm)
    for plugin in extra_plugins:
        _register(pm, plugin, _default_name(pm, plugin))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as err:
        raise ConfigurationError(f"plugin {pm.get_name(err.plugin)}: {err}") from err
    return pm


def _default_name(pm: pluggy.PluginManager, plugin: object) -> str | None:
    """A readable registration name for an extra plugin: ``Half``, then ``Half#2``, ...

    ``None`` for a plugin that is registered already, so that pluggy refuses it.
    """
    if pm.is_registered(plugin):
        return None
    base = getattr(plugin, "__name__", None) or type(plugin).__name__
    name, number = base, 1
    while pm.has_plugin(name):
        number += 1
        name = f"{base}#{number}"
    return name


def _register(pm: pluggy.PluginManager, plugin: object, name: str | None) -> None:
    """Register ``plugin``, turning pluggy's refusals into a :class:`ConfigurationError`."""
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as err:
        raise ConfigurationError(f"plugin {name or plugin!r} does not match sheetbill's hook specs: {err}") from err
    except ValueError as err:
        raise ConfigurationError(f"plugin {name or plugin!r} is registered twice: {err}") from err


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    """Load the ``sheetbill`` entry-point group, one plugin at a time so a failure names its package."""
    by_name: dict[str, list[importlib.metadata.EntryPoint]] = {}
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == ENTRY_POINT_GROUP:
                by_name.setdefault(ep.name, []).append(ep)
    for name, eps in sorted(by_name.items()):
        packages = sorted({_dist_label(ep) for ep in eps})
        if len(packages) > 1:
            raise ConfigurationError(
                f"duplicate sheetbill plugin {name!r}: installed by {' and '.join(packages)}; uninstall one of them")
        if pm.has_plugin(name) or pm.is_blocked(name):
            raise ConfigurationError(f"installed plugin {name!r} ({packages[0]}) has the name of a built-in plugin; "
                                     "rename its entry point")
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name)
        except Exception as err:  # an import error or a bad hook in someone else's package
            raise ConfigurationError(f"installed plugin {name!r} ({packages[0]}) could not be loaded: "
                                     f"{type(err).__name__}: {err}") from err


def _dist_label(ep: importlib.metadata.EntryPoint) -> str:
    dist = ep.dist
    return f"{dist.name} {dist.version}" if dist is not None else ep.value


def check_adjudication(claim: Claim, result: object) -> str | None:
    """What is wrong with ``result`` as an answer to ``claim``, or ``None`` when it is valid.

    Valid means: an :class:`Adjudication`; every amount a finite, non-negative ``Decimal`` rounded to
    the currency's minor unit; ``payer_share + customer_share + adjustment == claim.charge_amount``;
    ``deductible`` and ``out_of_pocket`` not more than the customer share; ``reason`` text and
    ``advice`` a tuple of texts. The facade applies this to every answer; tests use it through
    :func:`sheetbill.testing.assert_valid_adjudication`.
    """
    if not isinstance(result, Adjudication):
        return f"returned {result!r}, not an Adjudication"
    amounts = {"payer_share": result.payer_share, "customer_share": result.customer_share,
               "adjustment": result.adjustment, "deductible": result.deductible}
    if result.out_of_pocket is not None:
        amounts["out_of_pocket"] = result.out_of_pocket
    for field_name, value in amounts.items():
        if not isinstance(value, Decimal) or not value.is_finite():
            return f"returned {field_name}={value!r}, not a Decimal amount"
        if value < 0:
            return f"returned a negative {field_name} ({value})"
        if value != quantize(value, claim.currency):
            return f"returned {field_name}={value}, not rounded to the minor unit of {claim.currency}"
    total = result.payer_share + result.customer_share + result.adjustment
    if total != claim.charge_amount:
        return (f"split {claim.charge_amount} into payer {result.payer_share} + customer {result.customer_share} "
                f"+ adjustment {result.adjustment} = {total}, which does not add up")
    if result.deductible > result.customer_share:
        return f"counted deductible {result.deductible}, more than the customer share {result.customer_share}"
    if result.out_of_pocket is not None and result.out_of_pocket > result.customer_share:
        return f"counted out-of-pocket {result.out_of_pocket}, more than the customer share {result.customer_share}"
    if not isinstance(result.reason, str):
        return f"returned reason={result.reason!r}, not text"
    if not isinstance(result.advice, tuple) or not all(isinstance(a, str | Msg) for a in result.advice):
        return f"returned advice={result.advice!r}, not a tuple of texts"
    return None


@dataclass(frozen=True)
class PluginInfo:
    """One registered plugin, for ``sheetbill plugins``.

    Attributes:
        name: the registration name (the entry point's name for installed plugins).
        version: the version of the distribution that installed it (sheetbill's for built-ins; for a
            plugin registered by hand its ``__version__`` attribute, else ``"?"``).
        payer_names: the ``Plugin`` names it handles.
        builtin: shipped with sheetbill.
        distribution: the installed package's name (``sheetbill`` for built-ins, ``""`` when unknown).
    """

    name: str
    version: str
    payer_names: tuple[str, ...]
    builtin: bool
    distribution: str = ""


class Plugins:
    """The core's typed view of the plugin manager.

    Built once per run. Maps each payer plugin name to the plugin that claimed it and calls hooks on
    that plugin alone, checking every answer; whatever a plugin raises or answers wrongly becomes a
    :class:`PluginError` naming the plugin, which the caller turns into a Problem on the charge.

    :param pm: the plugin manager (default: :func:`get_plugin_manager`, with installed plugins).
    :raises ConfigurationError: when two plugins claim the same payer name, or a plugin's
        ``sheetbill_payer_names`` raises or answers something other than a list of names.
    """

    def __init__(self, pm: pluggy.PluginManager | None = None):
        self.pm = pm if pm is not None else get_plugin_manager()
        self._owner: dict[str, object] = {}
        for impl in self.pm.hook.sheetbill_payer_names.get_hookimpls():
            label = self._label(impl.plugin)
            try:
                names = impl.function()
            except Exception as err:
                raise ConfigurationError(
                    f"plugin {label} raised in sheetbill_payer_names: {type(err).__name__}: {err}") from err
            if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n.strip() for n in names):
                raise ConfigurationError(
                    f"plugin {label} answered sheetbill_payer_names with {names!r}, not a list of names"
                )
            for name in names:
                key = name.strip().casefold()
                if key in self._owner and self._owner[key] is not impl.plugin:
                    raise ConfigurationError(
                        f"duplicate payer plugin name {name!r}: claimed by {self._label(self._owner[key])} "
                        f"and {label}; uninstall or unregister one of them"
                    )
                self._owner[key] = impl.plugin
        self._impls: dict[tuple[str, int], Any] = {}
        for hook_name in PAYER_HOOKS:
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                self._impls[(hook_name, id(impl.plugin))] = impl

    # --- introspection ------------------------------------------------------------------------------

    def _label(self, plugin: object) -> str:
        return self.pm.get_name(plugin) or repr(plugin)

    def payer_plugin_names(self) -> list[str]:
        """Every payer plugin name that some plugin handles."""
        return sorted(self._owner)

    def has_payer_plugin(self, name: str | None) -> bool:
        """True when a plugin handles ``name`` (blank means the default, ``standard``)."""
        return self._key(name) in self._owner

    def plugin_label(self, name: str | None) -> str:
        """The registered name of the plugin that handles payer plugin ``name``."""
        return self._label(self._owner[self._key(name)])

    def describe(self) -> list[PluginInfo]:
        """Every registered plugin with its distribution, version and the payer names it handles."""
        from .. import __version__

        dists = {id(plugin): dist for plugin, dist in self.pm.list_plugin_distinfo()}
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:  # blocked
                continue
            dist = dists.get(id(plugin))
            builtin = name in BUILTIN_PLUGINS
            if dist is not None:
                version, distribution = dist.version, dist.metadata["Name"] or ""
            elif builtin:
                version, distribution = __version__, "sheetbill"
            else:  # registered by hand: the plugin's own __version__, if it has one
                version, distribution = str(getattr(plugin, "__version__", None) or "?"), ""
            names = tuple(sorted(k for k, owner in self._owner.items() if owner is plugin))
            infos.append(PluginInfo(name, version, names, builtin, distribution))
        return infos

    # --- calls -------------------------------------------------------------------------------------

    @staticmethod
    @cache
    def _key(name: str | None) -> str:
        return (name or "").strip().casefold() or DEFAULT_PAYER_PLUGIN

    def _call(self, hook_name: str, payer_plugin: str | None, **kwargs: Any) -> Any:
        """Call ``hook_name`` on the plugin handling ``payer_plugin``; ``_MISSING`` when it lacks the hook."""
        owner = self._owner.get(self._key(payer_plugin))
        if owner is None:
            raise PluginError(f"no installed plugin handles payer plugin {payer_plugin!r}")
        impl = self._impls.get((hook_name, id(owner)))
        if impl is None:
            return _MISSING
        try:
            return impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
        except ClaimRefused as err:
            raise Refused(str(err), err.column) from err
        except Exception as err:  # a broken plugin must not stop the run
            raise PluginError(f"plugin {self._label(owner)} raised in {hook_name}: {type(err).__name__}: {err}") \
                from err

    def map_code(self, payer_plugin: str | None, *, payer: Payer, service: Service,
                 payer_code: PayerCode | None) -> BilledCode | None:
        """The billed code for a service (see the hook spec); ``None`` when a mapping is missing.

        A plugin without ``sheetbill_map_code`` gets the standard rule: the Payer Codes ``Payer Code``,
        else the service code unless the payer's code system needs a mapping.
        """
        result = self._call("sheetbill_map_code", payer_plugin, payer=payer, service=service,
                            payer_code=payer_code)
        if result is _MISSING:
            return defaults.map_code(payer, service, payer_code)
        if result is not None and not (isinstance(result, BilledCode) and isinstance(result.code, str)
                                       and result.code.strip() and isinstance(result.system, str)):
            raise PluginError(f"plugin {self.plugin_label(payer_plugin)} returned {result!r} from "
                              "sheetbill_map_code, not a BilledCode")
        return result

    def needs_authorization(self, payer_plugin: str | None, *, payer: Payer, service: Service,
                            payer_code: PayerCode | None) -> bool:
        """Whether the payer requires prior authorization for the service (``False`` without the hook)."""
        result = self._call("sheetbill_needs_authorization", payer_plugin, payer=payer, service=service,
                            payer_code=payer_code)
        if result is _MISSING or result is None:
            return False
        if not isinstance(result, bool):
            raise PluginError(f"plugin {self.plugin_label(payer_plugin)} returned {result!r} from "
                              "sheetbill_needs_authorization, not True or False")
        return result

    def charge_amount(self, payer_plugin: str | None, *, charge: Charge, service: Service, payer: Payer,
                      payer_code: PayerCode | None, settings: Settings) -> Decimal | None:
        """The charge's amount under the payer's fee schedule; ``None`` (price x quantity) without the hook."""
        result = self._call("sheetbill_charge_amount", payer_plugin, charge=charge, service=service, payer=payer,
                            payer_code=payer_code, settings=settings)
        if result is _MISSING or result is None:
            return None
        if (not isinstance(result, Decimal) or not result.is_finite() or result < 0
                or result != quantize(result, settings.currency)):
            raise PluginError(f"plugin {self.plugin_label(payer_plugin)} returned {result!r} from "
                              f"sheetbill_charge_amount, not an amount rounded to the minor unit of "
                              f"{settings.currency}")
        return result

    def adjudicate(self, payer_plugin: str | None, claim: Claim) -> Adjudication:
        """The payer's decision on ``claim``, checked by :func:`check_adjudication`."""
        result = self._call("sheetbill_adjudicate", payer_plugin, claim=claim)
        if result is _MISSING:
            raise PluginError(f"plugin {self.plugin_label(payer_plugin)} handles payer plugin "
                              f"{payer_plugin or DEFAULT_PAYER_PLUGIN!r} "
                              "but does not implement sheetbill_adjudicate")
        wrong = check_adjudication(claim, result)
        if wrong is not None:
            raise PluginError(f"plugin {self.plugin_label(payer_plugin)} {wrong} (sheetbill_adjudicate)")
        return result

    def invoice_fields(self, payer_plugin: str | None, *, payer: Payer, customer_id: str,
                       member_id: str | None) -> dict[str, str]:
        """Extra fields for the payer's invoices (empty when the plugin adds none)."""
        result = self._call("sheetbill_invoice_fields", payer_plugin, payer=payer, customer_id=customer_id,
                            member_id=member_id)
        if result is _MISSING or result is None:
            return {}
        if not isinstance(result, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in result.items()):
            raise PluginError(f"plugin {self.plugin_label(payer_plugin)} returned {result!r} from "
                              "sheetbill_invoice_fields, not a dict of text")
        return result

"""The plugin manager factory and the one typed facade through which the core calls plugins.

:func:`get_plugin_manager` builds a fresh manager every time (never at import): it adds the hook
specs, registers the built-in payers exactly as third-party plugins are registered, loads the
``sheetbill`` entry-point group and checks that every implementation matches a spec. No code outside
this module calls ``pm.hook.*``; :class:`Plugins` does, so argument passing, result checking and
error isolation live in one place.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

import pluggy

from ..problems import ConfigurationError
from . import hookspecs
from .types import Adjudication, BilledCode, Claim

ENTRY_POINT_GROUP = "sheetbill"

#: Built-in plugins, registered by the same call as installed ones.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "sheetbill.payers.standard",
    "sheetbill.payers.fee_schedule",
    "sheetbill.payers.employer",
)

#: The plugin name used for payers whose ``Plugin`` cell is blank.
DEFAULT_PAYER_PLUGIN = "standard"


class PluginError(Exception):
    """A plugin raised or answered nonsense; the message names the plugin and what was wrong."""


def get_plugin_manager(extra_plugins: Iterable[object] = (), *, entry_points: bool = True) -> pluggy.PluginManager:
    """A new plugin manager with the specs, the built-in payers, installed plugins and ``extra_plugins``.

    :param extra_plugins: plugin objects or modules to register after the built-ins (tests, embedding).
    :param entry_points: load the ``sheetbill`` entry-point group (turn off for hermetic tests).
    """
    pm = pluggy.PluginManager("sheetbill")
    pm.add_hookspecs(hookspecs)
    for module_name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    if entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra_plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


@dataclass(frozen=True)
class PluginInfo:
    """One registered plugin, for ``sheetbill plugins``."""

    name: str
    version: str
    payer_names: tuple[str, ...]
    builtin: bool


class Plugins:
    """The core's typed view of the plugin manager.

    Built once per run. Maps each payer plugin name to the plugin that claimed it and calls hooks on
    that plugin alone. Raises :class:`~sheetbill.problems.ConfigurationError` at construction when two
    plugins claim the same name.
    """

    def __init__(self, pm: pluggy.PluginManager | None = None):
        self.pm = pm if pm is not None else get_plugin_manager()
        self._owner: dict[str, object] = {}
        for impl in self.pm.hook.sheetbill_payer_names.get_hookimpls():
            names = impl.function()
            if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
                raise ConfigurationError(
                    f"plugin {self._label(impl.plugin)} answered sheetbill_payer_names with {names!r}, "
                    "not a list of names"
                )
            for name in names:
                key = name.strip().casefold()
                if key in self._owner and self._owner[key] is not impl.plugin:
                    raise ConfigurationError(
                        f"duplicate payer plugin name {name!r}: claimed by {self._label(self._owner[key])} "
                        f"and {self._label(impl.plugin)}; uninstall one of them"
                    )
                self._owner[key] = impl.plugin
        self._impls: dict[tuple[str, int], Any] = {}
        for hook_name in ("sheetbill_map_code", "sheetbill_needs_authorization", "sheetbill_adjudicate",
                          "sheetbill_invoice_fields"):
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
        """Every registered plugin with its distribution version and the payer names it handles."""
        dists = {id(plugin): dist for plugin, dist in self.pm.list_plugin_distinfo()}
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            dist = dists.get(id(plugin))
            builtin = name in BUILTIN_PLUGINS
            if dist is not None:
                version = dist.version
            else:
                from .. import __version__

                version = __version__ if builtin else "?"
            names = tuple(sorted(k for k, owner in self._owner.items() if owner is plugin))
            infos.append(PluginInfo(name, version, names, builtin))
        return infos

    # --- calls -------------------------------------------------------------------------------------

    @staticmethod
    def _key(name: str | None) -> str:
        return (name or DEFAULT_PAYER_PLUGIN).strip().casefold()

    def _call(self, hook_name: str, payer_plugin: str | None, **kwargs: Any) -> Any:
        """Call ``hook_name`` on the plugin handling ``payer_plugin``; ``None`` when it lacks the hook."""
        owner = self._owner.get(self._key(payer_plugin))
        if owner is None:
            raise PluginError(f"no installed plugin handles payer plugin {payer_plugin!r}")
        impl = self._impls.get((hook_name, id(owner)))
        if impl is None:
            return None
        try:
            return impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
        except Exception as err:  # a broken plugin must not stop the run
            raise PluginError(f"plugin {self._label(owner)} raised in {hook_name}: {type(err).__name__}: {err}") \
                from err

    def map_code(self, payer_plugin: str | None, **kwargs: Any) -> BilledCode | None:
        """The billed code for a service (see the hook spec); ``None`` when a mapping is missing."""
        result = self._call("sheetbill_map_code", payer_plugin, **kwargs)
        if result is not None and not (isinstance(result, BilledCode) and isinstance(result.code, str)):
            raise PluginError(f"plugin {self.plugin_label(payer_plugin)} returned {result!r} from "
                              "sheetbill_map_code, not a BilledCode")
        return result

    def needs_authorization(self, payer_plugin: str | None, **kwargs: Any) -> bool:
        """Whether the payer requires prior authorization for the service."""
        result = self._call("sheetbill_needs_authorization", payer_plugin, **kwargs)
        if result is None:
            return False
        if not isinstance(result, bool):
            raise PluginError(f"plugin {self.plugin_label(payer_plugin)} returned {result!r} from "
                              "sheetbill_needs_authorization, not True or False")
        return result

    def adjudicate(self, payer_plugin: str | None, claim: Claim) -> Adjudication:
        """The payer's decision on ``claim``, checked: types, signs and that the shares add up."""
        label = self.plugin_label(payer_plugin)
        result = self._call("sheetbill_adjudicate", payer_plugin, claim=claim)
        if not isinstance(result, Adjudication):
            raise PluginError(f"plugin {label} returned {result!r} from sheetbill_adjudicate, not an Adjudication")
        amounts = {"payer_share": result.payer_share, "customer_share": result.customer_share,
                   "adjustment": result.adjustment, "deductible": result.deductible}
        for field_name, value in amounts.items():
            if not isinstance(value, Decimal) or not value.is_finite():
                raise PluginError(f"plugin {label} returned {field_name}={value!r}, not a Decimal amount")
            if value < 0:
                raise PluginError(f"plugin {label} returned a negative {field_name} ({value})")
        total = result.payer_share + result.customer_share + result.adjustment
        if total != claim.charge_amount:
            raise PluginError(
                f"plugin {label} split {claim.charge_amount} into payer {result.payer_share} + customer "
                f"{result.customer_share} + adjustment {result.adjustment} = {total}, which does not add up"
            )
        if result.deductible > result.customer_share:
            raise PluginError(f"plugin {label} counted more deductible than the customer share")
        return result

    def invoice_fields(self, payer_plugin: str | None, **kwargs: Any) -> dict[str, str]:
        """Extra fields for the payer's invoices (empty when the plugin adds none)."""
        result = self._call("sheetbill_invoice_fields", payer_plugin, **kwargs) or {}
        if not isinstance(result, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in result.items()):
            raise PluginError(f"plugin {self.plugin_label(payer_plugin)} returned {result!r} from "
                              "sheetbill_invoice_fields, not a dict of text")
        return result

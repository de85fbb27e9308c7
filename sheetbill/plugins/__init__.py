"""sheetbill's plugin system: hook specifications, the plugin manager factory and the typed facade.

Payers (insurers, programmes, employers) are plugins; see ``docs/plugins.md``. Plugin authors need
only :data:`hookimpl` and the records in :mod:`sheetbill.plugins.types`.
"""

import pluggy

#: Marks a function as an implementation of a sheetbill hook.
hookimpl = pluggy.HookimplMarker("sheetbill")

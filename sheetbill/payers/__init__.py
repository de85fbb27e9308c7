"""Built-in payer plugins. Each module is a pluggy plugin registered like any installed one."""

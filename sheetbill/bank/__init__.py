"""Money in from the bank: statement readers, payment references and SEPA direct-debit files.

Pure functions over bytes and typed records, with no knowledge of the workbook:

* :mod:`.entries` -- :class:`~.entries.BankEntry` and :class:`~.entries.Statement`, what every reader returns;
* :mod:`.camt`, :mod:`.mt940`, :mod:`.csv` -- one reader per format;
* :mod:`.detect` -- :func:`~.detect.read_statement_file`, which picks the reader from the content;
* :mod:`.references` -- ISO 11649 RF creditor references and SEPA creditor identifiers;
* :mod:`.sepa` -- pain.008 direct-debit initiation files.

``docs/bank.md`` describes the formats and fields.
"""

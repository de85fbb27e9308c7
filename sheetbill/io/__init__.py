"""Front-end adapters: each one reads a workbook's sheets into :class:`~sheetbill.sheets.RawSheet`
objects and writes the core's :class:`~sheetbill.sheets.OutputSheet` results back.

``xlsx`` works on .xlsx/.xlsm files directly: python-calamine reads, and a surgical writer
(``xlsx.package`` holds its zip and packaging layer) replaces only sheetbill's own sheets, copying every
other part of the file byte for byte so macros, charts, formulas and formatting survive.
"""

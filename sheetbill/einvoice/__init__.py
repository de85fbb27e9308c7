"""E-invoices: XRechnung (CII or UBL) XML files and ZUGFeRD / Factur-X hybrid PDFs, per EN 16931.

The pieces:

* :mod:`.model` -- the neutral e-invoice record (EN 16931 business terms);
* :mod:`.cii`, :mod:`.ubl` -- writing it as UN/CEFACT CII or OASIS UBL 2.1 XML;
* :mod:`.leitweg` -- the Leitweg-ID of German public bodies and its check digits;
* :mod:`.requirements` -- who gets an e-invoice and what the seller and the buyer must have for one
  (the Problems ``sheetbill check`` reports);
* :mod:`.build` -- the e-invoice of an invoice or credit note, from the same history, parties and
  settings its PDF is made from;
* :mod:`.zugferd` -- embedding the CII XML into the PDF (PDF/A-3, Factur-X profile EN 16931).

``docs/einvoice.md`` is the guide for offices.
"""

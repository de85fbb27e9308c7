"""ZUGFeRD 2 / Factur-X: the CII XML embedded into the invoice's PDF/A-3, profile EN 16931.

The PDF is rendered as PDF/A-3b by :func:`sheetbill.documents.pdf.render_pdf` (fonts embedded, an
sRGB output intent, XMP metadata); the ``factur-x`` library (Akretion) then checks the XML against
the Factur-X EN 16931 schema, embeds it as ``factur-x.xml`` with AFRelationship ``Data`` and writes
the XMP metadata Factur-X readers look for (document type INVOICE, conformance level EN 16931). The
PDF's Keywords keep the content fingerprint (:mod:`sheetbill.documents.pdf`), so a later run still
recognises the file as the same document.
"""

from __future__ import annotations

import logging

XML_NAME = "factur-x.xml"


def embed(pdf: bytes, xml: bytes, *, title: str, author: str, keywords: str, lang: str) -> bytes:
    """``pdf`` (a PDF/A-3) with ``xml`` embedded as a Factur-X EN 16931 invoice.

    :raises Exception: what ``factur-x`` raises when the XML does not fit its schema (a bug, never data).
    """
    from facturx import generate_from_binary

    logging.getLogger("factur-x").setLevel(logging.WARNING)
    return generate_from_binary(pdf, xml, flavor="factur-x", level="en16931", check_xsd=True,
                                pdf_metadata={"title": title, "author": author, "subject": title,
                                              "keywords": keywords},
                                lang=lang, xmp_compression=False)

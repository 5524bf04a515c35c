"""The agreed cooperation plan as a PDF for the customer, in German and in the customer's language.

The customer gets two separate documents rather than one bilingual one: the German document, which
is the authoritative one, and, where a template exists for the customer's preferred language, a
translated document (which says it is a translation). Separate documents keep each one in a single
reading direction, which matters for Arabic (right to left).

fpdf2 writes the PDF; with text shaping (uharfbuzz) Arabic letters are joined and ordered right to
left, and the text stays extractable in logical order. The fonts are vendored (Noto Sans for Latin
and Cyrillic, Noto Sans Arabic), so nothing is downloaded at run time.
"""

from cases.pdf.render import (
    PDF_FALLBACK_LANGUAGE,
    RenderedPdf,
    plan_pdf_filename,
    plan_pdf_languages,
    plan_pdf_render,
)
from cases.pdf.texts import TEMPLATES

PDF_LANGUAGES = tuple(TEMPLATES)

__all__ = [
    "PDF_FALLBACK_LANGUAGE",
    "PDF_LANGUAGES",
    "RenderedPdf",
    "plan_pdf_filename",
    "plan_pdf_languages",
    "plan_pdf_render",
]

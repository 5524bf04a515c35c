"""The invitation letter and the cancellation letter as PDF (fpdf2, A4, DIN 5008-like layout, the
vendored Noto fonts of the cooperation plan PDF with HarfBuzz shaping for names in any script).

The German text is the binding one and always comes first. A translation into the customer's
language follows on its own page, marked as a translation. The shipped fonts cover Latin (with
Turkish, Polish, Romanian ...), Greek, Cyrillic (Ukrainian, Russian) and Arabic script (Arabic,
Persian, Urdu); `letter_text_renderable` says whether a text can be drawn. A translation in another
script (Tigrinya, Chinese, ...) is left out by the caller with a logged notice, never drawn as
empty boxes.
"""

import functools
import logging

from django.utils import timezone
from fpdf import FPDF

from cases.pdf.render import ARABIC, DARK, FONTS, LATIN, MUTED, RULE
from scheduling.models import Appointment

# fontTools logs every glyph subset at INFO.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

LEGAL_FILL = (244, 246, 248)
LEGAL_HEADING_DE = "Rechtsfolgenbelehrung"
# Languages written right to left (their block is right-aligned, Arabic font first).
RTL_LANGUAGES = frozenset({"ar", "fa", "ur", "ps", "ckb", "he", "yi", "dv"})


@functools.cache
def _covered_codepoints() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    points: set[int] = set()
    for stem in ("NotoSans", "NotoSansArabic"):
        points |= set(TTFont(FONTS / f"{stem}-Regular.ttf").getBestCmap())
    return frozenset(points)


def letter_text_renderable(text: str) -> bool:
    """Whether every visible character of `text` has a glyph in the letter's fonts."""
    covered = _covered_codepoints()
    return all(
        ord(char) in covered
        for char in text
        if not char.isspace() and ord(char) >= 0x20 and char not in "\u200e\u200f\u200c\u200d"
    )


class _Letter(FPDF):
    def __init__(self, language: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        # DIN 5008: left margin 25 mm, right 20 mm; the address field starts 45 mm from the top.
        self.set_margins(25, 18, 20)
        self.set_auto_page_break(auto=True, margin=20)
        for family, stem in ((LATIN, "NotoSans"), (ARABIC, "NotoSansArabic")):
            self.add_font(family, "", FONTS / f"{stem}-Regular.ttf")
            self.add_font(family, "B", FONTS / f"{stem}-Bold.ttf")
        self.family_main = LATIN
        self.align_main = "L"
        self.rtl = False
        self.set_font(LATIN, size=10)
        self.set_fallback_fonts([ARABIC])
        # The base direction is the block's (script()): fpdf2 would take it from the first letter
        # of the whole text, so a Farsi text starting with the customer's Latin name came out left
        # to right. Runs of the other direction inside are still ordered by the bidi algorithm.
        self.set_text_shaping(use_shaping_engine=True, direction="ltr")
        self.set_text_color(*DARK)
        self.set_draw_color(*RULE)
        self.set_lang(language)
        self.set_creator("Jobcenter")

    def _render_styled_text_line(self, *args, **kwargs):
        # fpdf2 2.8.9 bug (py-pdf/fpdf2#1772, fixed by #1775): a line whose first fragment needs the
        # fallback font, drawn while the page has no font set yet, sets the main font only inside
        # that line's q/Q, and every following line is drawn without a font ("No font in show"):
        # garbage for a Farsi text that starts with a Latin name, or an address whose first line
        # is an Arabic-script name. Setting the font on the page first (as fpdf2's text() and
        # link() do) avoids that path. Remove after upgrading fpdf2.
        if self.page > 0 and self.current_font is not None and not self.current_font_is_set_on_page:
            self._out(self._set_font_for_page(self.current_font, self.font_size_pt))
        return super()._render_styled_text_line(*args, **kwargs)

    def script(self, language: str) -> None:
        """The fonts and alignment of the block that follows (German, or a translation)."""
        rtl = language.split("-")[0] in RTL_LANGUAGES
        self.family_main = ARABIC if rtl else LATIN
        self.align_main = "R" if rtl else "L"
        self.set_fallback_fonts([LATIN if rtl else ARABIC])
        self.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr")
        self.rtl = rtl

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(LATIN, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 6, f"{self.page_no()}", align="C")
        self.set_text_color(*DARK)

    def text_block(self, text: str, *, size: float = 10, bold: bool = False, gap: float = 2):
        self.set_font(self.family_main, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, text, align=self.align_main, new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)

    def legal_block(self, notice: str, *, german: bool) -> None:
        """The notice of legal consequences: framed and shaded, never split from its heading."""
        heading, _sep, rest = notice.partition("\n")
        if german and heading.strip() != LEGAL_HEADING_DE:
            heading, rest = LEGAL_HEADING_DE, notice
        if not rest.strip():
            heading, rest = rest, heading
        with self.unbreakable() as block:
            block.set_fill_color(*LEGAL_FILL)
            if heading.strip():
                block.set_font(self.family_main, "B", 10.5)
                block.multi_cell(
                    0,
                    6,
                    heading.strip(),
                    border="LTR",
                    fill=True,
                    align=self.align_main,
                    padding=(2, 3, 0, 3),
                    new_x="LMARGIN",
                    new_y="NEXT",
                )
            block.set_font(self.family_main, size=9.5)
            block.multi_cell(
                0,
                4.8,
                rest.strip(),
                border="LBR" if heading.strip() else 1,
                fill=True,
                align=self.align_main,
                padding=(1, 3, 2.5, 3),
                new_x="LMARGIN",
                new_y="NEXT",
            )
        self.ln(4)

    def small_note(self, text: str) -> None:
        self.set_font(self.family_main, size=9)
        self.set_text_color(*MUTED)
        self.multi_cell(0, 4.5, text, align=self.align_main, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*DARK)


def _letterhead(pdf: _Letter, appointment: Appointment, caseworker: str) -> None:
    """Letterhead, sender line, the customer's address (from the household), references."""
    customer = appointment.case.customer
    household = customer.household
    team = appointment.case.team
    jobcenter = team.jobcenter.name if team and team.jobcenter_id else "Jobcenter"
    pdf.add_page()
    pdf.set_font(LATIN, "B", 14)
    pdf.cell(0, 7, jobcenter, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(LATIN, size=9)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5, f"{team.name} · {caseworker}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(45)
    pdf.set_font(LATIN, size=7.5)
    pdf.cell(85, 4, jobcenter, new_x="LMARGIN", new_y="NEXT")
    y = pdf.get_y()
    pdf.line(pdf.l_margin, y, pdf.l_margin + 85, y)
    pdf.set_text_color(*DARK)
    pdf.ln(2)
    pdf.set_font(LATIN, size=10.5)
    address = f"{customer.full_name}\n{household.street}\n{household.postal_code} {household.city}"
    pdf.multi_cell(85, 5, address, new_x="LMARGIN", new_y="NEXT")

    # Date and references on the right, level with the end of the address field.
    pdf.set_y(90)
    pdf.set_font(LATIN, size=9.5)
    today = timezone.localdate().strftime("%d.%m.%Y")
    references = (
        f"Kundennummer: {customer.customer_number}\n"
        f"Termin-Nr.: {appointment.pk}-{appointment.sequence}\n"
        f"Datum: {today}"
    )
    pdf.multi_cell(0, 4.8, references, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)


def _left_to_right(text: str) -> str:
    """A link inside right-to-left text, kept in one left-to-right run: between two LEFT-TO-RIGHT
    MARKs its leading and trailing slashes stay where they belong (the marks draw nothing)."""
    return f"\u200e{text}\u200e"


def _translation_page(pdf: _Letter, translation: dict) -> None:
    pdf.add_page()
    pdf.script("de")
    pdf.set_fill_color(*LEGAL_FILL)
    pdf.set_font(LATIN, "B", 10)
    pdf.multi_cell(
        0, 5.5, translation["mark"], fill=True, padding=(2, 3, 2, 3), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(4)
    pdf.script(translation["language"])


def invitation_letter_pdf(
    *, appointment: Appointment, rendered: dict, translation: dict | None = None
) -> bytes:
    """The letter of one invitation: sender line, address, date, subject, text, the notice of
    legal consequences in its own framed block, the caseworker and the rebooking link.

    `rendered` is scheduling.services_invitations.invitation_render's German result; `translation`
    (optional) the same for the customer's language plus "mark" (the note that only the German
    text is binding), printed after the German text on a page of its own."""
    values = rendered["values"]
    pdf = _Letter(rendered["language"])
    pdf.set_title(rendered["subject"])
    _letterhead(pdf, appointment, values["caseworker"])

    pdf.text_block(rendered["subject"], size=12, bold=True, gap=4)
    pdf.text_block(rendered["body"], size=10.5, gap=5)
    pdf.legal_block(rendered["legal_notice"], german=True)
    pdf.small_note(f"Termin ändern oder Rückruf erbitten: {values['rebook_url']}")

    if translation is not None:
        _translation_page(pdf, translation)
        url = translation["values"]["rebook_url"]
        keep = _left_to_right(url) if pdf.rtl else url
        pdf.text_block(translation["subject"], size=12, bold=True, gap=4)
        pdf.text_block(translation["body"].replace(url, keep), size=10.5, gap=5)
        pdf.legal_block(translation["legal_notice"], german=False)
        label = translation.get("change_label")
        pdf.small_note(f"{label}: {keep}" if label else keep)
    return bytes(pdf.output())


def cancellation_letter_pdf(*, appointment: Appointment, sections: list[dict]) -> bytes:
    """The letter withdrawing an invitation. `sections`: the German text first, then optionally
    a translation, each {"language", "subject", "body", "caseworker"} (+ "mark" for a translation)."""
    german = sections[0]
    pdf = _Letter(german["language"])
    pdf.set_title(german["subject"])
    _letterhead(pdf, appointment, german["caseworker"])
    pdf.text_block(german["subject"], size=12, bold=True, gap=4)
    pdf.text_block(german["body"], size=10.5, gap=5)
    for translation in sections[1:]:
        _translation_page(pdf, translation)
        pdf.text_block(translation["subject"], size=12, bold=True, gap=4)
        pdf.text_block(translation["body"], size=10.5, gap=5)
    return bytes(pdf.output())

"""The invitation letter as PDF (fpdf2, A4, DIN 5008-like layout, the vendored Noto fonts of the
cooperation plan PDF with HarfBuzz shaping for names in any script)."""

import logging

from django.utils import timezone
from fpdf import FPDF

from cases.pdf.render import ARABIC, DARK, FONTS, LATIN, MUTED, RULE
from scheduling.models import Appointment

# fontTools logs every glyph subset at INFO.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

LEGAL_FILL = (244, 246, 248)


class _Letter(FPDF):
    def __init__(self, language: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        # DIN 5008: left margin 25 mm, right 20 mm; the address field starts 45 mm from the top.
        self.set_margins(25, 18, 20)
        self.set_auto_page_break(auto=True, margin=20)
        for family, stem in ((LATIN, "NotoSans"), (ARABIC, "NotoSansArabic")):
            self.add_font(family, "", FONTS / f"{stem}-Regular.ttf")
            self.add_font(family, "B", FONTS / f"{stem}-Bold.ttf")
        self.set_font(LATIN, size=10)
        self.set_fallback_fonts([ARABIC])
        self.set_text_shaping(use_shaping_engine=True)
        self.set_text_color(*DARK)
        self.set_draw_color(*RULE)
        self.set_lang(language)
        self.set_creator("Jobcenter")

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(LATIN, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 6, f"{self.page_no()}", align="C")
        self.set_text_color(*DARK)

    def text_block(self, text: str, *, size: float = 10, bold: bool = False, gap: float = 2):
        self.set_font(LATIN, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)


def invitation_letter_pdf(*, appointment: Appointment, rendered: dict) -> bytes:
    """The letter of one invitation: sender line, the customer's address (from the household),
    date, subject, text, the notice of legal consequences in its own framed block, the caseworker
    and the rebooking link. `rendered` is scheduling.services_invitations.invitation_render's."""
    customer = appointment.case.customer
    household = customer.household
    team = appointment.case.team
    jobcenter = team.jobcenter.name if team and team.jobcenter_id else "Jobcenter"
    values = rendered["values"]

    pdf = _Letter(rendered["language"])
    pdf.set_title(rendered["subject"])
    pdf.add_page()

    # Letterhead (top right) and the sender line above the address field.
    pdf.set_font(LATIN, "B", 14)
    pdf.cell(0, 7, jobcenter, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(LATIN, size=9)
    pdf.set_text_color(*MUTED)
    pdf.cell(
        0, 5, f"{team.name} · {values['caseworker']}", align="R", new_x="LMARGIN", new_y="NEXT"
    )
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

    pdf.text_block(rendered["subject"], size=12, bold=True, gap=4)
    pdf.text_block(rendered["body"], size=10.5, gap=5)

    # The notice of legal consequences: its own block, framed and shaded, never split from its head.
    notice = rendered["legal_notice"]
    heading, _sep, rest = notice.partition("\n")
    if heading.strip() != "Rechtsfolgenbelehrung":
        heading, rest = "Rechtsfolgenbelehrung", notice
    with pdf.unbreakable() as block:
        block.set_fill_color(*LEGAL_FILL)
        block.set_font(LATIN, "B", 10.5)
        block.multi_cell(
            0,
            6,
            heading,
            border="LTR",
            fill=True,
            padding=(2, 3, 0, 3),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        block.set_font(LATIN, size=9.5)
        block.multi_cell(
            0,
            4.8,
            rest.strip(),
            border="LBR",
            fill=True,
            padding=(1, 3, 2.5, 3),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(4)

    pdf.set_font(LATIN, size=9)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(
        0,
        4.5,
        f"Termin ändern oder Rückruf erbitten: {values['rebook_url']}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(*DARK)
    return bytes(pdf.output())

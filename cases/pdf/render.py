"""Drawing the cooperation plan PDF with fpdf2 (A4, vendored Noto fonts, HarfBuzz text shaping)."""

import logging
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone
from fpdf import FPDF
from fpdf.fonts import FontFace

from cases.models import CooperationPlan, Customer, StepResponsible, StepStatus
from cases.pdf.texts import TEMPLATES, PlanTemplate

# fontTools logs every glyph subset at INFO: a page of noise per document.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

FONTS = Path(__file__).parent / "fonts"
PDF_FALLBACK_LANGUAGE = "de"
LATIN = "NotoSans"
ARABIC = "NotoSansArabic"
DARK = (33, 37, 41)
MUTED = (90, 96, 104)
RULE = (200, 204, 208)
HEAD_FILL = (234, 238, 242)


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    language: str


def plan_pdf_languages(*, customer: Customer) -> list[str]:
    """German always; the customer's preferred language as well where a template exists."""
    preferred = (customer.preferred_language or "").strip().lower().split("-")[0]
    languages = [PDF_FALLBACK_LANGUAGE]
    if preferred in TEMPLATES and preferred != PDF_FALLBACK_LANGUAGE:
        languages.append(preferred)
    return languages


def plan_pdf_filename(*, plan: CooperationPlan, customer: Customer, language: str) -> str:
    return f"kooperationsplan-{customer.customer_number}-{plan.cycle}-{plan.version}-{language}.pdf"


class _PlanDocument(FPDF):
    def __init__(self, template: PlanTemplate, total_pages: int | None = None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.template = template
        # The page count is written as a number (from a first pass), not through fpdf2's page
        # alias: the alias is shaped at its placeholder's width, which leaves a gap in Arabic.
        self.total_pages = total_pages
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=20)
        for family, stem in ((LATIN, "NotoSans"), (ARABIC, "NotoSansArabic")):
            self.add_font(family, "", FONTS / f"{stem}-Regular.ttf")
            self.add_font(family, "B", FONTS / f"{stem}-Bold.ttf")
        # The main font carries the template language; the other one covers whatever the
        # caseworker wrote (a German goal in the Arabic document, an Arabic name in the German one).
        main, fallback = (ARABIC, LATIN) if template.rtl else (LATIN, ARABIC)
        self.main_font = main
        self.set_font(main, size=10)
        self.set_fallback_fonts([fallback])
        # No direction given: the Unicode bidi algorithm sets it per paragraph, so Arabic runs
        # right to left and a German sentence inside the Arabic document left to right.
        self.set_text_shaping(use_shaping_engine=True)
        self.set_text_color(*DARK)
        self.set_draw_color(*RULE)
        self.set_title(template.title)
        self.set_lang(template.language)
        self.set_creator("Jobcenter")

    @property
    def align(self) -> str:
        return "R" if self.template.rtl else "L"

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(self.main_font, size=8)
        self.set_text_color(*MUTED)
        text = self.template.footer.format(page=self.page_no(), pages=self.total_pages or "")
        self.cell(0, 6, text, align="C")
        self.set_text_color(*DARK)

    def paragraph(self, text: str, *, size: float = 10, bold: bool = False, gap: float = 1.5):
        self.set_font(self.main_font, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, text, align=self.align, new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)

    def heading(self, text: str) -> None:
        self.ln(3)
        self.paragraph(text, size=13, bold=True, gap=1)
        y = self.get_y()
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.ln(2.5)

    def rows(self, rows: list[tuple[str, str]]) -> None:
        """Label and value pairs; for right-to-left the label stands on the right."""
        self.set_font(self.main_font, size=10)
        widths = (52, 118)
        with self.table(
            col_widths=widths[::-1] if self.template.rtl else widths,
            first_row_as_headings=False,
            borders_layout="NONE",
            text_align=self.align,
            line_height=5.5,
            padding=(0.8, 1),
        ) as table:
            for label, value in rows:
                cells = [label, value]
                row = table.row()
                for index, text in enumerate(cells[::-1] if self.template.rtl else cells):
                    is_label = (index == 0) != self.template.rtl
                    style = FontFace(emphasis="BOLD") if is_label else None
                    row.cell(text, style=style)


def _responsible(template: PlanTemplate, step) -> str:
    if step.responsible == StepResponsible.CUSTOMER:
        return template.responsible_customer
    if step.responsible == StepResponsible.JOBCENTER:
        return template.responsible_jobcenter
    return f"{template.responsible_third_party}: {step.responsible_name}"


def _status(template: PlanTemplate, status: str) -> str:
    return {
        StepStatus.OPEN: template.status_open,
        StepStatus.DONE: template.status_done,
        StepStatus.DROPPED: template.status_dropped,
    }[status]


def plan_pdf_render(*, plan: CooperationPlan, customer: Customer, language: str) -> RenderedPdf:
    """The plan in the template of `language`, or in German if there is no such template."""
    template = TEMPLATES.get(language) or TEMPLATES[PDF_FALLBACK_LANGUAGE]
    steps = list(plan.steps.all())
    first_pass = _draw(_PlanDocument(template), plan=plan, customer=customer, steps=steps)
    pdf = _draw(
        _PlanDocument(template, total_pages=first_pass.page_no()),
        plan=plan,
        customer=customer,
        steps=steps,
    )
    return RenderedPdf(data=bytes(pdf.output()), language=template.language)


def _draw(pdf: _PlanDocument, *, plan: CooperationPlan, customer: Customer, steps: list):
    template = pdf.template
    pdf.add_page()
    day = template.date_format

    pdf.paragraph(template.title, size=20, bold=True, gap=0.5)
    pdf.set_text_color(*MUTED)
    pdf.paragraph(template.subtitle, size=10, gap=1)
    pdf.set_text_color(*DARK)
    if template.translation_note:
        pdf.paragraph(template.translation_note, size=9, bold=True, gap=1)
    pdf.ln(2)

    rows = [
        (template.customer, customer.full_name),
        (template.customer_number, customer.customer_number),
        (template.version, f"{plan.cycle}.{plan.version}"),
    ]
    if plan.agreed_at is not None:
        rows.append((template.agreed_on, timezone.localtime(plan.agreed_at).strftime(day)))
    if plan.agreed_by is not None:
        rows.append((template.recorded_by, plan.agreed_by.get_full_name() or str(plan.agreed_by)))
    if plan.agreement_note:
        rows.append((template.how_agreed, plan.agreement_note))
    rows.append((template.review_date, plan.review_date.strftime(day)))
    pdf.rows(rows)

    pdf.heading(template.goal_heading)
    pdf.paragraph(plan.integration_goal, size=11)

    pdf.heading(template.steps_heading)
    if not steps:
        pdf.paragraph(template.no_steps)
    else:
        pdf.set_font(pdf.main_font, size=9.5)
        widths = [10, 36, 74, 24, 26]
        headings = [
            template.col_number,
            template.col_responsible,
            template.col_what,
            template.col_due,
            template.col_status,
        ]
        if template.rtl:
            widths, headings = widths[::-1], headings[::-1]
        with pdf.table(
            col_widths=widths,
            text_align=pdf.align,
            line_height=5,
            padding=1.5,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            header = table.row()
            for text in headings:
                header.cell(text)
            for number, step in enumerate(steps, start=1):
                what = step.description
                if step.follow_up:
                    what = f"{what}\n\n{template.follow_up}:\n{step.follow_up}"
                cells = [
                    str(number),
                    _responsible(template, step),
                    what,
                    step.due_date.strftime(day),
                    _status(template, step.status),
                ]
                row = table.row()
                for text in cells[::-1] if template.rtl else cells:
                    row.cell(text)

    pdf.heading(template.legal_heading)
    pdf.paragraph(template.legal_text, size=9.5)
    pdf.ln(2)
    pdf.set_text_color(*MUTED)
    pdf.paragraph(f"{template.created_on}: {timezone.localdate().strftime(day)}", size=8.5, gap=0)
    return pdf

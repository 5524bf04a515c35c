"""The PDF of the agreed plan: one per template language, text extractable in logical order."""

import io

import pytest
from pypdf import PdfReader

from audit.models import AuditAction, AuditChannel, AuditEvent
from audit.services import AuditContext
from cases.models import PlanStatus, StepResponsible, StepStatus
from cases.pdf import PDF_LANGUAGES, plan_pdf_languages, plan_pdf_render
from cases.services.plans import PlanNotFoundError, plan_pdf_export
from tests.cases.factories import CaseFactory, CustomerFactory
from tests.cases.factories_plans import CooperationPlanFactory, PlanStepFactory

# Fixed texts of each template that must come out of the PDF as they are written (logical order).
EXPECTED = {
    "de": ["Kooperationsplan", "Unser Eingliederungsziel", "kein Verwaltungsakt", "erledigt"],
    "en": ["Cooperation plan", "Our integration goal", "not an administrative act", "done"],
    "ar": ["خطة التعاون", "هدف الاندماج الخاص بنا", "ليست قرارًا", "منجزة"],
    "uk": ["План співпраці", "Наша мета інтеграції", "не є адміністративним", "виконано"],
    "tr": ["İşbirliği Planı", "Uyum hedefimiz", "idari işlem değildir", "tamamlandı"],
}


@pytest.fixture
def plan(team):
    customer = CustomerFactory(first_name="Olena", last_name="Koval", preferred_language="uk")
    plan = CooperationPlanFactory(
        case=CaseFactory(team=team, customer=customer),
        status=PlanStatus.AGREED,
        integration_goal="Arbeit als Pflegehelferin",
    )
    PlanStepFactory(plan=plan, description="Sprachkurs B1", status=StepStatus.DONE)
    PlanStepFactory(
        plan=plan,
        description="Bewerbung Seniorenheim",
        responsible=StepResponsible.THIRD_PARTY,
        responsible_name="Bildungswerk",
        follow_up="Termin steht",
    )
    return plan


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_each_template_language_renders_with_its_texts_and_the_content(plan, language):
    pdf = plan_pdf_render(plan=plan, customer=plan.case.customer, language=language)
    assert pdf.language == language
    assert pdf.data.startswith(b"%PDF")
    text = _flat(_text(pdf.data))
    for expected in EXPECTED[language]:
        assert expected in text
    # The caseworker's content stays as written, in every language.
    for written in ("Arbeit als Pflegehelferin", "Sprachkurs B1", "Bildungswerk", "Termin steht"):
        assert written in text
    assert plan.case.customer.customer_number in text


def test_every_offered_language_has_expected_texts():
    assert set(PDF_LANGUAGES) == set(EXPECTED)


def test_arabic_title_is_shaped_and_extracts_in_logical_order(plan):
    text = _text(plan_pdf_render(plan=plan, customer=plan.case.customer, language="ar").data)
    first_line = text.strip().splitlines()[0]
    assert first_line == "خطة التعاون"
    # Not reversed (the visual order a naive renderer would leave in the file).
    assert "نواعتلا ةطخ" not in text


def test_german_is_always_offered_and_the_customers_language_where_a_template_exists(team):
    def languages(code):
        return plan_pdf_languages(customer=CustomerFactory.build(preferred_language=code))

    assert languages("de") == ["de"]
    assert languages("uk") == ["de", "uk"]
    assert languages("AR") == ["de", "ar"]
    assert languages("tr-TR") == ["de", "tr"]
    assert languages("fa") == ["de"]
    assert languages("") == ["de"]


def test_unknown_language_falls_back_to_german(plan):
    pdf = plan_pdf_render(plan=plan, customer=plan.case.customer, language="fa")
    assert pdf.language == "de"
    assert "Kooperationsplan" in _text(pdf.data)


def test_export_writes_an_export_audit_row(plan, caseworker):
    ctx = AuditContext(actor=caseworker, channel=AuditChannel.UI)
    pdf = plan_pdf_export(ctx=ctx, case_id=plan.case_id, language="uk")
    assert pdf.filename.endswith("-uk.pdf")
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.customer_id == plan.case.customer_id
    assert event.detail == {"format": "pdf", "language": "uk", "version": "1.1"}


def test_export_of_another_teams_plan_is_refused(plan, other_caseworker):
    ctx = AuditContext(actor=other_caseworker, channel=AuditChannel.UI)
    with pytest.raises(PlanNotFoundError):
        plan_pdf_export(ctx=ctx, case_id=plan.case_id, language="de")
    assert not AuditEvent.objects.exists()


def test_a_long_plan_runs_over_pages_with_the_page_count_in_the_footer(plan):
    for number in range(25):
        PlanStepFactory(plan=plan, description=f"Weiterer Schritt {number} " + "mit Text " * 12)
    reader = PdfReader(
        io.BytesIO(plan_pdf_render(plan=plan, customer=plan.case.customer, language="de").data)
    )
    pages = len(reader.pages)
    assert pages > 1
    assert f"Seite {pages} von {pages}" in _flat(reader.pages[-1].extract_text())
    every_page = _flat(" ".join(page.extract_text() for page in reader.pages))
    assert "Weiterer Schritt 0" in every_page
    assert "Weiterer Schritt 24" in every_page

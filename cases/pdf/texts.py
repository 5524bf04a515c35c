"""The fixed texts of the cooperation plan PDF, one template per language (ISO 639-1 code).

These are the customer's document, not the staff UI: they are chosen by the customer's preferred
language, not by the language of the person who prints them, so they live here and not in the
gettext catalogue (which holds German and English for the staff only). The German template is the
authoritative document; every other one says that it is a translation for information.

The caseworker-written content (the goal, the steps and their notes) is printed as it was written.
To add a language: copy the English template, translate every value, add it to TEMPLATES.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanTemplate:
    language: str
    rtl: bool
    date_format: str
    title: str
    subtitle: str
    translation_note: str
    customer: str
    customer_number: str
    version: str
    agreed_on: str
    recorded_by: str
    how_agreed: str
    review_date: str
    goal_heading: str
    steps_heading: str
    col_number: str
    col_responsible: str
    col_what: str
    col_due: str
    col_status: str
    follow_up: str
    no_steps: str
    responsible_customer: str
    responsible_jobcenter: str
    responsible_third_party: str
    status_open: str
    status_done: str
    status_dropped: str
    legal_heading: str
    legal_text: str
    created_on: str
    # "{page}" and "{pages}" are filled in on every page.
    footer: str


GERMAN = PlanTemplate(
    language="de",
    rtl=False,
    date_format="%d.%m.%Y",
    title="Kooperationsplan",
    subtitle="nach § 15 Zweites Buch Sozialgesetzbuch (SGB II)",
    translation_note="",
    customer="Kundin/Kunde",
    customer_number="Kundennummer",
    version="Version",
    agreed_on="Vereinbart am",
    recorded_by="Festgehalten von",
    how_agreed="Wie vereinbart",
    review_date="Überprüfung spätestens am",
    goal_heading="Unser Eingliederungsziel",
    steps_heading="Ziele und Schritte: wer macht was bis wann",
    col_number="Nr.",
    col_responsible="Wer",
    col_what="Was genau",
    col_due="Bis wann",
    col_status="Stand",
    follow_up="Nachhaltung",
    no_steps="Keine Schritte.",
    responsible_customer="Sie (Kundin/Kunde)",
    responsible_jobcenter="Jobcenter",
    responsible_third_party="Dritte",
    status_open="offen",
    status_done="erledigt",
    status_dropped="entfallen",
    legal_heading="Bitte beachten Sie",
    legal_text=(
        "Diesen Kooperationsplan haben wir gemeinsam mit Ihnen nach § 15 SGB II erstellt. Er hält "
        "das vereinbarte Ziel fest und die Schritte, mit denen Sie es erreichen sollen. Der "
        "Kooperationsplan ist kein Verwaltungsakt und rechtlich nicht verbindlich: Aus ihm selbst "
        "folgen keine Rechtsfolgen. Wir überprüfen ihn regelmäßig gemeinsam mit Ihnen, spätestens "
        "zum genannten Termin, und passen ihn an, wenn sich Ihre Lage ändert. Wenn Sie mit dem "
        "Inhalt nicht einverstanden sind, sprechen Sie bitte Ihre Ansprechperson im Jobcenter an."
    ),
    created_on="Erstellt am",
    footer="Jobcenter · Kooperationsplan · Seite {page} von {pages}",
)

ENGLISH = PlanTemplate(
    language="en",
    rtl=False,
    date_format="%d/%m/%Y",
    title="Cooperation plan",
    subtitle="under section 15 of Book II of the German Social Code (SGB II)",
    translation_note=(
        "This is a translation for your information. The German version is the authoritative one."
    ),
    customer="Customer",
    customer_number="Customer number",
    version="Version",
    agreed_on="Agreed on",
    recorded_by="Recorded by",
    how_agreed="How it was agreed",
    review_date="Review at the latest on",
    goal_heading="Our integration goal",
    steps_heading="Goals and steps: who does what by when",
    col_number="No.",
    col_responsible="Who",
    col_what="What exactly",
    col_due="By when",
    col_status="Status",
    follow_up="Follow-up notes",
    no_steps="No steps.",
    responsible_customer="You (customer)",
    responsible_jobcenter="Jobcenter",
    responsible_third_party="Third party",
    status_open="open",
    status_done="done",
    status_dropped="dropped",
    legal_heading="Please note",
    legal_text=(
        "We drew up this cooperation plan together with you under section 15 SGB II. It records "
        "the goal we agreed and the steps by which you are to reach it. The cooperation plan is "
        "not an administrative act and is not legally binding: no legal consequences follow from "
        "it as such. We review it with you regularly, at the latest on the date given, and adapt "
        "it when your situation changes. If you do not agree with its content, please speak to "
        "your contact person at the jobcenter."
    ),
    created_on="Created on",
    footer="Jobcenter · Cooperation plan · Page {page} of {pages}",
)

ARABIC = PlanTemplate(
    language="ar",
    rtl=True,
    date_format="%d/%m/%Y",
    title="خطة التعاون",
    subtitle="وفقًا للمادة 15 من الكتاب الثاني من قانون الضمان الاجتماعي الألماني (SGB II)",
    translation_note="هذه ترجمة لإعلامك. النسخة الألمانية هي النسخة المعتمدة.",
    customer="العميل/العميلة",
    customer_number="رقم العميل",
    version="الإصدار",
    agreed_on="تاريخ الاتفاق",
    recorded_by="سجّله",
    how_agreed="طريقة الاتفاق",
    review_date="المراجعة في موعد أقصاه",
    goal_heading="هدف الاندماج الخاص بنا",
    steps_heading="الأهداف والخطوات: من يفعل ماذا وحتى متى",
    col_number="رقم",
    col_responsible="من",
    col_what="ماذا بالضبط",
    col_due="حتى متى",
    col_status="الحالة",
    follow_up="ملاحظات المتابعة",
    no_steps="لا توجد خطوات.",
    responsible_customer="أنت (العميل/العميلة)",
    responsible_jobcenter="مركز التوظيف",
    responsible_third_party="طرف ثالث",
    status_open="مفتوحة",
    status_done="منجزة",
    status_dropped="ملغاة",
    legal_heading="يرجى الملاحظة",
    legal_text=(
        "أعددنا خطة التعاون هذه معك وفقًا للمادة 15 من الكتاب الثاني من قانون الضمان الاجتماعي. "
        "وهي تسجّل الهدف الذي اتفقنا عليه والخطوات التي ستصل بها إليه. خطة التعاون ليست قرارًا "
        "إداريًا وليست ملزمة قانونًا: لا تترتب عليها بذاتها أي عواقب قانونية. نراجعها معك بانتظام، "
        "في موعد أقصاه التاريخ المذكور، ونعدّلها إذا تغيّرت ظروفك. إذا كنت لا توافق على محتواها، "
        "يرجى التحدث إلى الشخص المسؤول عنك في مركز التوظيف."
    ),
    created_on="تاريخ الإنشاء",
    footer="مركز التوظيف · خطة التعاون · صفحة {page} من {pages}",
)

UKRAINIAN = PlanTemplate(
    language="uk",
    rtl=False,
    date_format="%d.%m.%Y",
    title="План співпраці",
    subtitle="відповідно до § 15 Другої книги Соціального кодексу Німеччини (SGB II)",
    translation_note="Це переклад для вашої інформації. Чинною є німецька версія.",
    customer="Клієнт/клієнтка",
    customer_number="Номер клієнта",
    version="Версія",
    agreed_on="Дата узгодження",
    recorded_by="Зафіксовано",
    how_agreed="Як узгоджено",
    review_date="Перевірка не пізніше",
    goal_heading="Наша мета інтеграції",
    steps_heading="Цілі та кроки: хто що робить і до коли",
    col_number="№",
    col_responsible="Хто",
    col_what="Що саме",
    col_due="До коли",
    col_status="Стан",
    follow_up="Нотатки щодо виконання",
    no_steps="Кроків немає.",
    responsible_customer="Ви (клієнт/клієнтка)",
    responsible_jobcenter="Джобцентр",
    responsible_third_party="Третя сторона",
    status_open="відкрито",
    status_done="виконано",
    status_dropped="скасовано",
    legal_heading="Зверніть увагу",
    legal_text=(
        "Цей план співпраці ми склали разом з вами відповідно до § 15 SGB II. Він фіксує "
        "узгоджену мету та кроки, якими ви маєте її досягти. План співпраці не є адміністративним "
        "актом і не має юридично обов'язкової сили: сам по собі він не тягне жодних правових "
        "наслідків. Ми регулярно переглядаємо його разом з вами, не пізніше зазначеної дати, і "
        "змінюємо, якщо ваша ситуація змінюється. Якщо ви не згодні з його змістом, зверніться, "
        "будь ласка, до вашої контактної особи в джобцентрі."
    ),
    created_on="Створено",
    footer="Джобцентр · План співпраці · Сторінка {page} з {pages}",
)

TURKISH = PlanTemplate(
    language="tr",
    rtl=False,
    date_format="%d.%m.%Y",
    title="İşbirliği Planı",
    subtitle="Sosyal Yasa Kitabı II (SGB II) § 15 uyarınca",
    translation_note="Bu, bilginiz için bir çeviridir. Geçerli olan Almanca metindir.",
    customer="Müşteri",
    customer_number="Müşteri numarası",
    version="Sürüm",
    agreed_on="Anlaşma tarihi",
    recorded_by="Kaydeden",
    how_agreed="Nasıl anlaşıldı",
    review_date="En geç gözden geçirme tarihi",
    goal_heading="Uyum hedefimiz",
    steps_heading="Hedefler ve adımlar: kim neyi ne zamana kadar yapıyor",
    col_number="No.",
    col_responsible="Kim",
    col_what="Tam olarak ne",
    col_due="Ne zamana kadar",
    col_status="Durum",
    follow_up="Takip notları",
    no_steps="Adım yok.",
    responsible_customer="Siz (müşteri)",
    responsible_jobcenter="Jobcenter",
    responsible_third_party="Üçüncü taraf",
    status_open="açık",
    status_done="tamamlandı",
    status_dropped="iptal edildi",
    legal_heading="Lütfen dikkat",
    legal_text=(
        "Bu işbirliği planını SGB II § 15 uyarınca sizinle birlikte hazırladık. Plan, üzerinde "
        "anlaştığımız hedefi ve bu hedefe ulaşmak için atacağınız adımları kayıt altına alır. "
        "İşbirliği planı bir idari işlem değildir ve hukuken bağlayıcı değildir: planın "
        "kendisinden doğrudan hukuki sonuç doğmaz. Planı sizinle birlikte düzenli olarak, en geç "
        "belirtilen tarihte gözden geçirir ve durumunuz değişirse uyarlarız. İçeriğine "
        "katılmıyorsanız lütfen Jobcenter'daki irtibat kişinizle konuşun."
    ),
    created_on="Oluşturulma tarihi",
    footer="Jobcenter · İşbirliği Planı · Sayfa {page} / {pages}",
)

TEMPLATES: dict[str, PlanTemplate] = {
    template.language: template for template in (GERMAN, ENGLISH, ARABIC, UKRAINIAN, TURKISH)
}

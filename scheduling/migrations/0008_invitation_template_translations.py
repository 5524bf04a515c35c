"""Version 1 of the invitation text in each customer language (settings.CUSTOMER_LANGUAGES besides
German): faithful translations of the German version 1 (0004_invitations), with the same
placeholders and the notice of legal consequences, each saying that only the German text is
binding. The letter and the e-mail print them after the binding German text. Frozen here as
published: later versions are new rows, never edits of these. Have them checked by the jobcenter's
translation service before use, like the German legal text.
"""

import datetime

from django.db import migrations

VALID_FROM = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

TRANSLATIONS_V1 = {
    "en": {
        "subject": "Invitation to an appointment on {date} at {time}",
        "body": """Dear {name},

Please come to the following appointment:

Date: {date}
Time: {time}
Type of appointment: {channel}
Place: {place}
Your contact person: {caseworker}

Purpose of the appointment: {purpose}

We invite you under § 59 of the Second Book of the German Social Code (SGB II) in conjunction \
with § 309 of the Third Book of the German Social Code (SGB III). Please read the notice of legal \
consequences below.

If you cannot attend the appointment, please let us know before the appointment and tell us the \
reason. You can choose another appointment or ask for a call-back here:
{rebook_url}
You can also call us, write to us or come by in person.

Necessary travel costs for this appointment can be reimbursed to you on application (§ 59 SGB II \
in conjunction with § 309 (4) SGB III).

Kind regards
{caseworker}""",
        "legal_notice": """Notice of legal consequences

If you do not come to this appointment without good reason (missed appointment, \
Meldeversäumnis), your Bürgergeld can be reduced under § 32 SGB II. The reduction is 10 percent \
of the standard needs rate (Regelbedarf) that applies to you, for a period of one month.

There is no reduction if you explain and prove a good reason for your absence, for example with \
a doctor's certificate if you are ill. Before a decision on a reduction is made, you will be \
given the opportunity to comment. There is also no reduction if, in your individual case, it \
would lead to exceptional hardship (außergewöhnliche Härte).

Please therefore let us know before the appointment if you cannot come.

This is a translation for your information. Only the German text is legally binding.""",
    },
    "uk": {
        "subject": "Запрошення на зустріч: {date}, {time}",
        "body": """Доброго дня, {name}!

Просимо Вас прийти на таку зустріч:

Дата: {date}
Час: {time}
Вид зустрічі: {channel}
Місце: {place}
Ваша контактна особа: {caseworker}

Мета зустрічі: {purpose}

Ми запрошуємо Вас відповідно до § 59 Другої книги Соціального кодексу Німеччини (SGB II) у \
поєднанні з § 309 Третьої книги Соціального кодексу Німеччини (SGB III). Будь ласка, зверніть \
увагу на роз'яснення правових наслідків нижче.

Якщо Ви не можете прийти на зустріч, будь ласка, повідомте нас про це до зустрічі та вкажіть \
причину. Тут Ви можете вибрати інший час або попросити, щоб ми Вам зателефонували:
{rebook_url}
Ви також можете зателефонувати нам, написати або прийти особисто.

Необхідні витрати на проїзд на цю зустріч можуть бути Вам відшкодовані за заявою (§ 59 SGB II у \
поєднанні з § 309 абзац 4 SGB III).

З повагою
{caseworker}""",
        "legal_notice": """Роз'яснення правових наслідків

Якщо Ви без поважної причини не прийдете на цю зустріч (неявка, Meldeversäumnis), Ваша допомога \
Bürgergeld може бути зменшена відповідно до § 32 SGB II. Зменшення становить 10 відсотків \
стандартної потреби (Regelbedarf), що застосовується до Вас, строком на один місяць.

Зменшення не відбувається, якщо Ви повідомите про поважну причину своєї відсутності та \
підтвердите її, наприклад довідкою від лікаря, якщо Ви хворієте. Перш ніж буде прийнято рішення \
про зменшення, Ви отримаєте можливість висловитися щодо цього. Зменшення також не відбувається, \
якщо у Вашому конкретному випадку воно призвело б до надзвичайних труднощів (außergewöhnliche \
Härte).

Тому, будь ласка, повідомте нас до зустрічі, якщо Ви не можете прийти.

Це переклад для Вашої інформації. Юридичну силу має лише текст німецькою мовою.""",
    },
    "ru": {
        "subject": "Приглашение на встречу: {date}, {time}",
        "body": """Здравствуйте, {name}!

Просим Вас прийти на следующую встречу:

Дата: {date}
Время: {time}
Вид встречи: {channel}
Место: {place}
Ваше контактное лицо: {caseworker}

Цель встречи: {purpose}

Мы приглашаем Вас в соответствии с § 59 Второй книги Социального кодекса Германии (SGB II) в \
сочетании с § 309 Третьей книги Социального кодекса Германии (SGB III). Пожалуйста, обратите \
внимание на разъяснение правовых последствий ниже.

Если Вы не можете прийти на встречу, пожалуйста, сообщите нам об этом до встречи и укажите \
причину. Здесь Вы можете выбрать другое время или попросить, чтобы мы Вам перезвонили:
{rebook_url}
Вы также можете позвонить нам, написать или прийти лично.

Необходимые расходы на проезд на эту встречу могут быть Вам возмещены по заявлению (§ 59 SGB II \
в сочетании с § 309 абзац 4 SGB III).

С уважением
{caseworker}""",
        "legal_notice": """Разъяснение правовых последствий

Если Вы без уважительной причины не придёте на эту встречу (неявка, Meldeversäumnis), Ваше \
пособие Bürgergeld может быть уменьшено в соответствии с § 32 SGB II. Уменьшение составляет \
10 процентов стандартной потребности (Regelbedarf), применимой к Вам, сроком на один месяц.

Уменьшение не производится, если Вы сообщите об уважительной причине своего отсутствия и \
подтвердите её, например справкой от врача, если Вы больны. Прежде чем будет принято решение об \
уменьшении, Вам будет предоставлена возможность высказаться по этому поводу. Уменьшение также \
не производится, если в Вашем конкретном случае оно привело бы к чрезвычайным трудностям \
(außergewöhnliche Härte).

Поэтому, пожалуйста, сообщите нам до встречи, если Вы не можете прийти.

Это перевод для Вашего сведения. Юридическую силу имеет только текст на немецком языке.""",
    },
    "ar": {
        "subject": "دعوة إلى موعد: {date}، الساعة {time}",
        "body": """السيدة/السيد {name}،

نرجو منكم الحضور إلى الموعد التالي:

التاريخ: {date}
الساعة: {time}
نوع الموعد: {channel}
المكان: {place}
الشخص المسؤول عن التواصل معكم: {caseworker}

الغرض من الموعد: {purpose}

ندعوكم بموجب المادة 59 من الكتاب الثاني من القانون الاجتماعي الألماني (SGB II) بالاقتران مع \
المادة 309 من الكتاب الثالث من القانون الاجتماعي الألماني (SGB III). يرجى الانتباه إلى التنبيه \
بالعواقب القانونية أدناه.

إذا لم تتمكنوا من الحضور إلى الموعد، فيرجى إبلاغنا بذلك قبل الموعد مع ذكر السبب. يمكنكم هنا \
اختيار موعد آخر أو طلب أن نتصل بكم:
{rebook_url}
يمكنكم أيضًا الاتصال بنا هاتفيًا أو الكتابة إلينا أو الحضور شخصيًا.

يمكن، بناءً على طلبكم، أن تُعوَّض لكم تكاليف السفر الضرورية إلى هذا الموعد (المادة 59 من SGB II \
بالاقتران مع الفقرة 4 من المادة 309 من SGB III).

مع أطيب التحيات
{caseworker}""",
        "legal_notice": """التنبيه بالعواقب القانونية

إذا لم تحضروا إلى هذا الموعد دون سبب وجيه (التخلف عن الموعد، Meldeversäumnis)، فيجوز تخفيض \
إعانة Bürgergeld الخاصة بكم وفقًا للمادة 32 من SGB II. يبلغ التخفيض 10 بالمائة من الاحتياج \
الأساسي (Regelbedarf) المعتمد لكم، لمدة شهر واحد.

لا يتم التخفيض إذا بيّنتم سببًا وجيهًا لغيابكم وأثبتموه، مثلًا بشهادة طبية في حال المرض. قبل \
اتخاذ أي قرار بشأن التخفيض، ستُتاح لكم الفرصة لإبداء رأيكم في ذلك. كما لا يتم التخفيض إذا كان \
سيؤدي في حالتكم الخاصة إلى مشقة استثنائية (außergewöhnliche Härte).

لذلك يرجى إبلاغنا قبل الموعد إذا لم تتمكنوا من الحضور.

هذه ترجمة للعلم فقط. النص الألماني وحده هو الملزم قانونيًا.""",
    },
    "tr": {
        "subject": "Randevu daveti: {date}, saat {time}",
        "body": """Sayın {name},

Lütfen aşağıdaki randevuya geliniz:

Tarih: {date}
Saat: {time}
Randevunun türü: {channel}
Yer: {place}
İrtibat kişiniz: {caseworker}

Randevunun amacı: {purpose}

Sizi, Alman Sosyal Kanunu İkinci Kitap (SGB II) § 59 ile bağlantılı olarak Alman Sosyal Kanunu \
Üçüncü Kitap (SGB III) § 309 uyarınca davet ediyoruz. Lütfen aşağıdaki hukuki sonuçlar hakkındaki \
bilgilendirmeyi dikkate alınız.

Randevuya gelemeyecekseniz, lütfen bunu randevudan önce bize bildiriniz ve nedenini belirtiniz. \
Burada başka bir randevu zamanı seçebilir veya sizi geri aramamızı isteyebilirsiniz:
{rebook_url}
Bizi telefonla arayabilir, bize yazabilir veya şahsen de gelebilirsiniz.

Bu randevu için gerekli yol masrafları başvurunuz üzerine size ödenebilir (SGB II § 59 ile \
bağlantılı olarak SGB III § 309 fıkra 4).

Saygılarımızla
{caseworker}""",
        "legal_notice": """Hukuki sonuçlar hakkında bilgilendirme

Bu randevuya haklı bir neden olmadan gelmezseniz (randevuya gelmeme, Meldeversäumnis), \
Bürgergeld yardımınız SGB II § 32 uyarınca azaltılabilir. Azaltma, sizin için geçerli olan temel \
ihtiyaç tutarının (Regelbedarf) yüzde 10'udur ve bir ay sürer.

Gelmemeniz için haklı bir neden açıklar ve bunu kanıtlarsanız, örneğin hastaysanız bir doktor \
raporuyla, azaltma yapılmaz. Azaltma hakkında karar verilmeden önce, bu konudaki görüşünüzü \
bildirme fırsatı size tanınır. Azaltma, sizin özel durumunuzda olağanüstü bir mağduriyete \
(außergewöhnliche Härte) yol açacaksa da yapılmaz.

Bu nedenle, gelemeyecekseniz lütfen bunu randevudan önce bize bildiriniz.

Bu metin bilgilendirme amaçlı bir çeviridir. Yalnızca Almanca metin hukuken bağlayıcıdır.""",
    },
    "fa": {
        "subject": "دعوت به قرار ملاقات: {date}، ساعت {time}",
        "body": """{name} گرامی،

لطفاً در قرار ملاقات زیر حاضر شوید:

تاریخ: {date}
ساعت: {time}
نوع قرار ملاقات: {channel}
مکان: {place}
شخص رابط شما: {caseworker}

هدف از قرار ملاقات: {purpose}

ما شما را بر اساس ماده 59 کتاب دوم قانون اجتماعی آلمان (SGB II) در ارتباط با ماده 309 کتاب \
سوم قانون اجتماعی آلمان (SGB III) دعوت می‌کنیم. لطفاً به توضیح پیامدهای حقوقی در پایین توجه \
کنید.

اگر نمی‌توانید در قرار ملاقات حاضر شوید، لطفاً پیش از قرار ملاقات این را به ما اطلاع دهید و \
دلیل آن را بگویید. در اینجا می‌توانید زمان دیگری انتخاب کنید یا درخواست کنید که با شما تماس \
بگیریم:
{rebook_url}
همچنین می‌توانید به ما تلفن کنید، برای ما بنویسید یا حضوری مراجعه کنید.

هزینه‌های ضروری رفت‌وآمد برای این قرار ملاقات می‌تواند بنا به درخواست شما بازپرداخت شود \
(ماده 59 SGB II در ارتباط با بند 4 ماده 309 SGB III).

با احترام
{caseworker}""",
        "legal_notice": """توضیح پیامدهای حقوقی

اگر بدون دلیل موجه در این قرار ملاقات حاضر نشوید (عدم حضور، Meldeversäumnis)، ممکن است \
Bürgergeld شما بر اساس ماده 32 SGB II کاهش یابد. میزان کاهش 10 درصد از نیاز پایه \
(Regelbedarf) تعیین‌شده برای شما و به مدت یک ماه است.

اگر دلیل موجهی برای غیبت خود ارائه دهید و آن را ثابت کنید، برای مثال با گواهی پزشک در صورت \
بیماری، کاهشی صورت نمی‌گیرد. پیش از آنکه درباره کاهش تصمیم گرفته شود، به شما فرصت داده \
می‌شود که نظر خود را بیان کنید. همچنین اگر کاهش در مورد خاص شما به سختی فوق‌العاده \
(außergewöhnliche Härte) منجر شود، کاهشی صورت نمی‌گیرد.

بنابراین لطفاً اگر نمی‌توانید بیایید، پیش از قرار ملاقات به ما اطلاع دهید.

این متن ترجمه‌ای برای اطلاع شماست. تنها متن آلمانی از نظر حقوقی معتبر است.""",
    },
    "ro": {
        "subject": "Invitație la o întâlnire: {date}, ora {time}",
        "body": """Bună ziua, {name},

Vă rugăm să veniți la următoarea întâlnire:

Data: {date}
Ora: {time}
Tipul întâlnirii: {channel}
Locul: {place}
Persoana dumneavoastră de contact: {caseworker}

Scopul întâlnirii: {purpose}

Vă invităm în temeiul § 59 din Cartea a doua a Codului social german (SGB II) coroborat cu § 309 \
din Cartea a treia a Codului social german (SGB III). Vă rugăm să citiți mai jos informarea \
privind consecințele juridice.

Dacă nu puteți veni la întâlnire, vă rugăm să ne anunțați înainte de întâlnire și să ne spuneți \
motivul. Aici puteți alege o altă dată sau puteți cere să vă sunăm înapoi:
{rebook_url}
De asemenea, ne puteți suna, ne puteți scrie sau puteți veni personal.

Costurile de transport necesare pentru această întâlnire vă pot fi rambursate la cerere (§ 59 \
SGB II coroborat cu § 309 alineatul 4 SGB III).

Cu stimă,
{caseworker}""",
        "legal_notice": """Informare privind consecințele juridice

Dacă nu veniți la această întâlnire fără un motiv întemeiat (neprezentare, Meldeversäumnis), \
ajutorul dumneavoastră Bürgergeld poate fi redus conform § 32 SGB II. Reducerea este de 10 la \
sută din necesarul standard (Regelbedarf) aplicabil în cazul dumneavoastră, pe o durată de o lună.

Reducerea nu are loc dacă prezentați și dovediți un motiv întemeiat pentru absența \
dumneavoastră, de exemplu printr-un certificat medical în caz de boală. Înainte de a se decide \
asupra unei reduceri, veți avea posibilitatea să vă exprimați punctul de vedere. De asemenea, \
reducerea nu are loc dacă, în cazul dumneavoastră concret, ar duce la o situație de dificultate \
excepțională (außergewöhnliche Härte).

De aceea, vă rugăm să ne anunțați înainte de întâlnire dacă nu puteți veni.

Aceasta este o traducere pentru informarea dumneavoastră. Numai textul în limba germană este \
obligatoriu din punct de vedere juridic.""",
    },
    "pl": {
        "subject": "Zaproszenie na spotkanie: {date}, godz. {time}",
        "body": """Dzień dobry, {name},

prosimy o stawienie się na następujące spotkanie:

Data: {date}
Godzina: {time}
Rodzaj spotkania: {channel}
Miejsce: {place}
Osoba kontaktowa: {caseworker}

Cel spotkania: {purpose}

Zapraszamy na podstawie § 59 Księgi drugiej niemieckiego Kodeksu socjalnego (SGB II) w związku \
z § 309 Księgi trzeciej niemieckiego Kodeksu socjalnego (SGB III). Prosimy o zapoznanie się \
z pouczeniem o skutkach prawnych poniżej.

Jeżeli nie mogą Państwo przyjść na spotkanie, prosimy o poinformowanie nas o tym przed spotkaniem \
i podanie przyczyny. Tutaj mogą Państwo wybrać inny termin lub poprosić o telefon od nas:
{rebook_url}
Mogą Państwo również do nas zadzwonić, napisać lub przyjść osobiście.

Niezbędne koszty dojazdu na to spotkanie mogą zostać Państwu zwrócone na wniosek (§ 59 SGB II \
w związku z § 309 ust. 4 SGB III).

Z poważaniem
{caseworker}""",
        "legal_notice": """Pouczenie o skutkach prawnych

Jeżeli nie przyjdą Państwo na to spotkanie bez ważnego powodu (niestawiennictwo, \
Meldeversäumnis), Państwa świadczenie Bürgergeld może zostać obniżone zgodnie z § 32 SGB II. \
Obniżenie wynosi 10 procent obowiązującej Państwa stawki podstawowej (Regelbedarf) i trwa jeden \
miesiąc.

Obniżenie nie następuje, jeżeli przedstawią Państwo i udowodnią ważny powód swojej nieobecności, \
na przykład zaświadczeniem lekarskim w przypadku choroby. Zanim zostanie podjęta decyzja \
o obniżeniu, otrzymają Państwo możliwość wypowiedzenia się w tej sprawie. Obniżenie nie następuje \
również wtedy, gdy w Państwa indywidualnym przypadku prowadziłoby do nadzwyczajnie trudnej \
sytuacji (außergewöhnliche Härte).

Dlatego prosimy o poinformowanie nas przed spotkaniem, jeżeli nie mogą Państwo przyjść.

Jest to tłumaczenie w celach informacyjnych. Wiążący prawnie jest wyłącznie tekst w języku \
niemieckim.""",
    },
    "it": {
        "subject": "Invito a un appuntamento: {date}, ore {time}",
        "body": """Gentile {name},

La preghiamo di presentarsi al seguente appuntamento:

Data: {date}
Ora: {time}
Tipo di appuntamento: {channel}
Luogo: {place}
Persona di riferimento: {caseworker}

Scopo dell'appuntamento: {purpose}

La invitiamo ai sensi del § 59 del Secondo libro del Codice sociale tedesco (SGB II) in combinato \
disposto con il § 309 del Terzo libro del Codice sociale tedesco (SGB III). La preghiamo di \
leggere l'informativa sulle conseguenze giuridiche riportata di seguito.

Se non può venire all'appuntamento, La preghiamo di comunicarcelo prima dell'appuntamento \
indicandone il motivo. Qui può scegliere un altro appuntamento o chiedere che La richiamiamo:
{rebook_url}
Può anche telefonarci, scriverci o venire di persona.

Le spese di viaggio necessarie per questo appuntamento possono esserLe rimborsate su richiesta \
(§ 59 SGB II in combinato disposto con il § 309, comma 4, SGB III).

Cordiali saluti
{caseworker}""",
        "legal_notice": """Informativa sulle conseguenze giuridiche

Se non si presenta a questo appuntamento senza giustificato motivo (mancata presentazione, \
Meldeversäumnis), il Suo Bürgergeld può essere ridotto ai sensi del § 32 SGB II. La riduzione è \
pari al 10 per cento del fabbisogno standard (Regelbedarf) applicabile nel Suo caso, per la durata \
di un mese.

La riduzione non avviene se Lei espone e dimostra un giustificato motivo per la Sua assenza, ad \
esempio con un certificato medico in caso di malattia. Prima che venga presa una decisione sulla \
riduzione, Le sarà data la possibilità di esprimere il Suo parere. La riduzione non avviene \
neppure se, nel Suo caso specifico, comporterebbe un disagio eccezionale (außergewöhnliche Härte).

La preghiamo pertanto di comunicarci prima dell'appuntamento se non può venire.

Questa è una traduzione a scopo informativo. Solo il testo tedesco è giuridicamente vincolante.""",
    },
}


def create_translations_v1(apps, schema_editor):
    InvitationTemplate = apps.get_model("scheduling", "InvitationTemplate")
    for language, texts in TRANSLATIONS_V1.items():
        # A language an admin published already keeps its own versions.
        if not InvitationTemplate.objects.filter(language=language).exists():
            InvitationTemplate.objects.create(
                version=1, language=language, valid_from=VALID_FROM, **texts
            )


def delete_translations_v1(apps, schema_editor):
    InvitationTemplate = apps.get_model("scheduling", "InvitationTemplate")
    InvitationTemplate.objects.filter(
        language__in=list(TRANSLATIONS_V1), version=1, deliveries__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0007_caldav_password_encrypted")]

    operations = [migrations.RunPython(create_translations_v1, delete_translations_v1)]

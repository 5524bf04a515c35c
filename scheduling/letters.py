"""The invitation letter and the cancellation letter as PDF (fpdf2, A4, DIN 5008-like layout, the
vendored Noto fonts of the cooperation plan PDF with HarfBuzz shaping for names in any script).

The German text is the binding one and always comes first. A translation into the customer's
language follows on its own page, marked as a translation. The shipped fonts cover Latin (with
Turkish, Polish, Romanian ...), Greek, Cyrillic (Ukrainian, Russian) and Arabic script (Arabic,
Persian, Urdu); `letter_text_renderable` says whether a text can be drawn. A translation in another
script (Tigrinya, Chinese, ...) is left out by the caller with a logged notice, never drawn as
empty boxes.

Speed (a planning run approves hundreds of invitations at once; each makes a letter; about 80 ms
for a German letter instead of 240, 200 ms instead of 380 with an Arabic translation): the fonts are
parsed once per process and shared by every letter (`_letter_fonts_add`: each letter keeps only its
own glyph subset); the Arabic fonts go only into a letter with Arabic script in it; HarfBuzz's text
widths and the bidi runs are cached per process (fpdf2 measures a line again for every character it
adds, and most lines are the same in every letter: the template, the notice of legal consequences);
the fonts cut down to a letter's glyphs are reused by the next letter with the same glyphs
(`_LetterOutput`); the notice is kept on one page by measuring it first instead of fpdf2's
unbreakable(), which copies the whole document. The pages look exactly as fpdf2 draws them without
any of this (tests/scheduling/test_letters.py compares them pixel by pixel). One letter is made at a
time per process (`_RENDER_LOCK`): the shared fonts are read by one letter at once.
"""

import copy
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable

from django.utils import timezone
from fontTools import ttLib
from fpdf import FPDF
from fpdf.bidi import BidiParagraph, auto_detect_base_direction
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import OutputProducer

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
    fonts = _font_prototypes()
    return frozenset(fonts[LATIN.lower()].cmap) | frozenset(fonts[ARABIC.lower()].cmap)


# --- fonts: parsed once per process -----------------------------------------------------------------

_FONT_FILES = (
    (LATIN, "", "NotoSans-Regular.ttf"),
    (LATIN, "B", "NotoSans-Bold.ttf"),
    (ARABIC, "", "NotoSansArabic-Regular.ttf"),
    (ARABIC, "B", "NotoSansArabic-Bold.ttf"),
)
# The fonts, their HarfBuzz faces and the width cache are shared by every letter of the process:
# one letter at a time (the demo's web server and its periodic jobs run in threads of one process).
_RENDER_LOCK = threading.RLock()


# The glyphs every letter's Latin fonts carry: printable ASCII and the rest of German text.
_LATIN_REPERTOIRE = tuple(range(0x20, 0x7F)) + tuple(map(ord, "ÄÖÜäöüß§€–—„“”‚‘’·…°"))
# Fonts cut down to a set of glyphs, most recently used last.
_SUBSET_FONTS: OrderedDict = OrderedDict()
_SUBSET_FONTS_MAX = 32


class _SharedFont(TTFFont):
    """A TTFFont whose text widths come from the process's cache (the same text at the same size
    always has the same width)."""

    __slots__ = ()

    def shaped_text_width(self, text, font_size_pt, text_shaping_params):
        if not text_shaping_params:
            return super().shaped_text_width(text, font_size_pt, text_shaping_params)
        # What HarfBuzz shapes with (fpdf2 2.8.9's perform_harfbuzz_shaping): the direction of
        # the fragment, script, language and features.
        features = text_shaping_params.get("features")
        key = (
            text_shaping_params.get("fragment_direction"),
            text_shaping_params.get("script"),
            text_shaping_params.get("language"),
            tuple(features.items()) if features else (),
        )
        return _shaped_width(self.fontkey, text, font_size_pt, key)


@functools.lru_cache(maxsize=32_768)
def _shaped_width(fontkey: str, text: str, font_size_pt: float, key: tuple) -> tuple[int, float]:
    direction, script, language, features = key
    params = {
        "fragment_direction": direction,
        "script": script,
        "language": language,
        "features": dict(features),
    }
    return TTFFont.shaped_text_width(_font_prototypes()[fontkey], text, font_size_pt, params)


@functools.lru_cache(maxsize=2_000)
def _bidi_fragments(text: str, direction, alias: str) -> tuple:
    """fpdf2's split of a text into runs of one direction (pure Python, per character; the notice
    of legal consequences is the same in every letter and measured before it is drawn)."""
    return tuple(
        BidiParagraph(
            text=text, base_direction=direction, preserve_bn_chars=True, alias=alias
        ).get_bidi_fragments()
    )


@functools.cache
def _font_prototypes() -> dict[str, TTFFont]:
    """The letter fonts, parsed once: fontkey -> font (tables read, HarfBuzz face made)."""
    pdf = FPDF()
    for family, style, filename in _FONT_FILES:
        pdf.add_font(family, style, FONTS / filename)
    fonts = {}
    for fontkey, font in pdf.fonts.items():
        shared = copy.copy(font)
        shared.__class__ = _SharedFont
        # Load now what laying out a letter reads, so the shared fonts are only read later.
        shared.ttfont.getGlyphOrder()
        shared.ttfont["hmtx"]  # noqa: B018 - loads the table
        shared.hbfont  # noqa: B018 - makes the HarfBuzz face
        fonts[fontkey] = shared
    return fonts


class _LetterOutput(OutputProducer):
    """fpdf2's PDF writer, with the glyph subsets of earlier letters reused.

    fpdf2 cuts each font down to the letter's glyphs, in place. Most letters use the same glyphs
    (every Latin font carries the letters, digits and signs of German text, _LATIN_REPERTOIRE): a
    font cut down for an earlier letter with the same glyphs is handed over instead (cutting it
    again to the same glyphs is quick and changes nothing); otherwise the font gets a handle of its
    own on the file (opening it lazily reads only the table directory). The pages are drawn by now,
    with the whole fonts."""

    def _add_fonts(self, *args, **kwargs):
        keys = {}
        for fontkey, font in self.fpdf.fonts.items():
            if fontkey.rstrip("B") == LATIN.lower():
                for codepoint in _LATIN_REPERTOIRE:
                    font.subset.pick(codepoint)
            keys[fontkey] = (fontkey, frozenset(font.subset.get_all_glyph_names()))
            cached = _SUBSET_FONTS.get(keys[fontkey])
            if cached is not None:
                _SUBSET_FONTS.move_to_end(keys[fontkey])
            font.ttfont = cached or ttLib.TTFont(font.ttffile, recalcTimestamp=False, lazy=True)
        result = super()._add_fonts(*args, **kwargs)
        for fontkey, font in self.fpdf.fonts.items():
            _SUBSET_FONTS[keys[fontkey]] = font.ttfont
            while len(_SUBSET_FONTS) > _SUBSET_FONTS_MAX:
                _SUBSET_FONTS.popitem(last=False)
        return result


def _letter_fonts_add(pdf: FPDF, *, arabic: bool) -> None:
    """The letter fonts (the Arabic ones only if needed) into `pdf`, as fpdf2's add_font would add
    them, sharing the parsed font: only the glyph subset is the letter's own."""
    for fontkey, prototype in _font_prototypes().items():
        if not arabic and fontkey.rstrip("B") == ARABIC.lower():
            continue
        font = copy.copy(prototype)
        font.i = len(pdf.fonts) + 1
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font.subset = SubsetMap(font)
        pdf.fonts[fontkey] = font


def _needs_arabic_font(texts: Iterable[str]) -> bool:
    """Whether any of the texts has a character only the Arabic font can draw."""
    latin = _font_prototypes()[LATIN.lower()].cmap
    arabic = _font_prototypes()[ARABIC.lower()].cmap
    return any(
        ord(char) not in latin and ord(char) in arabic for text in texts for char in text or ""
    )


def letter_text_renderable(text: str) -> bool:
    """Whether every visible character of `text` has a glyph in the letter's fonts."""
    covered = _covered_codepoints()
    return all(
        ord(char) in covered
        for char in text
        if not char.isspace() and ord(char) >= 0x20 and char not in "\u200e\u200f\u200c\u200d"
    )


class _Letter(FPDF):
    def __init__(self, language: str, *, arabic: bool = True) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        # DIN 5008: left margin 25 mm, right 20 mm; the address field starts 45 mm from the top.
        self.set_margins(25, 18, 20)
        self.set_auto_page_break(auto=True, margin=20)
        _letter_fonts_add(self, arabic=arabic)
        self.arabic = arabic
        self.family_main = LATIN
        self.align_main = "L"
        self.rtl = False
        self.footer_line = ""  # how to reach the jobcenter, on every page (set by _letterhead)
        self.set_font(LATIN, size=10)
        self.set_fallback_fonts([ARABIC] if arabic else [])
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
        self.set_fallback_fonts([LATIN] if rtl else [ARABIC] if self.arabic else [])
        self.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr")
        self.rtl = rtl

    def _preload_bidirectional_text(self, text, markdown):
        # fpdf2 2.8.9's own, with the directional runs from the process's cache.
        if not self.text_shaping:
            return self._preload_font_styles(text, markdown)
        direction = self.text_shaping["direction"] or auto_detect_base_direction(text)
        self.text_shaping["paragraph_direction"] = direction
        emphasis = (
            "B" in self.font_style,
            "I" in self.font_style,
            self.strikethrough,
            self.underline,
        )
        fragments = []
        for bidi_text, bidi_direction in _bidi_fragments(text, direction, self.str_alias_nb_pages):
            self.text_shaping["fragment_direction"] = bidi_direction
            fragments.extend(
                self._preload_font_styles(bidi_text, markdown, _initial_emphasis=emphasis)
            )
            emphasis = getattr(self, "_markdown_emphasis", emphasis)
        return tuple(fragments)

    def output(self, *args, **kwargs):
        return super().output(*args, output_producer_class=_LetterOutput, **kwargs)

    def footer(self) -> None:
        self.set_text_color(*MUTED)
        if self.footer_line:
            self.set_y(-19)
            self.set_font(LATIN, size=7.5)
            self.cell(0, 4, self.footer_line, align="C")
        self.set_y(-14)
        self.set_font(LATIN, size=8)
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
        parts = []
        if heading.strip():
            parts.append(("B", 10.5, 6, heading.strip(), "LTR", (2, 3, 0, 3)))
        parts.append(("", 9.5, 4.8, rest.strip(), "LBR" if heading.strip() else 1, (1, 3, 2.5, 3)))
        # Measured first, then drawn on this page or the next: what fpdf2's unbreakable() does,
        # without its copy of the whole document.
        height = 0.0
        for style, size, line_height, text, border, padding in parts:
            self.set_font(self.family_main, style, size)
            height += self.multi_cell(
                0,
                line_height,
                text,
                border=border,
                align=self.align_main,
                padding=padding,
                dry_run=True,
                output="HEIGHT",
            )
        if self.will_page_break(height):
            self._perform_page_break()
        self.set_fill_color(*LEGAL_FILL)
        for style, size, line_height, text, border, padding in parts:
            self.set_font(self.family_main, style, size)
            self.multi_cell(
                0,
                line_height,
                text,
                border=border,
                fill=True,
                align=self.align_main,
                padding=padding,
                new_x="LMARGIN",
                new_y="NEXT",
            )
        self.ln(4)

    def small_note(self, text: str, *, keep_together: bool = False) -> None:
        self.set_font(self.family_main, size=9)
        if keep_together:  # a link split over two pages cannot be typed in
            height = self.multi_cell(
                0, 4.5, text, align=self.align_main, dry_run=True, output="HEIGHT"
            )
            if self.will_page_break(height):
                self._perform_page_break()
        self.set_text_color(*MUTED)
        self.multi_cell(0, 4.5, text, align=self.align_main, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*DARK)


# DIN 5008: the address field is 85 mm wide; the information block starts 125 mm from the left.
_ADDRESS_WIDTH = 85
_INFO_X = 125
_REFERENCES_Y = 90


def _information_block(contact: dict) -> str:
    """The jobcenter's address, phone, e-mail, web address and opening hours (German labels), one
    line each; "" when only the name is known."""
    lines = []
    for key, label, value in contact["items"]:
        if key == "address":
            lines.extend(part.strip() for part in value.split(", ", 1))
        elif key == "email":
            lines.append(value)  # plain: the label would push it onto two lines
        elif key == "website":
            lines.append(value.split("://", 1)[-1].rstrip("/"))
        elif "\n" in value or key == "opening_hours":
            lines.append(f"{label}:")
            lines.extend(value.splitlines())
        else:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


def _letterhead(pdf: _Letter, appointment: Appointment, caseworker: str, contact: dict) -> None:
    """Letterhead, sender line, the customer's address (from the household), the information
    block (how to reach the jobcenter), references. `contact`: the German jobcenter_contact."""
    customer = appointment.case.customer
    household = customer.household
    team = appointment.case.team
    pdf.footer_line = contact["footer"] if contact["rows"] else ""
    pdf.add_page()
    pdf.set_font(LATIN, "B", 14)
    pdf.cell(0, 7, contact["name"], align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(LATIN, size=9)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5, f"{team.name} · {caseworker}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(45)
    # The sender line above the address (DIN 5008), smaller where a long address needs it.
    size = 7.5
    pdf.set_font(LATIN, size=size)
    while size > 6 and pdf.get_string_width(contact["sender"]) > _ADDRESS_WIDTH:
        size -= 0.5
        pdf.set_font(LATIN, size=size)
    pdf.cell(_ADDRESS_WIDTH, 4, contact["sender"], new_x="LMARGIN", new_y="NEXT")
    y = pdf.get_y()
    pdf.line(pdf.l_margin, y, pdf.l_margin + _ADDRESS_WIDTH, y)
    information = _information_block(contact)
    pdf.set_text_color(*DARK)
    pdf.ln(2)
    pdf.set_font(LATIN, size=10.5)
    address = f"{customer.full_name}\n{household.street}\n{household.postal_code} {household.city}"
    pdf.multi_cell(_ADDRESS_WIDTH, 5, address, new_x="LMARGIN", new_y="NEXT")

    # How to reach the jobcenter, right of the address field.
    references_y = _REFERENCES_Y
    if information:
        pdf.set_xy(_INFO_X, 45)
        pdf.set_font(LATIN, size=8)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(
            pdf.w - pdf.r_margin - _INFO_X, 3.8, information, new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_text_color(*DARK)
        references_y = max(references_y, pdf.get_y() + 3)

    # Date and references on the right, level with the end of the address field.
    pdf.set_y(references_y)
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


def _letter_texts(appointment: Appointment, sections: Iterable[dict]) -> list[str]:
    """Every text a letter draws (to choose its fonts)."""
    customer = appointment.case.customer
    household = customer.household
    texts = [
        customer.full_name,
        household.street,
        household.postal_code,
        household.city,
        appointment.case.team.name,
    ]
    for section in sections:
        texts += [str(value) for value in section.values() if isinstance(value, str)]
        texts += [str(value) for value in section.get("values", {}).values()]
        contact = section.get("contact") or {}
        texts += [contact.get("name", ""), contact.get("footer", "")]
        texts += [value for _key, _label, value in contact.get("items", ())]
    return texts


def invitation_letter_pdf(
    *, appointment: Appointment, rendered: dict, translation: dict | None = None
) -> bytes:
    """The letter of one invitation: sender line, address, date, subject, text, the notice of
    legal consequences in its own framed block, the caseworker and the rebooking link.

    `rendered` is scheduling.services_invitations.invitation_render's German result; `translation`
    (optional) the same for the customer's language plus "mark" (the note that only the German
    text is binding), printed after the German text on a page of its own."""
    sections = [rendered] if translation is None else [rendered, translation]
    arabic = _needs_arabic_font(_letter_texts(appointment, sections)) or bool(
        translation and translation["language"].split("-")[0] in RTL_LANGUAGES
    )
    with _RENDER_LOCK:
        return _invitation_letter(appointment, rendered, translation, arabic=arabic)


def _invitation_letter(
    appointment: Appointment, rendered: dict, translation: dict | None, *, arabic: bool
) -> bytes:
    values = rendered["values"]
    pdf = _Letter(rendered["language"], arabic=arabic)
    pdf.set_title(rendered["subject"])
    _letterhead(pdf, appointment, values["caseworker"], rendered["contact"])

    pdf.text_block(rendered["subject"], size=12, bold=True, gap=4)
    pdf.text_block(rendered["body"], size=10.5, gap=5)
    pdf.legal_block(rendered["legal_notice"], german=True)
    pdf.small_note(
        f"Termin ändern oder Rückruf erbitten: {values['rebook_url']}", keep_together=True
    )

    if translation is not None:
        _translation_page(pdf, translation)
        url = translation["values"]["rebook_url"]
        keep = _left_to_right(url) if pdf.rtl else url
        pdf.text_block(translation["subject"], size=12, bold=True, gap=4)
        pdf.text_block(translation["body"].replace(url, keep), size=10.5, gap=5)
        pdf.legal_block(translation["legal_notice"], german=False)
        label = translation.get("change_label")
        pdf.small_note(f"{label}: {keep}" if label else keep, keep_together=True)
    return bytes(pdf.output())


def cancellation_letter_pdf(*, appointment: Appointment, sections: list[dict]) -> bytes:
    """The letter withdrawing an invitation. `sections`: the German text first, then optionally
    a translation, each {"language", "subject", "body", "caseworker"} (+ "mark" for a translation)."""
    arabic = _needs_arabic_font(_letter_texts(appointment, sections)) or any(
        section["language"].split("-")[0] in RTL_LANGUAGES for section in sections
    )
    german = sections[0]
    with _RENDER_LOCK:
        pdf = _Letter(german["language"], arabic=arabic)
        pdf.set_title(german["subject"])
        _letterhead(pdf, appointment, german["caseworker"], german["contact"])
        pdf.text_block(german["subject"], size=12, bold=True, gap=4)
        pdf.text_block(german["body"], size=10.5, gap=5)
        for translation in sections[1:]:
            _translation_page(pdf, translation)
            pdf.text_block(translation["subject"], size=12, bold=True, gap=4)
            pdf.text_block(translation["body"], size=10.5, gap=5)
        return bytes(pdf.output())

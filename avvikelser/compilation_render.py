"""The compilation's files: a PDF (reportlab platypus, charts with reportlab.graphics) and an XLSX workbook
(openpyxl, one sheet per section, with charts). Both write the content of avvikelser.compilation.gather() as it
is — the pattern view's numbers and the already suppressed delaktighet figures ("<5") — nothing is recomputed.

Text is Swedish through gettext (the task runs in the requester's language). The PDF uses DejaVu Sans when the
system has it (arrows and ≥ need it) and otherwise Helvetica with those two characters spelt out.
"""

from __future__ import annotations

import io
import logging
import os
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from avvikelser.models import CompilationGranularity

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")
PALETTE = ("#1f5f8b", "#c8553d", "#2a9d8f", "#8a5a9e", "#e9a03b", "#5c6b73", "#3d7d3d")
TOP_CATEGORIES_IN_CHART = 6
TOP_DIRECTIONS_IN_CHART = 10
_fonts: tuple[str, str] | None = None
logger = logging.getLogger(__name__)


def _granularity_label(value: str) -> str:
    return str(CompilationGranularity(value).label)


def _percent(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value  # a suppressed figure, "<5"
    return f"{100 * value:.1f} %".replace(".", ",")


def _decimal(value, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}".replace(".", ",")


def _verdict(before_after: dict) -> str:
    if before_after["too_early"]:
        return _("För tidigt att bedöma")
    return {"minskat": _("Minskat"), "ökat": _("Ökat")}.get(before_after["verdict"], _("Ingen säker förändring"))


def _method_texts(content: dict) -> list[str]:
    marker = content["delaktighet"].get("marker") or f"<{content['delaktighet']['min_cell']}"
    return [
        _("Siffrorna är desamma som i forumets mönstervy (API: /api/v1/forums/%(id)s/patterns/) för samma period "
          "och indelning. En avvikelse räknas i den period då händelsen inträffade; utkast räknas inte. En "
          "sammanslagen kategori räknas under sin efterföljare, och organisationer som upphört räknas som andra.")
        % {"id": content["forum"]["id"]},
        _("Perioden utvidgas till hela perioder (veckor, månader eller kvartal). Takt anges per 100 aktiva SIP "
          "där nämnaren finns."),
        _("Signaler: serier (kategori och riktning) som styrdiagrammets metod flaggar; se metodbeskrivningen i "
          "mönstervyn."),
        _("Åtgärdernas effekt: antal avvikelser i åtgärdens kategori och riktning lika lång tid före och efter "
          "beslutet, räknat fram till periodens slut."),
        _("Delaktighet: små antal redovisas som %(mark)s, och ytterligare värden döljs när ett dolt värde annars "
          "kunde räknas fram. Inga fritextsvar ingår.") % {"mark": marker},
        _("Sammanställningen innehåller inga personuppgifter: inga namn på personal eller enskilda, inga "
          "SIP-kopplingar och inga avvikelsetexter."),
    ]


# --- PDF ---------------------------------------------------------------------------------------------------------

def _register_fonts() -> tuple[str, str]:
    global _fonts
    if _fonts is not None:
        return _fonts
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for directory in FONT_DIRS:
        regular, bold = os.path.join(directory, "DejaVuSans.ttf"), os.path.join(directory, "DejaVuSans-Bold.ttf")
        if os.path.exists(regular) and os.path.exists(bold):
            try:
                pdfmetrics.registerFont(TTFont("SamverkanSans", regular))
                pdfmetrics.registerFont(TTFont("SamverkanSans-Bold", bold))
            except Exception:  # an unreadable font file: fall back to the built-in one
                logger.warning("compilation PDF: could not load %s", regular)
                continue
            _fonts = ("SamverkanSans", "SamverkanSans-Bold")
            return _fonts
    _fonts = ("Helvetica", "Helvetica-Bold")
    return _fonts


def _plain(text) -> str:
    """Text for the PDF: characters outside the built-in font's range spelt out when DejaVu is missing."""
    text = "" if text is None else str(text)
    if _register_fonts()[0] == "Helvetica":
        text = text.replace("→", "->").replace("≥", ">=").replace("≤", "<=")
    return text


class _Pdf:
    def __init__(self):
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

        self.colors = colors
        self.page_width = A4[0] - 2 * 42
        regular, bold = _register_fonts()
        self.font, self.bold = regular, bold
        base = getSampleStyleSheet()
        self.styles = {
            "title": ParagraphStyle("title", parent=base["Title"], fontName=bold, fontSize=18, leading=22),
            "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=13, leading=16,
                                 spaceBefore=12, spaceAfter=6, keepWithNext=1),
            "body": ParagraphStyle("body", parent=base["BodyText"], fontName=regular, fontSize=9, leading=12),
            "small": ParagraphStyle("small", parent=base["BodyText"], fontName=regular, fontSize=7.5, leading=9.5),
            "cell": ParagraphStyle("cell", parent=base["BodyText"], fontName=regular, fontSize=8, leading=10),
        }
        self.story = []

    def para(self, text, style="body"):
        from reportlab.platypus import Paragraph

        return Paragraph(escape(_plain(text)), self.styles[style])

    def add(self, text, style="body"):
        self.story.append(self.para(text, style))

    def heading(self, text):
        self.add(text, "h2")

    def table(self, header: list, rows: list[list], widths: list[float] | None = None,
              numeric: tuple[int, ...] | None = None):
        """A table; the `numeric` columns (default: all but the first) are right-aligned figures, the others
        wrapped text."""
        from reportlab.platypus import Paragraph, Table, TableStyle

        if not rows:
            self.add(_("Inget att redovisa för perioden."))
            return
        cell = self.styles["cell"]
        numeric = tuple(range(1, len(header))) if numeric is None else numeric
        data = [[Paragraph(escape(_plain(h)), cell) for h in header]]
        for row in rows:
            data.append([_plain(v) if i in numeric else Paragraph(escape(_plain(v)), cell)
                         for i, v in enumerate(row)])
        if widths:
            total = sum(widths)
            widths = [self.page_width * w / total for w in widths]
        table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        colors = self.colors
        table.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), self.font, 8),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4ecf2")),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#1f5f8b")),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#c9d3da")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            *[("ALIGN", (i, 1), (i, -1), "RIGHT") for i in numeric],
        ]))
        self.story.append(table)

    def line_chart(self, labels: list[str], series: list[tuple[str, list[int]]]):
        from reportlab.graphics.charts.legends import Legend
        from reportlab.graphics.charts.linecharts import HorizontalLineChart
        from reportlab.graphics.shapes import Drawing

        if not labels or not series:
            return
        width, height = self.page_width, 220
        drawing = Drawing(width, height)
        chart = HorizontalLineChart()
        chart.x, chart.y, chart.width, chart.height = 30, 45, width - 200, height - 60
        chart.data = [tuple(values) for _name, values in series]
        step = max(1, len(labels) // 12)
        chart.categoryAxis.categoryNames = [label if i % step == 0 else "" for i, label in enumerate(labels)]
        chart.categoryAxis.labels.angle = 45
        chart.categoryAxis.labels.boxAnchor = "ne"
        chart.categoryAxis.labels.fontName = self.font
        chart.categoryAxis.labels.fontSize = 6.5
        chart.valueAxis.valueMin = 0
        chart.valueAxis.valueMax = max(1, max(max(values) for _name, values in series))
        chart.valueAxis.labels.fontName = self.font
        chart.valueAxis.labels.fontSize = 7
        chart.joinedLines = 1
        for i in range(len(series)):
            chart.lines[i].strokeColor = self.colors.HexColor(PALETTE[i % len(PALETTE)])
            chart.lines[i].strokeWidth = 2.0 if i == 0 else 1.2
        drawing.add(chart)
        legend = Legend()
        legend.x, legend.y = width - 160, height - 20
        legend.fontName, legend.fontSize = self.font, 7
        legend.alignment = "right"
        legend.columnMaximum = len(series)
        legend.colorNamePairs = [(self.colors.HexColor(PALETTE[i % len(PALETTE)]), _plain(name)[:34])
                                 for i, (name, _values) in enumerate(series)]
        drawing.add(legend)
        self.story.append(drawing)

    def bar_chart(self, names: list[str], values: list[int]):
        from reportlab.graphics.charts.barcharts import HorizontalBarChart
        from reportlab.graphics.shapes import Drawing

        if not names:
            return
        row = 16
        height = 30 + row * len(names)
        drawing = Drawing(self.page_width, height)
        chart = HorizontalBarChart()
        chart.x, chart.y = 200, 20
        chart.width, chart.height = self.page_width - 220, row * len(names)
        chart.data = [tuple(reversed(values))]
        chart.categoryAxis.categoryNames = [_plain(n)[:48] for n in reversed(names)]
        chart.categoryAxis.labels.fontName = self.font
        chart.categoryAxis.labels.fontSize = 7
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.valueAxis.valueMin = 0
        chart.valueAxis.valueMax = max(1, max(values))
        chart.valueAxis.labels.fontName = self.font
        chart.valueAxis.labels.fontSize = 7
        chart.bars[0].fillColor = self.colors.HexColor(PALETTE[0])
        drawing.add(chart)
        self.story.append(drawing)

    def build(self, title: str) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.platypus import SimpleDocTemplate

        buffer = io.BytesIO()
        font = self.font

        def footer(canvas, doc):
            canvas.saveState()
            canvas.setFont(font, 7)
            canvas.drawString(42, 24, _plain(title))
            canvas.drawRightString(A4[0] - 42, 24, _("Sida %(n)s") % {"n": doc.page})
            canvas.restoreState()

        doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=42, rightMargin=42, topMargin=42, bottomMargin=48,
                                title=_plain(title), author="Samverkan", creator="Samverkan")
        doc.build(self.story, onFirstPage=footer, onLaterPages=footer)
        return buffer.getvalue()


def render_pdf(content: dict) -> bytes:
    counted, work, delaktighet = content["patterns"], content["work"], content["delaktighet"]
    labels = content["period_labels"]
    pdf = _Pdf()
    title = _("Sammanställning av samverkansavvikelser")
    pdf.add(title, "title")
    pdf.add(content["forum"]["name"], "h2")
    pdf.add(_("Period: %(start)s – %(end)s (indelning: %(granularity)s). Skapad %(day)s.") % {
        "start": content["period"]["start"], "end": content["period"]["end"],
        "granularity": _granularity_label(content["granularity"]).lower(), "day": content["generated_on"]})
    pdf.add(_("Organisationer i forumet: %(names)s.") % {
        "names": ", ".join(o["name"] for o in content["organisations"]) or "–"})

    pdf.heading(_("Sammanfattning"))
    pdf.table([_("Uppgift"), _("Antal")], [
        [_("Antal avvikelser"), counted["total"]],
        [_("Kategorier med avvikelser"), len(counted["categories"])],
        [_("Riktningar med avvikelser"), len(counted["directions"])],
        [_("Flaggade serier (signaler)"), counted["flagged_series"]],
        [_("Återkommande teman"), len(counted["themes"])],
        [_("Beslut under perioden"), len(work["decisions"])],
        [_("Åtgärder som följs upp"), len(work["measures"])],
    ], widths=[4, 1])

    pdf.heading(_("Avvikelser per period och kategori"))
    top = counted["categories"][:TOP_CATEGORIES_IN_CHART]
    pdf.line_chart(labels, [(_("Alla"), [p["count"] for p in counted["periods"]])]
                   + [(row["category"]["name"], row["counts"]) for row in top])
    pdf.table([_("Period"), _("Antal"), _("Aktiva SIP"), _("Per 100 SIP")],
              [[label, p["count"], p["active_sips"], _decimal(p["rate"])]
               for label, p in zip(labels, counted["periods"], strict=True)], widths=[2, 1, 1, 1])

    pdf.heading(_("Per kategori"))
    total = counted["total"] or 1
    pdf.table([_("Kategori"), _("Totalt"), _("Andel")],
              [[row["category"]["name"], row["total"], _percent(row["total"] / total)]
               for row in counted["categories"]], widths=[4, 1, 1])

    pdf.heading(_("Per riktning (rapporterande → berörd organisation)"))
    directions = counted["directions"]
    names = [f"{d['reporting_organisation']['name']} → {d['counterpart_organisation']['name']}" for d in directions]
    pdf.bar_chart(names[:TOP_DIRECTIONS_IN_CHART], [d["total"] for d in directions[:TOP_DIRECTIONS_IN_CHART]])
    pdf.table([_("Riktning"), _("Totalt")], [[name, d["total"]] for name, d in zip(names, directions, strict=True)],
              widths=[5, 1])

    pdf.heading(_("Signaler"))
    pdf.table([_("Serie"), _("Diagram"), _("Totalt"), _("Signal i period")],
              [[s["label"], s["chart"], s["total"], ", ".join(s["periods"])] for s in content["signals"]],
              widths=[5, 1, 1, 2], numeric=(2,))

    pdf.heading(_("Återkommande teman"))
    pdf.table([_("Tema"), _("Antal"), _("Första"), _("Senaste")],
              [[t["label"], t["count"], t["first_occurred_on"], t["last_occurred_on"]] for t in counted["themes"]],
              widths=[6, 1, 1.6, 1.6], numeric=(1,))

    pdf.heading(_("Beslut under perioden"))
    pdf.table([_("Datum"), _("Beslut"), _("Åtgärder")],
              [[d["decided_on"], d["text"], d["measure_count"]] for d in work["decisions"]],
              widths=[1.3, 6, 1], numeric=(2,))

    pdf.heading(_("Åtgärder och uppföljning"))
    pdf.table([_("Åtgärd"), _("Ansvarig organisation"), _("Klar senast"), _("Status"), _("Före"), _("Efter"),
               _("Bedömning")],
              [[m["title"], m["owner_organisation"], m["due_on"],
                m["status_label"] + (_(" (försenad)") if m["overdue"] else ""),
                m["before_after"]["before"], m["before_after"]["after"], _verdict(m["before_after"])]
               for m in work["measures"]], widths=[4, 2.4, 1.6, 1.6, 0.8, 0.8, 1.8], numeric=(4, 5))

    pdf.heading(_("Delaktighet i forumets organisationer"))
    if not delaktighet["available"]:
        pdf.add(_("Det finns ingen publicerad delaktighetsenkät."))
    else:
        blocks = [(g["organisation"], g) for g in delaktighet["groups"]] + [(_("Totalt"), delaktighet["total"])]
        pdf.table([_("Organisation"), _("Inbjudna"), _("Svarande"), _("Svarsfrekvens"),
                   _("Andel med eget medelvärde ≥ 4")],
                  [[name, b["invitations"], b["answers"], _percent(b["response_rate"]),
                    _percent(b["respondent_mean_share_ge4"])] for name, b in blocks], widths=[3, 1, 1, 1.2, 1.6])
        pdf.story.append(pdf.para(" "))
        pdf.table([_("Fråga"), _("Antal svar"), _("Medelvärde"), _("Andel svar ≥ 4")],
                  [[f"{item['code']}: {item['text']}", item["n"], _decimal(item["mean"]), _percent(item["share_ge4"])]
                   for item in delaktighet["total"]["items"]], widths=[5, 1, 1, 1.2])

    pdf.heading(_("Om sammanställningen"))
    for text in _method_texts(content):
        pdf.add(text, "small")
    return pdf.build(title)


# --- XLSX --------------------------------------------------------------------------------------------------------

def _append(sheet, row) -> None:
    sheet.append(list(row))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # text stays text, even if it starts with "="


def _sheet(workbook, title: str, header: list):
    from openpyxl.styles import Font

    sheet = workbook.create_sheet(title[:31])
    _append(sheet, header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    return sheet


def _widths(sheet, first: int = 40, other: int = 12) -> None:
    from openpyxl.utils import get_column_letter

    for index in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(index)].width = first if index == 1 else other


def render_xlsx(content: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference

    counted, work, delaktighet = content["patterns"], content["work"], content["delaktighet"]
    labels = content["period_labels"]
    n = len(labels)
    workbook = Workbook()
    overview = workbook.active
    overview.title = _("Översikt")
    for row in (
        [_("Sammanställning av samverkansavvikelser")],
        [_("Forum"), content["forum"]["name"]],
        [_("Period från"), content["period"]["start"]],
        [_("Period till"), content["period"]["end"]],
        [_("Indelning"), _granularity_label(content["granularity"])],
        [_("Skapad"), content["generated_on"]],
        [_("Organisationer"), ", ".join(o["name"] for o in content["organisations"])],
        [],
        [_("Antal avvikelser"), counted["total"]],
        [_("Flaggade serier (signaler)"), counted["flagged_series"]],
        [_("Återkommande teman"), len(counted["themes"])],
        [_("Beslut under perioden"), len(work["decisions"])],
        [_("Åtgärder som följs upp"), len(work["measures"])],
    ):
        _append(overview, row)
    _widths(overview, 34, 60)

    periods = _sheet(workbook, _("Perioder"), [_("Period"), _("Från"), _("Till"), _("Antal"), _("Aktiva SIP"),
                                                _("Per 100 SIP")])
    for label, p in zip(labels, counted["periods"], strict=True):
        _append(periods, [label, p["start"], p["end"], p["count"], p["active_sips"], p["rate"]])
    _widths(periods, 12)
    if n:
        chart = LineChart()
        chart.title = _("Avvikelser per period")
        chart.add_data(Reference(periods, min_col=4, min_row=1, max_row=1 + n), titles_from_data=True)
        chart.set_categories(Reference(periods, min_col=1, min_row=2, max_row=1 + n))
        chart.width, chart.height = 22, 9
        periods.add_chart(chart, "H2")

    categories = _sheet(workbook, _("Kategorier"), [_("Kategori"), *labels, _("Totalt")])
    for row in counted["categories"]:
        _append(categories, [row["category"]["name"], *row["counts"], row["total"]])
    _widths(categories)
    k = len(counted["categories"])
    if n and k:
        chart = LineChart()
        chart.title = _("Avvikelser per kategori och period")
        shown = min(k, TOP_CATEGORIES_IN_CHART)
        chart.add_data(Reference(categories, min_col=1, max_col=1 + n, min_row=2, max_row=1 + shown),
                       from_rows=True, titles_from_data=True)
        chart.set_categories(Reference(categories, min_col=2, max_col=1 + n, min_row=1, max_row=1))
        chart.width, chart.height = 24, 10
        categories.add_chart(chart, f"A{k + 4}")

    directions = _sheet(workbook, _("Riktningar"), [_("Riktning"), _("Rapporterande organisation"),
                                                    _("Berörd organisation"), _("Totalt"), *labels])
    for d in counted["directions"]:
        source, target = d["reporting_organisation"]["name"], d["counterpart_organisation"]["name"]
        _append(directions, [f"{source} → {target}", source, target, d["total"], *d["counts"]])
    _widths(directions, 44, 14)
    k = len(counted["directions"])
    if k:
        chart = BarChart()
        chart.type = "bar"
        chart.title = _("Avvikelser per riktning")
        shown = min(k, TOP_DIRECTIONS_IN_CHART)
        chart.add_data(Reference(directions, min_col=4, min_row=1, max_row=1 + shown), titles_from_data=True)
        chart.set_categories(Reference(directions, min_col=1, min_row=2, max_row=1 + shown))
        chart.width, chart.height = 22, max(6, shown)
        directions.add_chart(chart, f"A{k + 4}")

    signals = _sheet(workbook, _("Signaler"), [_("Serie"), _("Kategori"), _("Rapporterande organisation"),
                                               _("Berörd organisation"), _("Diagram"), _("Totalt"),
                                               _("Utanför styrgränserna"), _("Signal i period"), _("Minsta p-värde")])
    for s in content["signals"]:
        _append(signals, [s["label"], s["category"], s["reporting_organisation"], s["counterpart_organisation"],
                          s["chart"], s["total"], _("ja") if s["outside"] else _("nej"), ", ".join(s["periods"]),
                          s["p_value"]])
    _widths(signals, 50, 16)

    themes = _sheet(workbook, _("Teman"), [_("Tema"), _("Antal"), _("Första"), _("Senaste"), _("Mönster")])
    for t in counted["themes"]:
        _append(themes, [t["label"], t["count"], t["first_occurred_on"], t["last_occurred_on"], t["fingerprint"]])
    _widths(themes, 60, 14)

    decisions = _sheet(workbook, _("Beslut"), [_("Datum"), _("Beslut"), _("Åtgärder")])
    for d in work["decisions"]:
        _append(decisions, [d["decided_on"], d["text"], d["measure_count"]])
    _widths(decisions, 12, 60)

    measures = _sheet(workbook, _("Åtgärder"), [
        _("Åtgärd"), _("Ansvarig organisation"), _("Klar senast"), _("Status"), _("Försenad"), _("Kategori"),
        _("Riktning"), _("Fönster (dagar)"), _("Före"), _("Efter"), _("Förändring"), _("p-värde"), _("Bedömning")])
    for m in work["measures"]:
        ba = m["before_after"]
        _append(measures, [m["title"], m["owner_organisation"], m["due_on"], m["status_label"],
                           _("ja") if m["overdue"] else _("nej"), m["category"], m["pair"], ba["window_days"],
                           ba["before"], ba["after"], ba["rate_change"], ba["p_value"], _verdict(ba)])
    _widths(measures, 44, 16)

    participation = _sheet(workbook, _("Delaktighet"), [
        _("Organisation"), _("Inbjudna"), _("Svarande"), _("Svarsfrekvens"), _("Andel med eget medelvärde ≥ 4")])
    if delaktighet["available"]:
        blocks = [(g["organisation"], g) for g in delaktighet["groups"]] + [(_("Totalt"), delaktighet["total"])]
        for name, b in blocks:
            _append(participation, [name, b["invitations"], b["answers"], b["response_rate"],
                                    b["respondent_mean_share_ge4"]])
        _append(participation, [])
        _append(participation, [_("Organisation"), _("Frågekod"), _("Fråga"), _("Antal svar"), _("Medelvärde"),
                                _("Andel svar ≥ 4")])
        for name, b in blocks:
            for item in b["items"]:
                _append(participation, [name, item["code"], item["text"], item["n"], item["mean"],
                                        item["share_ge4"]])
    else:
        _append(participation, [_("Det finns ingen publicerad delaktighetsenkät.")])
    _widths(participation, 34, 16)

    about = _sheet(workbook, _("Om sammanställningen"), [_("Förklaring")])
    for text in _method_texts(content):
        _append(about, [text])
    _widths(about, 140)

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

import datetime
import io
import re

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from pypdf import PdfReader

from frontend.pdf import render_pdf
from tests.sip.conftest import EXPORT_PERSON, EXPORT_TEXTS

pytestmark = pytest.mark.django_db

TEMPLATE = "sip/print.html"
HEADINGS = [
    "Min samordnade individuella plan (SIP)",
    "Om planen",
    "Det här är viktigt för mig",
    "Mina mål",
    "Insatser — vem gör vad och när",
    "Möten",
    "Kontaktpersoner",
]


@pytest.fixture
def print_context(export_plan):
    return {"sip": export_plan.sip, "today": datetime.date(2026, 3, 2)}


def render(context) -> str:
    with translation.override("sv"):
        return render_to_string(TEMPLATE, context)


def test_print_html(export_plan, print_context):
    html = render(print_context)
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert '<html lang="sv">' in html
    assert "<title>Min samordnade individuella plan (SIP)</title>" in html
    for heading in HEADINGS:
        assert heading in html, heading
    assert f"{EXPORT_PERSON['first_name']} {EXPORT_PERSON['last_name']}" in html
    assert "Planen är klar och gäller nu." in html
    assert export_plan.kommun.name in html  # huvudansvar
    assert "Karin Öberg" in html  # samordnare
    assert "Jonas Ek" in html  # kontaktperson
    assert export_plan.unit_region.name in html
    assert EXPORT_TEXTS["what_matters"] in html
    assert EXPORT_TEXTS["own_contribution"] in html
    for key in ("action_region", "action_kommun", "action_other"):
        assert EXPORT_TEXTS[key] in html
    assert "Arbetsförmedlingen" in html
    assert "Jag ringer handläggaren." in html
    assert "Rådhuset, rum 4" in html
    assert "2 mars 2026" in html  # Swedish date format
    assert "ta tillbaka ditt samtycke" in html
    assert "be om att något i planen ändras" in html


def test_own_goals_come_before_shared_goals(print_context):
    html = render(print_context)
    assert html.index("Mina egna mål") < html.index(EXPORT_TEXTS["own_goal"])
    assert html.index(EXPORT_TEXTS["own_goal"]) < html.index("Mål som vi har tillsammans")
    assert html.index("Mål som vi har tillsammans") < html.index(EXPORT_TEXTS["shared_goal"])


def test_no_free_text_leaks_that_the_person_copy_does_not_need(print_context):
    html = render(print_context)
    assert EXPORT_TEXTS["minutes"] not in html
    assert EXPORT_TEXTS["reason"] not in html
    assert "198112189876" not in html


def test_text_is_escaped(export_plan, print_context):
    export_plan.sip.what_matters = "<script>alert(1)</script>"
    html = render(print_context)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_empty_plan_renders(export_plan, print_context):
    sip = export_plan.sip
    sip.what_matters = ""
    sip.coordinator = None
    sip._prefetched_objects_cache.update({"goals": [], "actions": [], "meetings": []})
    html = render(print_context)
    assert "Vi har inte skrivit några mål än." in html
    assert "Vi har inte bestämt några insatser än." in html
    assert "Inga möten är inbokade än." in html
    assert "Ingen samordnare är utsedd än." in html


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_render_pdf(print_context):
    with translation.override("sv"):
        data = render_pdf(TEMPLATE, print_context)
    assert isinstance(data, bytes)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "Mina mål" in text
    assert "Min samordnade individuella plan (SIP)" in text
    assert "Åsa Lindström" in text
    # An action title with å, ä and ö comes out intact.
    assert "Återkommande samtal på mottagningen" in text
    assert "ångest och sömn" in text
    assert "Det här är viktigt för mig" in text


def test_render_pdf_raises_on_errors(monkeypatch):
    from xhtml2pdf import pisa

    class Failed:
        err = 1

    monkeypatch.setattr(pisa, "CreatePDF", lambda *args, **kwargs: Failed())
    with pytest.raises(RuntimeError):
        render_pdf(TEMPLATE, {"sip": None, "today": None})


def test_print_uses_only_what_sip_detail_loaded(print_context, django_assert_num_queries):
    with django_assert_num_queries(0):
        render(print_context)

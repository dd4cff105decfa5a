"""Delaktighet in HTML: the public answer page (no account, no JavaScript needed), the plan's invitations,
the participation report with its exports, and rutinkollen."""

import datetime
import io
import logging
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from organisations.models import Role
from sip.delaktighet import services
from sip.delaktighet.models import AnswerMode, Invitation, InvitationStatus, Response, RoutineCheck
from sip.delaktighet.senders import MemorySmsSender
from tests.delaktighet.test_invitations import held_meeting, link_from, token_of
from tests.delaktighet.test_reports import Row, add_answers
from tests.frontend.conftest import browser_for

pytestmark = pytest.mark.django_db

ANSWERS = {"q_information": "5", "q_lyssnad": "6", "q_till_oss": "Bra möte, tack!", "share_with_staff": "on"}


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    settings.SMS_SENDER = "sip.delaktighet.senders.MemorySmsSender"
    MemorySmsSender.outbox = []


@pytest.fixture
def token(world, plan, django_capture_on_commit_callbacks):
    """The person's answer link (sent by e-mail after a held meeting), as its raw token."""
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    return token_of(link_from(mail.outbox[0].body))


@pytest.fixture
def staff(world):
    return world.users_a[Role.SOCIALSEKRETERARE]


def answer_url(raw: str) -> str:
    return f"/d/{raw}/"


def text(response) -> str:
    return response.content.decode()


def person_invitation(plan) -> Invitation:
    return Invitation.objects.get(sip=plan.sip, participant__kind="person")


# --- the public page -------------------------------------------------------------------------------------

def test_the_answer_page_is_a_plain_form_that_needs_no_script(token):
    url = answer_url(token)
    response = Client().get(url)

    assert response.status_code == 200
    html = text(response)
    assert '<html lang="sv">' in html
    assert "<script" not in html.lower()
    assert "Hur var mötet för dig?" in html
    assert "Fråga 1 av 10" in html and "Fråga 10 av 10" in html
    assert "Alla frågor går att hoppa över." in html
    assert "Stämmer inte alls" in html and "Stämmer helt" in html
    assert html.count('type="radio"') == 9 * 7  # 1–6 and "skip" for each scale item
    assert '<textarea id="q-till_oss" name="q_till_oss"' in html
    assert re.search(r'<input type="checkbox" id="id_share_with_staff" name="share_with_staff" value="on" '
                     r'aria-describedby="share-help">', html)  # unchecked by default
    # Two real forms posting back to the same path, each with a real submit button.
    assert html.count(f'<form method="post" action="{url}"') == 2
    assert re.search(r'<button type="submit" class="button button-primary">\s*Skicka mina svar', html)
    assert re.search(r'<button type="submit" name="decline" value="1"[^>]*>\s*Jag vill inte svara', html)
    # No staff layout: no menu, no login or logout.
    assert "Huvudmeny" not in html and "Logga ut" not in html and "Logga in" not in html
    # The token only where the page posts back to itself (two forms, the language switch's "next").
    assert html.count(token) == 3
    assert f'name="next" value="{url}"' in html
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"


def test_submit_stores_one_answer_and_a_second_submit_is_gone(token, plan):
    client = Client(enforce_csrf_checks=True)  # the page works without a CSRF cookie: the token is the key
    url = answer_url(token)

    first = client.post(url, ANSWERS)
    second = client.post(url, {"q_information": "1"})

    assert first.status_code == 200
    assert "Tack för dina svar!" in text(first)
    assert second.status_code == 410
    assert "Länken går inte att använda längre" in text(second)
    response = Response.objects.get()
    assert response.share_with_staff is True
    assert {a.item.code: (a.value_int, a.value_text) for a in response.answers.select_related("item")} == {
        "information": (5, ""), "lyssnad": (6, ""), "till_oss": (None, "Bra möte, tack!")}
    assert person_invitation(plan).status == InvitationStatus.ANSWERED
    assert client.get(url).status_code == 410


def test_skipping_every_question_is_an_answer_too(token):
    response = Client().post(answer_url(token), {"q_information": "", "q_till_oss": ""})

    assert response.status_code == 200
    stored = Response.objects.get()
    assert stored.answers.count() == 0 and stored.share_with_staff is False


def test_decline_closes_the_invitation(token, plan):
    response = Client().post(answer_url(token), {"decline": "1", "q_information": "6"})

    assert response.status_code == 200
    assert "Du har tackat nej" in text(response)
    assert person_invitation(plan).status == InvitationStatus.DECLINED
    assert Response.objects.count() == 0
    assert Client().get(answer_url(token)).status_code == 410


def test_an_invalid_value_is_shown_at_its_question_and_the_choices_are_kept(token):
    response = Client().post(answer_url(token), {**ANSWERS, "q_information": "9"})

    assert response.status_code == 400
    html = text(response)
    assert 'class="error-summary"' in html
    assert '<a href="#q-information-1">Fråga 1: Välj ett av alternativen.</a>' in html
    assert 'id="q-information-error"' in html
    assert re.search(r'id="q-lyssnad-6" name="q_lyssnad" value="6" checked', html)
    assert "Bra möte, tack!</textarea>" in html
    assert 'id="id_share_with_staff" name="share_with_staff" value="on" aria-describedby="share-help" checked' in html
    assert Response.objects.count() == 0


def test_unknown_link_is_a_friendly_standalone_404(db):
    response = Client().get(answer_url("not-a-real-token-at-all-xxxxxxxxxxxxxx"))

    assert response.status_code == 404
    html = text(response)
    assert "Vi hittar inte enkäten" in html
    assert "<script" not in html.lower() and "Huvudmeny" not in html


def test_expired_link_is_410(token):
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = Client().get(answer_url(token))

    assert response.status_code == 410
    assert "Länken går inte att använda längre" in text(response)


def test_language_switch_to_english_without_javascript(token):
    client = Client()
    url = answer_url(token)

    switched = client.post(reverse("set_language"), {"language": "en", "next": url})
    page = client.get(url)

    assert switched.status_code == 302 and switched["Location"] == url
    assert '<html lang="en">' in text(page)
    assert 'lang="sv">Hur var mötet för dig?</h1>' in text(page)  # the questionnaire's own text stays Swedish
    assert 'value="sv" lang="sv"' in text(page)  # and the way back


def test_too_many_requests_from_one_address_get_a_friendly_429(token, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "public": "2/min"}}
    client = Client()
    statuses = [client.get(answer_url(token)).status_code for _ in range(2)]
    limited = client.get(answer_url("guessing-another-token"))
    other_address = Client(REMOTE_ADDR="10.1.2.3").get(answer_url(token))

    assert statuses == [200, 200]
    assert limited.status_code == 429
    assert "Vänta en liten stund" in text(limited)
    assert limited["Retry-After"] == "60"
    assert other_address.status_code == 200


def test_the_token_never_reaches_the_log(token, caplog):
    with caplog.at_level(logging.DEBUG):
        Client().get(answer_url(token))
        Client().get(answer_url(token + "x"))  # 404
        Client().post(answer_url(token), {"q_information": "99"})  # 400
        Client().post(answer_url(token), ANSWERS)
        Client().get(answer_url(token))  # 410

    assert token not in caplog.text


# --- the plan's invitations ------------------------------------------------------------------------------

def test_staff_see_the_invitations_of_their_plan(token, plan, staff):
    response = browser_for(staff).get(reverse("delaktighet:invitations", args=[plan.sip.pk]))

    assert response.status_code == 200
    html = text(response)
    assert "Den enskilde" in html and "Närstående" in html
    assert "Mamma" not in html  # the närstående's name is never needed
    assert "E-post" in html and "SMS" in html and "Skickad" in html
    assert html.count("Skriv ut enkät med QR-kod") == 2
    assert html.count("Registrera svar från pappersenkät") == 2
    assert token not in html


@pytest.mark.parametrize("who", ["outsider", "other_organisation"])
def test_staff_pages_of_a_plan_are_404_outside_the_plan(token, plan, world, who):
    user = world.outsider if who == "outsider" else world.users_b[Role.SOCIALSEKRETERARE]
    invitation = person_invitation(plan)
    client = browser_for(user)
    sip_id = plan.sip.pk

    assert client.get(reverse("delaktighet:invitations", args=[sip_id])).status_code == 404
    assert client.get(reverse("delaktighet:paper_answer", args=[sip_id, invitation.pk])).status_code == 404
    assert client.get(reverse("delaktighet:shared_answers", args=[sip_id, invitation.pk])).status_code == 404
    assert client.post(reverse("delaktighet:paper_sheet", args=[sip_id, invitation.pk])).status_code == 404


def test_staff_pages_need_a_login(plan):
    response = Client().get(reverse("delaktighet:invitations", args=[plan.sip.pk]))

    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_printed_sheet_has_the_questions_and_a_qr_code_but_no_link_text(token, plan, staff):
    invitation = person_invitation(plan)

    response = browser_for(staff).post(reverse("delaktighet:paper_sheet", args=[plan.sip.pk, invitation.pk]))

    assert response.status_code == 200
    html = text(response)
    assert '<svg role="img" aria-label="QR-kod till enkäten"' in html
    assert "Jag blev bemött med respekt." in html
    assert "/d/" not in html
    assert response["Cache-Control"] == "no-store"
    assert invitation.tokens.count() == 2  # the e-mail's and the sheet's own


def test_registering_a_paper_answer(token, plan, staff):
    invitation = person_invitation(plan)
    url = reverse("delaktighet:paper_answer", args=[plan.sip.pk, invitation.pk])
    client = browser_for(staff)

    form = client.get(url)
    saved = client.post(url, {"q_information": "4", "q_respekt": "6"})
    again = client.get(url)

    assert form.status_code == 200 and "Fråga 9 av 10" in text(form)
    assert saved.status_code == 302 and saved["Location"] == reverse("delaktighet:invitations", args=[plan.sip.pk])
    response = Response.objects.get()
    assert response.mode == AnswerMode.PAPER and response.registered_by == staff
    assert response.share_with_staff is False
    assert again.status_code == 410


def test_shared_answers_are_readable_and_unshared_are_not(world, plan, staff, django_capture_on_commit_callbacks):
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    person = token_of(link_from(mail.outbox[0].body))
    related = token_of(link_from(MemorySmsSender.outbox[0][1]))
    Client().post(answer_url(person), ANSWERS)
    Client().post(answer_url(related), {**ANSWERS, "share_with_staff": ""})
    client = browser_for(staff)
    shared = Invitation.objects.get(sip=plan.sip, participant__kind="person")
    unshared = Invitation.objects.get(sip=plan.sip, participant__kind="related")

    listing = text(client.get(reverse("delaktighet:invitations", args=[plan.sip.pk])))
    readable = client.get(reverse("delaktighet:shared_answers", args=[plan.sip.pk, shared.pk]))
    hidden = client.get(reverse("delaktighet:shared_answers", args=[plan.sip.pk, unshared.pk]))

    assert listing.count("Läs svaren") == 1 and "Svaren är inte delade med personalen" in listing
    assert readable.status_code == 200
    assert "Bra möte, tack!" in text(readable) and "5 av 6" in text(readable)
    assert hidden.status_code == 404


# --- the report ------------------------------------------------------------------------------------------

REPORT_PERIOD = {"period_start": "2025-01-01", "period_end": "2025-06-30"}


@pytest.fixture
def answered(plan):
    # Two men: hidden. Five "annat" with the men's values: hidden too, so the men cannot be computed back
    # from the totals (complementary suppression); the seven women stay visible.
    women = [Row(gender="kvinna", answers={"information": 5, "lyssnad": 6}) for _ in range(7)]
    men = [Row(gender="man", answers={"information": 2, "lyssnad": 3}) for _ in range(2)]
    other = [Row(gender="annat", answers={"information": 2, "lyssnad": 3}) for _ in range(5)]
    add_answers(plan.sip, [*women, *men, *other])


def test_report_shows_hidden_figures_as_given(answered, staff):
    response = browser_for(staff).get(reverse("delaktighet:report"), {**REPORT_PERIOD, "group_by": "gender"})

    assert response.status_code == 200
    html = text(response)
    assert "<h1>Delaktighet</h1>" in html
    man = html.split('id="grupp-2-title">Man</h2>', 1)[1].split("</section>", 1)[0]
    assert "<dd>&lt;5</dd>" in man  # two men answered: their number is hidden, exactly as the report gives it
    women = html.split('id="grupp-1-title">Kvinna</h2>', 1)[1].split("</section>", 1)[0]
    assert "<dd>7</dd>" in women and "Når målet" in women
    # The chart's data table: women 100 % in the first quarter of 2025, men hidden, nothing in the second.
    assert re.search(r'<th scope="row">K1 2025</th><td>100,0\xa0%</td><td>&lt;5</td>', html)
    assert re.search(r'<th scope="row">K2 2025</th><td>–</td><td>–</td>', html)
    assert '<svg class="trend-chart"' in html and "<circle" in html
    assert "<rect" not in html.split('<svg class="trend-chart"', 1)[1].split("</svg>", 1)[0]  # the men: a gap


def test_report_csv_and_xlsx_downloads(answered, staff):
    client = browser_for(staff)
    query = {**REPORT_PERIOD, "group_by": "gender"}

    csv_response = client.get(reverse("delaktighet:report_csv"), query)
    xlsx_response = client.get(reverse("delaktighet:report_xlsx"), query)

    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert 'filename="delaktighet.csv"' in csv_response["Content-Disposition"]
    rows = csv_response.content.decode().splitlines()
    assert any(row.startswith("Man,,,<5,<5") for row in rows)
    assert xlsx_response.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx_response.content)).active
    assert sheet.cell(row=1, column=1).value == "Kön"


def test_report_filter_errors_are_shown_per_field(staff):
    response = browser_for(staff).get(reverse("delaktighet:report"),
                                      {"period_start": "2025-06-01", "period_end": "2025-01-01"})

    assert response.status_code == 400
    assert "Perioden slutar innan den börjar." in text(response)


def test_report_offers_only_the_users_own_organisations(world, staff):
    response = browser_for(staff).get(reverse("delaktighet:report"), {"organisation": world.org_b.pk})

    assert response.status_code == 400
    html = text(response)
    assert world.org_a.name in html and world.org_b.name not in html


# --- rutinkollen -----------------------------------------------------------------------------------------

def routine_post(world, **values):
    version = services.current_version("routine_check")
    data = {"unit": world.unit_a.pk, "period_start": "2026-07-01", "period_end": "2026-09-30"}
    for item in version.items.all():
        data[f"r_{item.code}"] = values.get(item.code, "yes")
        data[f"c_{item.code}"] = ""
    return data


def test_rutinkollen_form_saves_and_the_list_shows_the_trend(world, staff):
    client = browser_for(staff)
    data = routine_post(world, kopia_klarsprak="partly", kallelse_i_tid="no")
    data["c_kallelse_i_tid"] = "Vi missar ibland tidsgränsen vid utskrivning."

    form = client.get(reverse("delaktighet:routine_new"))
    saved = client.post(reverse("delaktighet:routine_new"), data)
    listing = client.get(reverse("delaktighet:routine_list"))

    assert form.status_code == 200 and "Påstående 8 av 8" in text(form)
    assert saved.status_code == 302 and saved["Location"] == reverse("delaktighet:routine_list")
    check = RoutineCheck.objects.get()
    assert check.unit == world.unit_a and check.answers.count() == 8
    assert check.answers.get(item__code="kallelse_i_tid").comment.startswith("Vi missar")
    html = text(listing)
    assert re.search(r"<td>75,0\xa0%</td>", html)  # 6 of 8 "ja"
    assert "Vi missar ibland tidsgränsen vid utskrivning." in html


def test_rutinkollen_needs_every_statement_and_keeps_the_period_unique(world, staff):
    client = browser_for(staff)
    missing = routine_post(world)
    del missing["r_erbjuder_sip"]

    incomplete = client.post(reverse("delaktighet:routine_new"), missing)
    first = client.post(reverse("delaktighet:routine_new"), routine_post(world))
    twice = client.post(reverse("delaktighet:routine_new"), routine_post(world))

    assert incomplete.status_code == 400 and "Välj ja, delvis eller nej." in text(incomplete)
    assert first.status_code == 302
    assert twice.status_code == 400 and "Enheten har redan gjort rutinkollen för perioden." in text(twice)
    assert RoutineCheck.objects.count() == 1


def test_rutinkollen_lists_only_the_users_organisations(world, staff):
    browser_for(staff).post(reverse("delaktighet:routine_new"), routine_post(world))

    other = browser_for(world.users_b[Role.SOCIALSEKRETERARE]).get(reverse("delaktighet:routine_list"))

    assert other.status_code == 200
    assert world.unit_a.name not in text(other)

import io

import pytest
from django.core import mail

from organisations.models import Role
from sip.delaktighet import services
from tests.conftest import client_for
from tests.delaktighet.test_invitations import held_meeting, link_from, token_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(world, plan, settings, django_capture_on_commit_callbacks):
    settings.SMS_SENDER = "sip.delaktighet.senders.MemorySmsSender"
    held_meeting(world, plan, django_capture_on_commit_callbacks)
    services.submit(token_of(link_from(mail.outbox[0].body)), {"respekt": 6, "till_oss": "Hemlig fritext"})


def test_report_json_csv_and_xlsx_agree_and_suppress(world, answered):
    import openpyxl

    client = client_for(world.users_a[Role.SOCIALSEKRETERARE])
    url = f"/api/v1/reports/delaktighet/?organisation={world.org_a.pk}&group_by=gender"
    body = client.get(url).json()
    assert body["min_cell"] == 5
    assert body["total"]["answers"] == "<5"
    assert "Hemlig fritext" not in str(body)
    csv = client.get(url + "&output=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert "<5" in csv.content.decode() and "Hemlig fritext" not in csv.content.decode()
    xlsx = client.get(url + "&output=xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    values = {cell.value for row in book.worksheets[0].iter_rows() for cell in row}
    assert "<5" in values


def test_bad_report_parameters_are_field_errors(world):
    client = client_for(world.users_a[Role.SOCIALSEKRETERARE])
    response = client.get("/api/v1/reports/delaktighet/?group_by=colour&period_start=igår&output=pdf")
    assert response.status_code == 400
    assert {"group_by", "period_start", "output"} <= set(response.json()["errors"])


def test_routine_trend_per_unit_over_time(world):
    from sip.delaktighet import services as delaktighet

    user = world.users_a[Role.SAMORDNARE]
    codes = ["erbjuder_sip", "samtycke_forst", "kallelse_i_tid", "kopia_klarsprak"]
    for start, value in (("2026-01-01", "no"), ("2026-07-01", "yes")):
        delaktighet.record_routine_check(user, unit=world.unit_a, period_start=start, period_end=start[:5] + "12-31"
                                         if start.endswith("07-01") else "2026-06-30",
                                         answers={code: {"value": value} for code in codes})
    rows = client_for(user).get("/api/v1/routine-checks/trend/", {"unit": world.unit_a.pk}).json()
    assert [r["share_yes"] for r in rows] == [0.0, 1.0]
    other = client_for(world.users_b[Role.SAMORDNARE]).get("/api/v1/routine-checks/trend/").json()
    assert other == []

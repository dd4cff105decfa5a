"""The compilation page /forum/<pk>/sammanstallning/: a processledare orders one (the eager task builds it), the
list shows progress rows that htmx polls until they are done and then the download links; a ledamot sees and
downloads but gets no form (403 when posting anyway); outside the forum 404; no inline script or style."""

import datetime
import re

import pytest

from avvikelser.models import Compilation, CompilationStatus, Forum, ForumMember
from organisations.models import Role
from tests.factories import member
from tests.frontend.conftest import browser_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(world):
    forum = Forum.objects.create(name="Styrgrupp (sida)")
    forum.organisations.set([world.org_a, world.org_b])
    leader = member(world.unit_a2, Role.PROCESSLEDARE)
    reader = world.users_a[Role.STYRGRUPPSLEDAMOT]
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    ForumMember.objects.create(forum=forum, user=reader, role="ledamot")
    return forum, leader, reader, world.users_b[Role.PROCESSLEDARE]


def test_order_follow_and_download(page, django_capture_on_commit_callbacks):
    forum, leader, reader, outsider = page
    url = f"/forum/{forum.pk}/sammanstallning/"
    client = browser_for(leader)
    html = client.get(url).content.decode()
    assert 'name="period_start"' in html and "<script>" not in html and "style=" not in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"period_start": "2025-01-01", "period_end": "2025-03-31",
                                     "granularity": "month"})
    assert response.status_code == 302
    item = Compilation.objects.get(forum=forum)
    assert item.status == CompilationStatus.DONE and item.progress == 100
    html = browser_for(reader).get(url).content.decode()
    assert "name=\"period_start\"" not in html  # a ledamot reads only
    assert f"/forum/{forum.pk}/sammanstallning/{item.pk}/sammanstallning.pdf" in html
    assert "hx-get" not in html  # nothing left to poll
    pdf = browser_for(reader).get(f"{url}{item.pk}/sammanstallning.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert browser_for(reader).post(url, {"period_start": "2025-01-01", "period_end": "2025-03-31",
                                          "granularity": "month"}).status_code == 403
    for path in (url, f"{url}{item.pk}/", f"{url}{item.pk}/sammanstallning.xlsx"):
        assert browser_for(outsider).get(path).status_code == 404


def test_a_compilation_in_progress_is_polled_and_not_downloadable(page):
    forum, leader, reader, _outsider = page
    item = Compilation.objects.create(forum=forum, period_start=datetime.date(2025, 1, 1),
                                      period_end=datetime.date(2025, 6, 30), status=CompilationStatus.RUNNING,
                                      progress=45, step="delaktighet")
    url = f"/forum/{forum.pk}/sammanstallning/"
    html = browser_for(reader).get(url).content.decode()
    row = re.search(r"<tr id=\"compilation-\d+\"[^>]*>", html).group(0)
    assert f'hx-get="{url}{item.pk}/"' in row and "every 2s" in row
    fragment = browser_for(reader).get(f"{url}{item.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith("<tr") and 'value="45"' in fragment
    assert "Hämtar delaktighetsresultat" in fragment
    response = browser_for(reader).get(f"{url}{item.pk}/sammanstallning.pdf")
    assert response.status_code == 302  # back to the page with "not ready yet"
    bad = browser_for(leader).post(url, {"period_start": "2025-06-01", "period_end": "2025-01-01",
                                         "granularity": "month"})
    assert bad.status_code == 400

"""Load test (issue #7): staff reading and writing through the API, against gunicorn on 127.0.0.1.

Run by `make loadtest` (bench/loadtest.py starts gunicorn against the national database and locust headless).
The bench personas (bench/datagen/personas.py, password "bench-password") log in once at the start — the token
endpoint is rate limited per address like a real login — and every simulated user of a kind shares that
persona's token. Mix (weights): socialsekreterare read the SIP list, plans, timelines and add goals;
the counterpart's contact person works the deviation inbox and comments; the forum's processledare opens the
pattern view. No personal data in URLs: ids only.
"""

from __future__ import annotations

import os
import random

from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("BENCH_PASSWORD", "bench-password")
TOKENS: dict[str, str] = {}
SHARED: dict[str, list] = {"sips": [], "open_sips": [], "deviations": [], "forums": []}
OPEN = ("initierad", "kallad", "upprattad", "uppfoljning")  # closed plans take no new goals (409)


def _login(environment, username: str) -> str | None:
    import requests

    response = requests.post(f"{environment.host}/api/v1/auth/token/",
                             json={"username": username, "password": PASSWORD}, timeout=30)
    if response.status_code != 200:
        print(f"loadtest: login of {username} failed ({response.status_code})")
        return None
    return response.json()["token"]


@events.test_start.add_listener
def _prepare(environment, **_kwargs):
    import requests

    for username in ("bench_socialsekreterare", "bench_contact", "bench_forum"):
        token = _login(environment, username)
        if token:
            TOKENS[username] = token
    headers = {"Authorization": f"Token {TOKENS.get('bench_socialsekreterare', '')}"}
    for page in (1, 2, 3):
        rows = requests.get(f"{environment.host}/api/v1/sips/?page={page}", headers=headers, timeout=30)
        if rows.status_code == 200:
            SHARED["sips"] += [row["id"] for row in rows.json()["results"]]
            SHARED["open_sips"] += [row["id"] for row in rows.json()["results"] if row["status"] in OPEN]
    contact = {"Authorization": f"Token {TOKENS.get('bench_contact', '')}"}
    inbox = requests.get(f"{environment.host}/api/v1/avvikelser/?state=inkommen&state=mottagen&state=besvarad"
                         "&ordering=answer_due_at", headers=contact, timeout=30)
    if inbox.status_code == 200:
        SHARED["deviations"] = [row["id"] for row in inbox.json()["results"]]
    forum = {"Authorization": f"Token {TOKENS.get('bench_forum', '')}"}
    forums = requests.get(f"{environment.host}/api/v1/forums/", headers=forum, timeout=30)
    if forums.status_code == 200:
        SHARED["forums"] = [row["id"] for row in forums.json()["results"]]
    print(f"loadtest: tokens for {sorted(TOKENS)}; {len(SHARED['sips'])} SIPs, "
          f"{len(SHARED['deviations'])} open deviations, forums {SHARED['forums']}")


class _Staff(HttpUser):
    abstract = True
    wait_time = between(0.05, 0.3)
    persona = ""

    def on_start(self):
        self.client.headers["Authorization"] = f"Token {TOKENS.get(self.persona, '')}"


class Socialsekreterare(_Staff):
    weight = 6
    persona = "bench_socialsekreterare"

    @task(5)
    def sip_list(self):
        self.client.get(f"/api/v1/sips/?page={random.randint(1, 3)}", name="/api/v1/sips/?page=N")

    @task(5)
    def sip_detail(self):
        if SHARED["sips"]:
            self.client.get(f"/api/v1/sips/{random.choice(SHARED['sips'])}/", name="/api/v1/sips/{id}/")

    @task(3)
    def timeline(self):
        if SHARED["sips"]:
            self.client.get(f"/api/v1/sips/{random.choice(SHARED['sips'])}/timeline/",
                            name="/api/v1/sips/{id}/timeline/")

    @task(1)
    def add_goal(self):
        if SHARED["open_sips"]:
            self.client.post(f"/api/v1/sips/{random.choice(SHARED['open_sips'])}/goals/",
                             json={"kind": "shared", "horizon": "short", "text": "Belastningstest: delmål"},
                             name="POST /api/v1/sips/{id}/goals/")


class Contact(_Staff):
    weight = 3
    persona = "bench_contact"

    @task(5)
    def inbox(self):
        self.client.get("/api/v1/avvikelser/?state=inkommen&state=mottagen&state=besvarad&ordering=answer_due_at",
                        name="/api/v1/avvikelser/ (inbox)")

    @task(3)
    def deviation(self):
        if SHARED["deviations"]:
            self.client.get(f"/api/v1/avvikelser/{random.choice(SHARED['deviations'])}/",
                            name="/api/v1/avvikelser/{id}/")

    @task(1)
    def comment(self):
        if SHARED["deviations"]:
            self.client.post(f"/api/v1/avvikelser/{random.choice(SHARED['deviations'])}/comments/",
                             json={"text": "Belastningstest: vi tittar på detta."},
                             name="POST /api/v1/avvikelser/{id}/comments/")


class Processledare(_Staff):
    weight = 1
    persona = "bench_forum"

    @task
    def patterns(self):
        if SHARED["forums"]:
            self.client.get(f"/api/v1/forums/{SHARED['forums'][0]}/patterns/", name="/api/v1/forums/{id}/patterns/")

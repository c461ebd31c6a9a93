"""Locust's users for bench/mixed_load.py: anonymous visitors and signed-in trainees on a mix
of pages. What they may ask for (session keys, certificate codes, names) is in the JSON file
named by MIXED_LOAD_FILE. Each request expects one status (200, or the redirect the page
makes by design); anything else is a failure. Redirects are not followed."""

import itertools
import json
import os
import random

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

with open(os.environ["MIXED_LOAD_FILE"], encoding="utf-8") as handle:
    DATA = json.load(handle)
WAIT = [float(part) for part in os.environ.get("MIXED_LOAD_WAIT", "0.5,2").split(",")]
_session_keys = itertools.cycle(DATA["sessions"])


class Visitor(FastHttpUser):
    abstract = True
    wait_time = between(*WAIT)
    headers: dict = {}

    def get(self, path: str, name: str, expected: int = 200):
        with self.client.get(
            path, name=name, headers=self.headers, catch_response=True, allow_redirects=False
        ) as response:
            if response.status_code != expected:
                response.failure(f"status {response.status_code}, expected {expected}")


class Anonymous(Visitor):
    """The public: the front page, the registry, checking a certificate (page and API)."""

    weight = 2

    @task(10)
    def home(self):
        self.get("/", "anonymous: home /")

    @task(6)
    def registry(self):
        self.get("/registry/", "anonymous: registry /registry/")

    @task(3)
    def registry_search(self):
        self.get(
            f"/registry/?name={random.choice(DATA['names'])}", "anonymous: registry search /registry/?name="
        )

    @task(6)
    def verify_page(self):
        self.get(f"/c/{random.choice(DATA['codes'])}/", "anonymous: certificate check /c/<code>/")

    @task(4)
    def verify_api(self):
        self.get(
            f"/api/v1/certificates/verify/{random.choice(DATA['codes'])}/",
            "anonymous: API check /api/v1/certificates/verify/<code>/",
        )


class Trainee(Visitor):
    """A signed-in trainee (a session of their own): their pages and the cohort finder."""

    weight = 3

    def on_start(self):
        self.headers = {"Cookie": f"{DATA['cookie_name']}={next(_session_keys)}"}

    @task(4)
    def front_page(self):
        # A signed-in member's front page sends them to their own home page.
        self.get("/", "trainee: / (redirect home)", expected=302)

    @task(8)
    def home(self):
        self.get("/home/", "trainee: home /home/")

    @task(12)
    def my_training(self):
        self.get("/my-training/", "trainee: my training /my-training/")

    @task(5)
    def cohort_finder(self):
        self.get("/cohorts/", "trainee: cohort finder /cohorts/")

    @task(4)
    def certificates(self):
        self.get("/certificates/", "trainee: certificates /certificates/")

    @task(2)
    def calendar(self):
        self.get("/calendar/", "trainee: calendar /calendar/")

    @task(3)
    def profile(self):
        self.get("/profile/", "trainee: profile /profile/")

"""Locust's user for bench/throughput.py: asks for one path (BENCH_PATH) again and again,
with no wait, and counts anything but a 200 as a failure."""

import os

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

PATH = os.environ["BENCH_PATH"]


class PageReader(FastHttpUser):
    wait_time = constant(0)

    @task
    def read(self):
        with self.client.get(PATH, name=PATH, catch_response=True, allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")

"""The suite's own set-up: seeds loaded once per test database, and Redis databases per
parallel worker (tests/conftest.py, tests/xdist_redis.py)."""

import pytest

from members.models import ConsentText, Constituency, Region
from tests.xdist_redis import worker_url
from training.models import Programme


@pytest.mark.django_db
def test_every_test_database_starts_with_the_seeds():
    assert Region.objects.count() == 12
    assert Constituency.objects.count() == 650
    assert ConsentText.objects.exists()
    assert Programme.objects.exists()


def test_unseeded_empties_the_seeds_tables(unseeded):
    assert not Region.objects.exists()
    assert not Constituency.objects.exists()
    assert not ConsentText.objects.exists()
    assert not Programme.objects.exists()


def test_each_worker_moves_up_two_redis_databases():
    assert worker_url("redis://127.0.0.1:6379/0", 0) == "redis://127.0.0.1:6379/0"
    assert worker_url("redis://127.0.0.1:6379/0", 1) == "redis://127.0.0.1:6379/2"
    assert worker_url("redis://:secret@127.0.0.1:6379", 1) == "redis://:secret@127.0.0.1:6379/2"
    assert worker_url("redis://127.0.0.1:6379/12", 1) == "redis://127.0.0.1:6379/14"


def test_a_worker_past_the_last_redis_database_is_refused():
    with pytest.raises(RuntimeError, match="run fewer workers"):
        worker_url("redis://127.0.0.1:6379/12", 2)

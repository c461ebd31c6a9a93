"""The conversion rates are cached as a pickled ConversionRates: what a deploy before the move
to reporting cached (under certification.forecast) must not be read back."""

import pytest
from django.core.cache import cache

from reporting.forecast import ConversionRates
from reporting.selectors.dashboard import conversion_rates

pytestmark = pytest.mark.django_db


def test_rates_cached_by_the_code_before_the_move_are_not_read():
    """A value left under the key the old code used is ignored: the rates are counted afresh."""
    cache.set("dashboard:conversion-rates", "pickled by certification.forecast", 600)
    assert isinstance(conversion_rates(), ConversionRates)

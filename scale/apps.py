from django.apps import AppConfig


class ScaleConfig(AppConfig):
    """Realistic data in bulk for benchmarks and load tests (`manage.py generate_scale`).
    It has no models: it writes every other app's rows, so it comes after them all."""

    name = "scale"
    verbose_name = "Scale data"

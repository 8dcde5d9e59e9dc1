from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "harbour.testing"
    label = "testing"
    verbose_name = "Testing and treatment"

from django.apps import AppConfig


class Dhis2Config(AppConfig):
    name = "harbour.dhis2"
    verbose_name = "DHIS2 reporting"

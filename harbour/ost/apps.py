from django.apps import AppConfig


class OstConfig(AppConfig):
    name = "harbour.ost"
    label = "ost"
    verbose_name = "Opioid agonist therapy"

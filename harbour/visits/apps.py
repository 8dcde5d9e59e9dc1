from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "harbour.visits"
    label = "visits"

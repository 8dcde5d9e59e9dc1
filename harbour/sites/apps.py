from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "harbour.sites"
    label = "sites"

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "harbour.clients"
    label = "clients"

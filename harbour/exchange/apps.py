from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "harbour.exchange"
    label = "exchange"

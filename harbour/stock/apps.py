from django.apps import AppConfig


class StockConfig(AppConfig):
    name = "harbour.stock"
    label = "stock"

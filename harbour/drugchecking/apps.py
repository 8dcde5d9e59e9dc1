from django.apps import AppConfig


class DrugcheckingConfig(AppConfig):
    name = "harbour.drugchecking"
    verbose_name = "Drug checking"

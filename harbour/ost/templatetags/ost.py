from decimal import Decimal

from django import template

from harbour.ost.services import mg as format_mg

register = template.Library()


@register.filter
def mg(value: Decimal | None) -> str:
    """A dose as people write it: 60, 7.5."""
    return "" if value is None else format_mg(Decimal(value))

from django import template

from ..forms import format_timestamp

register = template.Library()


@register.filter
def timestamp(seconds: int) -> str:
    """195 -> "3:15", as earners write times in their notes."""
    return format_timestamp(int(seconds))

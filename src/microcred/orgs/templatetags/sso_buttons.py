"""{% sign_in_buttons as buttons %}: the active single sign-on services, for the sign-in page
(allauth's view renders it, so the buttons cannot come from a view of ours)."""

from __future__ import annotations

from django import template

from microcred.orgs import sso

register = template.Library()


@register.simple_tag
def sign_in_buttons() -> list[sso.SignInButton]:
    return sso.sign_in_buttons()

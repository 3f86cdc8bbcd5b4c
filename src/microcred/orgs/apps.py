from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "microcred.orgs"
    label = "orgs"
    verbose_name = "Organizations and people"

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in
        from allauth.mfa.signals import (
            authenticator_added,
            authenticator_removed,
            authenticator_reset,
        )

        from . import mfa, sso_adapter

        user_logged_in.connect(mfa.on_login, dispatch_uid="orgs.mfa.on_login")
        user_logged_in.connect(sso_adapter.on_sso_login, dispatch_uid="orgs.sso.on_login")
        authenticator_added.connect(
            mfa.on_authenticator_added, dispatch_uid="orgs.mfa.on_authenticator_added"
        )
        authenticator_removed.connect(
            mfa.on_authenticator_removed, dispatch_uid="orgs.mfa.on_authenticator_removed"
        )
        # Every change to how someone signs in leaves an AuditEvent, like API tokens do.
        for signal, name in [
            (authenticator_added, "added"),
            (authenticator_removed, "removed"),
            (authenticator_reset, "reset"),
        ]:
            receiver = getattr(mfa, f"on_authenticator_{name}_audit")
            signal.connect(receiver, dispatch_uid=f"orgs.mfa.audit_{name}")

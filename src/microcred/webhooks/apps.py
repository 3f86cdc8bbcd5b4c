from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "microcred.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks: signed event deliveries to other systems"

    def ready(self) -> None:
        from microcred.assessment.signals import decision_made
        from microcred.credentials.signals import credential_issued, credential_revoked
        from microcred.recognition.signals import ledger_entry_posted

        from . import receivers, rules  # noqa: F401  (permissions)

        for signal, receiver, name in [
            (credential_issued, receivers.on_credential_issued, "credential_issued"),
            (credential_revoked, receivers.on_credential_revoked, "credential_revoked"),
            (decision_made, receivers.on_decision_made, "decision_made"),
            (ledger_entry_posted, receivers.on_ledger_entries_posted, "ledger_entry_posted"),
        ]:
            signal.connect(receiver, dispatch_uid=f"webhooks.{name}")

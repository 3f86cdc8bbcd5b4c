"""Approvals lose their free-text `credit_note`: what an approval is worth now comes from the
recognizer's structured policies. No note is lost: each non-empty one is kept first in an
audit event on its approval ("approval.credit_note_retired"), and put back from there if the
migration is reversed."""

from django.db import migrations, models

ACTION = "approval.credit_note_retired"


def keep_notes(apps, schema_editor):
    Approval = apps.get_model("catalog", "Approval")
    AuditEvent = apps.get_model("orgs", "AuditEvent")
    events = [
        AuditEvent(
            actor=None,
            action=ACTION,
            target_type="catalog.approval",
            target_id=str(approval.pk),
            target_label=(
                f"{approval.version.title} (version {approval.version.number}) for "
                f"{approval.use} by {approval.recognizer.name}"
            )[:255],
            organization_id=approval.recognizer_id,
            reason="What it counts for is now computed from the recognizer's policies.",
            data={"credit_note": approval.credit_note, "use": approval.use},
        )
        for approval in Approval.objects.exclude(credit_note="").select_related(
            "version", "recognizer"
        )
    ]
    AuditEvent.objects.bulk_create(events, batch_size=500)


def restore_notes(apps, schema_editor):
    Approval = apps.get_model("catalog", "Approval")
    AuditEvent = apps.get_model("orgs", "AuditEvent")
    for event in AuditEvent.objects.filter(action=ACTION, target_type="catalog.approval"):
        note = str(event.data.get("credit_note", ""))[:200]
        Approval.objects.filter(pk=int(event.target_id)).update(credit_note=note)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_recognition_uses"),
        ("orgs", "0004_user_did"),
    ]

    operations = [
        migrations.RunPython(keep_notes, restore_notes),
        migrations.RemoveField(model_name="approval", name="credit_note"),
    ]

"""The admin shows scores, decisions and awards but never changes them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from microcred.assessment.models import Award, Decision, Score
from tests.assessment.helpers import score_at

pytestmark = pytest.mark.django_db


def test_scores_decisions_and_awards_are_read_only_in_admin(client, make_user, assigned):
    score = score_at(assigned, 17, overall_feedback="Good.", minutes_spent=20)
    client.force_login(make_user(is_staff=True, is_superuser=True))
    for model, obj in (
        (Score, score),
        (Decision, Decision.objects.get()),
        (Award, Award.objects.get()),
    ):
        name = model._meta.model_name
        assert client.get(reverse(f"admin:assessment_{name}_changelist")).status_code == 200
        change = reverse(f"admin:assessment_{name}_change", args=[obj.pk])
        page = client.get(change)
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert client.post(change, {}).status_code == 403
        delete = reverse(f"admin:assessment_{name}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Score.objects.get().total_points == 17
    assert client.get(reverse("admin:assessment_assessorprofile_changelist")).status_code == 200


def test_admin_is_closed_to_assessors(client, make_assessor):
    client.force_login(make_assessor().user)
    response = client.get(reverse("admin:assessment_score_changelist"))
    assert response.status_code == 302

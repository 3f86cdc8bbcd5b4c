"""Forms of the coaching pages: asking for (or assigning) a coach, and commenting on a draft.
They check shape only; coaching.py decides what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from microcred.orgs.models import User

from .models import DraftComment


def _person(user: User) -> str:
    return user.email if user.name == user.email else f"{user.name} ({user.email})"


class CoachChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _person(obj)


class AskForm(forms.Form):
    coach = CoachChoiceField(
        queryset=User.objects.none(),
        label="Coach",
        empty_label="Choose a coach",
        help_text="Coaches of your school and of its district.",
        error_messages={
            "required": "Choose the coach you would like to work with.",
            "invalid_choice": "Choose one of the coaches in the list.",
        },
    )

    def __init__(self, *args: Any, coaches: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coach"].queryset = coaches  # type: ignore[attr-defined]


class AssignForm(AskForm):
    email = forms.EmailField(
        label="Teacher's email address",
        help_text="A teacher at a school where you are the principal or run the program.",
        error_messages={
            "required": "Enter the email address of the teacher who gets the coach.",
            "invalid": "Enter an email address like name@school.org.",
        },
    )

    field_order = ["email", "coach"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coach"].help_text = "Coaches of your schools and of their districts."


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your comment",
        max_length=DraftComment.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Up to {DraftComment.BODY_MAX:,} characters. The teacher sees it on their "
        "portfolio page.",
        error_messages={
            "required": "Write your comment before sending it.",
            "max_length": "Shorten your comment to %(limit_value)s characters "
            "(it has %(show_value)s); nothing was saved.",
        },
    )

"""What assessment tells the rest of the system, sent once the change is committed: other apps
(webhooks) react without assessment knowing them."""

from django.dispatch import Signal

# Sent with decision=<Decision>, once, when a submission's decision is first made.
decision_made = Signal()

"""What credentials tell the rest of the system, sent once the change is committed: other
apps (the ledger) react without credentials knowing them."""

from django.dispatch import Signal

# Sent with credential=<IssuedCredential>.
credential_issued = Signal()
# Sent with credential=<IssuedCredential>, revocation=<Revocation>.
credential_revoked = Signal()

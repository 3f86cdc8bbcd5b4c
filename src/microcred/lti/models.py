"""LTI 1.3: the learning platforms (Canvas, Moodle, Schoology...) that launch microcred, who
their users are here, what they launched, and the grades sent back.

A platform is registered for one organization (a state agency or a district), by hand or by
LTI Dynamic Registration. Everything a launch leaves behind hangs off the platform."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ToolKey(models.Model):
    """The tool's own RSA key: it signs deep-linking responses and the client assertions that
    obtain service tokens; platforms read its public half at /lti/jwks/. The private key is
    stored sealed (AES-256-GCM, lti.keys), never in the clear."""

    kid = models.CharField(max_length=64, unique=True)
    public_jwk = models.JSONField()
    sealed_private_key = models.BinaryField(editable=False)
    wrapping_key_id = models.CharField(max_length=16, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            # At most one key signs at a time; retired keys stay published for a while.
            models.UniqueConstraint(
                fields=["retired_at"],
                condition=models.Q(retired_at__isnull=True),
                name="lti_one_active_tool_key",
            )
        ]

    def __str__(self) -> str:
        return f"LTI tool key {self.kid}"


class LtiPlatform(models.Model):
    """One registration of microcred in a learning platform: its issuer and the client ID it
    gave us, and the three addresses of its side of the OpenID Connect flow."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="lti_platforms"
    )
    name = models.CharField(max_length=200)
    issuer = models.URLField(max_length=500)
    client_id = models.CharField("client ID", max_length=255)
    auth_login_url = models.URLField("authentication request URL", max_length=500)
    auth_token_url = models.URLField("access token URL", max_length=500)
    key_set_url = models.URLField("public key set URL", max_length=500)
    # Some platforms (Moodle) name another audience for client assertions than the token URL.
    auth_audience = models.CharField(max_length=500, blank=True)
    registered_dynamically = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "client_id"], name="lti_platform_client")
        ]

    def __str__(self) -> str:
        return self.name


class LtiDeployment(models.Model):
    """A placement of the tool in the platform (a whole institution, or one sub-account)."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="deployments")
    deployment_id = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deployment_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "deployment_id"], name="lti_deployment_unique"
            )
        ]

    def __str__(self) -> str:
        return self.deployment_id


class LtiLogin(models.Model):
    """One OpenID Connect login we started: the state and nonce we sent to the platform. The
    launch that answers it uses it up (`used_at`), so a replayed id_token is refused."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=64, unique=True)
    nonce = models.CharField(max_length=64, unique=True)
    target_link_uri = models.URLField(max_length=1000, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"LTI login {self.state[:8]}"


class LtiUserLink(models.Model):
    """The LMS user (issuer + subject) behind a microcred account."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="user_links")
    sub = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_links"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "sub"], name="lti_user_link_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.sub} on {self.platform}"


class LtiResourceLaunch(models.Model):
    """A resource link a user launched, with the services the platform offered on it: the line
    item receives the score when they earn the micro-credential."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="launches")
    deployment = models.ForeignKey(LtiDeployment, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_launches"
    )
    resource_link_id = models.CharField(max_length=255)
    micro_credential = models.ForeignKey(
        "catalog.MicroCredential",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lti_launches",
    )
    context_id = models.CharField(max_length=255, blank=True)
    context_title = models.CharField(max_length=255, blank=True)
    lineitem_url = models.URLField(max_length=1000, blank=True)
    ags_scopes = models.JSONField(default=list, blank=True)
    nrps_url = models.URLField(max_length=1000, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_launched = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_launched"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "user", "resource_link_id"], name="lti_launch_per_link"
            )
        ]
        indexes = [models.Index(fields=["platform", "context_id"])]

    def __str__(self) -> str:
        return f"{self.user} launched {self.resource_link_id}"


class LtiHandoff(models.Model):
    """A one-time link from a launch inside an LMS frame to a full microcred tab, where the
    browser keeps the session cookie that a third-party frame may not. Only its hash is kept;
    it works once, for a few minutes."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    destination = models.CharField(max_length=500)
    expires = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"LTI handoff for {self.user}"


class LtiDeepLinking(models.Model):
    """A deep-linking request waiting for the designer's choice. The picker page works by this
    token (an LMS frame sends no microcred cookie); answering uses it up."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="+")
    deployment_id = models.CharField(max_length=255)
    token_hash = models.CharField(max_length=64, unique=True)
    return_url = models.URLField(max_length=1000)
    accept_multiple = models.BooleanField(default=True)
    data = models.CharField(max_length=2000, blank=True)
    expires = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Deep linking for {self.platform}"


class GradePassback(models.Model):
    """One score sent (or to send) to one line item for one credential: one row per pair, so
    a retried task or a second signal never posts twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed; will be retried"

    launch = models.ForeignKey(
        LtiResourceLaunch, on_delete=models.CASCADE, related_name="passbacks"
    )
    credential = models.ForeignKey(
        "credentials.IssuedCredential", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    tries = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["launch", "credential"], name="lti_passback_once")
        ]

    def __str__(self) -> str:
        return f"Score for {self.credential} to {self.launch}"

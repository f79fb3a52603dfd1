from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """An in-app notice for the person who must act next (or who follows something)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    message = models.CharField(_("message"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        db_table = "core_notification"  # created by core before this app existed
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.message


class Delivery(models.Model):
    """One message on its way out of the site: an e-mail to a person, a post to a unit's
    chat robot, or an outbound event to a registered endpoint (``body`` is then the event's
    JSON, exactly as it is signed and sent). Written by the fan-out (for events: in the
    transaction of the change, see ``notify.events``), sent by the delivery tasks, kept as
    the delivery log (attempts, last error, result)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        WECOM = "wecom", _("WeCom group robot")
        DINGTALK = "dingtalk", _("DingTalk robot")
        FEISHU = "feishu", _("Feishu / Lark bot")
        WEBHOOK = "webhook", _("signed webhook")
        EVENT = "event", _("outbound event")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        HELD = "held", _("held for the daily digest")
        SENT = "sent", _("sent")
        SENDING = "sending", _("sending")
        RETRYING = "retrying", _("failed, will retry")
        FAILED = "failed", _("failed")
        DIGESTED = "digested", _("sent in a digest")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("recipient"),
    )
    robot = models.ForeignKey(
        "notify.Robot",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("robot"),
    )
    endpoint = models.ForeignKey(
        "notify.EventEndpoint",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("event endpoint"),
    )
    batch = models.CharField(max_length=32, db_index=True)  # for an event: the event's id
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    url = models.CharField(_("link"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)  # the sender that took it
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    log = models.JSONField(_("attempts"), default=list, blank=True)
    sent_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "channel"], name="delivery_status"),
            models.Index(fields=["user", "status"], name="delivery_user_status"),
            models.Index(fields=["-created_at"], name="delivery_newest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False)
                | models.Q(robot__isnull=False)
                | models.Q(endpoint__isnull=False),
                name="delivery_has_recipient",
            ),
            # An event goes to an endpoint, and only an event does.
            models.CheckConstraint(
                condition=(models.Q(channel="event") & models.Q(endpoint__isnull=False))
                | (~models.Q(channel="event") & models.Q(endpoint__isnull=True)),
                name="delivery_event_to_endpoint",
            ),
            # One delivery per notice (batch) and recipient: two fan-outs of the same notice
            # running at once cannot both write theirs.
            models.UniqueConstraint(
                fields=["batch", "user"],
                condition=models.Q(user__isnull=False),
                name="delivery_once_per_person",
            ),
            models.UniqueConstraint(
                fields=["batch", "robot"],
                condition=models.Q(robot__isnull=False),
                name="delivery_once_per_robot",
            ),
            # One delivery per event and endpoint: an event emitted twice (the periodic scan
            # of publicity windows, run again) reaches each endpoint once.
            models.UniqueConstraint(
                fields=["batch", "endpoint"],
                condition=models.Q(endpoint__isnull=False),
                name="delivery_once_per_endpoint",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class Robot(models.Model):
    """A unit's chat robot or webhook: the group chat of a team hears the team's notices.

    The address (a WeCom robot's URL carries its key) and the signing secret are stored
    sealed under a key derived from SECRET_KEY (``gongkai.core.secretbox``), or as
    ``env:NAME``, a reference to an environment variable; neither is ever shown back."""

    unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, related_name="robots", verbose_name=_("unit")
    )
    name = models.CharField(_("name"), max_length=100)
    platform = models.CharField(_("platform"), max_length=10, choices=Delivery.Channel.choices)
    sealed_url = models.BinaryField(_("address"))
    sealed_secret = models.BinaryField(_("signing secret"), blank=True, default=b"")
    url_hint = models.CharField(_("address"), max_length=100, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("chat robot")
        verbose_name_plural = _("chat robots")
        ordering = ["unit__path", "name"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(platform="email"), name="robot_not_email"),
            models.CheckConstraint(condition=~models.Q(platform="event"), name="robot_not_event"),
        ]

    def __str__(self) -> str:
        return self.name


class EventKind(models.TextChoices):
    """The outbound events (``notify.events``): what happened, named ``thing.happened``."""

    DISCLOSURE_PUBLISHED = "disclosure.published", _("A disclosure is published")
    DISCLOSURE_CORRECTED = "disclosure.corrected", _("A disclosure is corrected")
    DISCLOSURE_WITHDRAWN = "disclosure.withdrawn", _("A disclosure is withdrawn")
    SUGGESTION_ANSWERED = "suggestion.answered", _("A suggestion is answered")
    PUBLICITY_OPENED = "publicity.opened", _("A publicity window opens")
    PUBLICITY_CLOSED = "publicity.closed", _("A publicity window closes")


# Events about what only signed-in employees see (suggestions, publicity windows): only an
# endpoint that also sees internal items may ask for them.
INTERNAL_ONLY_EVENTS = frozenset(
    {
        EventKind.SUGGESTION_ANSWERED,
        EventKind.PUBLICITY_OPENED,
        EventKind.PUBLICITY_CLOSED,
    }
)


class EventEndpoint(models.Model):
    """A system outside the site that receives outbound events (``notify.events``): the
    events it asked for, of the units it covers (each with its subtree), signed with its
    secret. What it may see: public items only (the default, what an anonymous reader sees),
    or also the internal items of its units.

    Address and secret are sealed like a robot's (``env:NAME`` allowed) and never shown
    back. Registered by the union office (``EVENTS_MANAGE``) for units within its subtree;
    an endpoint is in someone's charge only when every one of its units is."""

    name = models.CharField(_("name"), max_length=100)
    units = models.ManyToManyField("org.OrgUnit", related_name="+", verbose_name=_("units"))
    events = models.JSONField(_("events"), default=list)
    sees_internal = models.BooleanField(_("also internal items"), default=False)
    sealed_url = models.BinaryField(_("address"))
    sealed_secret = models.BinaryField(_("signing secret"))
    url_hint = models.CharField(_("address"), max_length=100, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("event endpoint")
        verbose_name_plural = _("event endpoints")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Preference(models.Model):
    """How a person wants notices outside the site: by e-mail or not, at once or in one
    daily digest, never in their quiet hours; and whether new items on their boards count."""

    class Timing(models.TextChoices):
        IMMEDIATE = "immediate", _("at once")
        DIGEST = "digest", _("in one daily digest")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preference"
    )
    email = models.BooleanField(_("by e-mail"), default=True)
    timing = models.CharField(
        _("when"), max_length=10, choices=Timing.choices, default=Timing.IMMEDIATE
    )
    board_news = models.BooleanField(_("new items on my boards"), default=False)
    quiet_from = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_until = models.TimeField(_("quiet until"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice preference")
        verbose_name_plural = _("notice preferences")

    def __str__(self) -> str:
        return str(self.user)


class Reminder(models.Model):
    """A reminder or escalation sent: once per deadline (kind, key) and stage, whatever
    restarts or how many workers scan."""

    class Stage(models.TextChoices):
        BEFORE = "before", _("reminder before the deadline")
        DAY = "day", _("reminder on the day")
        HEAD = "head", _("escalated to the unit's head")
        UNION = "union", _("escalated to the union office")

    kind = models.CharField(_("kind"), max_length=20)
    key = models.CharField(_("deadline"), max_length=100)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    due_on = models.DateField(_("deadline date"))
    unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    sent_on = models.DateField(_("sent on"))
    recipients = models.PositiveIntegerField(_("recipients"), default=0)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["kind", "key", "stage"], name="reminder_once")
        ]
        indexes = [models.Index(fields=["sent_on"], name="reminder_sent_on")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}:{self.stage}"


class TaskFailure(models.Model):
    """A failed attempt of a background task, for the union office to see."""

    task = models.CharField(_("task"), max_length=100)
    task_id = models.CharField(_("task id"), max_length=64)
    error = models.CharField(_("error"), max_length=500)
    final = models.BooleanField(_("no retry left"), default=False)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("failed task")
        verbose_name_plural = _("failed tasks")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return self.task

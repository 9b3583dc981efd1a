"""Every table, imported in one place for migrations and metadata."""

from roughy.accounts.models import Account, ApiKey
from roughy.assets.models import Asset
from roughy.credits.models import LedgerEntry
from roughy.cuts.models import Cut
from roughy.events.models import Event
from roughy.projects.models import Project
from roughy.queue.models import JobClaim
from roughy.renders.models import Render
from roughy.transcripts.models import Transcript
from roughy.uploads.models import Upload
from roughy.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account",
    "ApiKey",
    "Asset",
    "Cut",
    "Event",
    "JobClaim",
    "LedgerEntry",
    "Project",
    "Render",
    "Transcript",
    "Upload",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]

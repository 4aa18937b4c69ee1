"""Every table of the service, imported in one place so `Base.metadata` (and Alembic) sees all of them."""

from waxos.auth.models import Invitation, LoginFailure, Membership, User, Workspace
from waxos.db.base import Base
from waxos.events.tables import ChannelHead, LoggedEvent
from waxos.events.terminations import UserTermination
from waxos.inbox.models import AnnouncementFanout, Chat, Message, Notification, Suggestion
from waxos.providers.tables import ProviderStateRow
from waxos.relay.leases import RelayLease
from waxos.relay.status import RelayStatus
from waxos.usage.tables import UsageHour
from waxos.webhooks.tables import ChannelOccupancy, StaffPresence, WebhookDelivery

__all__ = [
    "AnnouncementFanout",
    "Base",
    "ChannelHead",
    "ChannelOccupancy",
    "Chat",
    "Invitation",
    "LoggedEvent",
    "LoginFailure",
    "Membership",
    "Message",
    "Notification",
    "ProviderStateRow",
    "RelayLease",
    "RelayStatus",
    "StaffPresence",
    "Suggestion",
    "UsageHour",
    "User",
    "UserTermination",
    "WebhookDelivery",
    "Workspace",
]

"""Every model module, imported once so the metadata (and Alembic) sees all tables."""
from wasteex.accounts.models import ApiToken, Membership, User  # noqa: F401
from wasteex.audit.models import AuditEvent  # noqa: F401
from wasteex.enterprises.models import Enterprise, Facility, Site  # noqa: F401

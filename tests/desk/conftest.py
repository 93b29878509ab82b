"""The desk's pages run on the contact centre's fixtures (queues, skills, agents)."""

from tests.contactcentre.conftest import T0, at, desk  # noqa: F401 - fixtures used by name

"""The settings mypy's Django plugin loads (pyproject.toml, ``[tool.django-stubs]``): the
suite's own environment first, so the check reads the same settings whatever the shell has."""

import tests.environment  # noqa: F401
from config.settings import *  # noqa: F403

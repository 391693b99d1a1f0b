"""A stateful, strict stand-in for the Slack Web API and interactivity, for tests and demos.

Nothing starts at import time: create a `StandIn` and call `start()`.
"""

from .driver import Driver, InteractionResult
from .seed import default_workspace_path
from .standin import StandIn

__all__ = ["Driver", "InteractionResult", "StandIn", "default_workspace_path"]

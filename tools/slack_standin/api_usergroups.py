"""`usergroups.users.list` (Tier 2): the members of a user group, for console roles (issue 14).

The stand-in's workspace has one group, `S0SECOPS` (@secops: Alice and Bob); tests may change
`groups(ws)` between runs. Errors as Slack's: a group it does not know is `no_such_subteam`,
a missing argument `invalid_arguments`. (User groups need a paid plan on real Slack, where a
free workspace answers `plan_upgrade_required`.)
"""

from __future__ import annotations

from typing import Any

from .api_common import ApiError
from .workspace import Workspace

DEFAULT_GROUPS: dict[str, list[str]] = {"S0SECOPS": ["U0ALICE", "U0BOB"]}


def groups(ws: Workspace) -> dict[str, list[str]]:
    """The workspace's user groups (kept on it, outside the seed, so a reset keeps them)."""
    found: dict[str, list[str]] | None = getattr(ws, "usergroups", None)
    if found is None:
        found = {k: list(v) for k, v in DEFAULT_GROUPS.items()}
        ws.usergroups = found  # type: ignore[attr-defined]
    return found


def usergroups_users_list(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    group = str(args.get("usergroup") or "").strip()
    if not group:
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: usergroup"])
    members = groups(ws).get(group)
    if members is None:
        raise ApiError("no_such_subteam")
    return {"ok": True, "users": list(members)}

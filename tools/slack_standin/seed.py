"""Workspace seed: team, bot, users and channels, loaded from YAML or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


def default_workspace_path() -> Path:
    """The shipped seed (team T0PARLEY, bot U0PARLEY, a few users and channels)."""
    return Path(__file__).with_name("default_workspace.yaml")


@dataclass
class Team:
    id: str
    domain: str
    name: str


@dataclass
class Bot:
    user_id: str
    bot_id: str
    app_id: str
    name: str


@dataclass
class User:
    id: str
    name: str
    real_name: str = ""
    email: str | None = None
    deleted: bool = False
    is_bot: bool = False
    tz: str = "UTC"


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    members: set[str] = field(default_factory=set)
    is_im: bool = False
    im_user: str | None = None  # the human side of a DM


@dataclass
class Seed:
    team: Team
    bot: Bot
    users: dict[str, User]
    channels: dict[str, Channel]
    verification_token: str


def _require(obj: dict[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise ValueError(f"workspace seed: {where} needs '{key}'")
    return obj[key]


def parse_seed(data: dict[str, Any]) -> Seed:
    team_d = _require(data, "team", "root")
    bot_d = _require(data, "bot", "root")
    team = Team(
        id=_require(team_d, "id", "team"),
        domain=team_d.get("domain", "standin"),
        name=team_d.get("name", team_d["id"]),
    )
    bot = Bot(
        user_id=_require(bot_d, "user_id", "bot"),
        bot_id=_require(bot_d, "bot_id", "bot"),
        app_id=bot_d.get("app_id", "A" + bot_d["bot_id"][1:]),
        name=bot_d.get("name", "bot"),
    )
    users: dict[str, User] = {}
    # The bot is a user of the workspace too (users.info on it must work).
    users[bot.user_id] = User(id=bot.user_id, name=bot.name, real_name=bot.name, is_bot=True)
    for u in data.get("users", []):
        user = User(
            id=_require(u, "id", "user"),
            name=_require(u, "name", "user"),
            real_name=u.get("real_name", u["name"]),
            email=u.get("email"),
            deleted=bool(u.get("deleted", False)),
            is_bot=bool(u.get("is_bot", False)),
            tz=u.get("tz", "UTC"),
        )
        users[user.id] = user
    channels: dict[str, Channel] = {}
    for c in data.get("channels", []):
        ch = Channel(
            id=_require(c, "id", "channel"),
            name=_require(c, "name", "channel"),
            is_private=bool(c.get("is_private", False)),
            is_archived=bool(c.get("is_archived", False)),
            members=set(c.get("members", [])),
        )
        unknown = ch.members - users.keys()
        if unknown:
            raise ValueError(f"workspace seed: channel {ch.id} has unknown members {unknown}")
        channels[ch.id] = ch
    return Seed(
        team=team,
        bot=bot,
        users=users,
        channels=channels,
        verification_token=str(data.get("verification_token", "standin-verification-token")),
    )


def load_seed(path: str | Path | None) -> Seed:
    p = Path(path) if path is not None else default_workspace_path()
    text = p.read_text(encoding="utf-8")
    data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"workspace seed {p} must be a mapping")
    return parse_seed(data)

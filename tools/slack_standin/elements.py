"""Block Kit primitives: text objects, options, confirm dialogs and interactive elements."""

from __future__ import annotations

from typing import Any

_TEXT_KEYS = {"type", "text", "emoji", "verbatim"}
_OPTION_KEYS = {"text", "value", "description", "url"}
_SELECT_TYPES = {
    "static_select",
    "multi_static_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
    "external_select",
    "multi_external_select",
}
_PICKERS = {"datepicker", "timepicker", "datetimepicker"}
_TEXT_INPUTS = {
    "plain_text_input",
    "email_text_input",
    "number_input",
    "url_text_input",
    "rich_text_input",
    "file_input",
}
# Every element a user can act on: what block_actions and view state can carry.
ACTIONABLE = (
    {"button", "overflow", "checkboxes", "radio_buttons"} | _SELECT_TYPES | _PICKERS | _TEXT_INPUTS
)
# Which element types each container accepts (Block Kit reference, "Compatible blocks").
CONTAINER_TYPES: dict[str, set[str]] = {
    "actions": {"button", "overflow", "checkboxes", "radio_buttons"} | _SELECT_TYPES | _PICKERS,
    "accessory": {"button", "overflow", "checkboxes", "radio_buttons", "image"}
    | _SELECT_TYPES
    | _PICKERS,
    "input": {"checkboxes", "radio_buttons"} | _SELECT_TYPES | _PICKERS | _TEXT_INPUTS,
    "context": {"image"},
}
_COMMON_KEYS = {"type", "action_id", "confirm", "focus_on_load", "placeholder"}
_ELEMENT_KEYS: dict[str, set[str]] = {
    "button": {
        "type",
        "text",
        "action_id",
        "url",
        "value",
        "style",
        "confirm",
        "accessibility_label",
    },
    "static_select": _COMMON_KEYS | {"options", "option_groups", "initial_option"},
    "multi_static_select": _COMMON_KEYS
    | {"options", "option_groups", "initial_options", "max_selected_items"},
    "users_select": _COMMON_KEYS | {"initial_user"},
    "multi_users_select": _COMMON_KEYS | {"initial_users", "max_selected_items"},
    "overflow": {"type", "action_id", "options", "confirm"},
    "checkboxes": {"type", "action_id", "options", "initial_options", "confirm", "focus_on_load"},
    "radio_buttons": {"type", "action_id", "options", "initial_option", "confirm", "focus_on_load"},
    "plain_text_input": {
        "type",
        "action_id",
        "initial_value",
        "multiline",
        "min_length",
        "max_length",
        "dispatch_action_config",
        "focus_on_load",
        "placeholder",
    },
    "image": {"type", "image_url", "slack_file", "alt_text"},
}


class ElementChecker:
    """Collects Slack-style error lines while walking a payload."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, msg: str, ptr: str) -> None:
        self.errors.append(f"[ERROR] {msg} [json-pointer:{ptr}]")

    def obj(self, value: Any, ptr: str) -> bool:
        if not isinstance(value, dict):
            self.err("must provide an object", ptr)
            return False
        return True

    def required(self, d: dict[str, Any], key: str, ptr: str) -> bool:
        if key not in d:
            self.err(f"missing required field: {key}", ptr)
            return False
        return True

    def allowed(self, d: dict[str, Any], keys: set[str], ptr: str) -> None:
        for k in d:
            if k not in keys:
                self.err(f"invalid additional property: {k}", ptr)

    def string(self, value: Any, ptr: str, max_len: int, min_len: int = 1) -> bool:
        if not isinstance(value, str):
            self.err("must provide a string", ptr)
            return False
        if len(value) < min_len:
            self.err(f"must be more than {min_len - 1} characters", ptr)
            return False
        if len(value) > max_len:
            self.err(f"must be less than {max_len + 1} characters", ptr)
            return False
        return True

    def array(self, value: Any, ptr: str, min_items: int, max_items: int) -> bool:
        if not isinstance(value, list):
            self.err("must provide an array", ptr)
            return False
        if len(value) < min_items:
            self.err(f"must provide at least {min_items} items", ptr)
            return False
        if len(value) > max_items:
            self.err(f"no more than {max_items} items allowed", ptr)
            return False
        return True

    def text(self, t: Any, ptr: str, max_len: int, plain_only: bool = False) -> None:
        if not self.obj(t, ptr):
            return
        self.allowed(t, _TEXT_KEYS, ptr)
        if not self.required(t, "type", ptr):
            return
        kind = t["type"]
        if kind not in ("plain_text", "mrkdwn") or (plain_only and kind != "plain_text"):
            self.err("must be a valid enum value", f"{ptr}/type")
            return
        if kind == "plain_text" and "verbatim" in t:
            self.err("invalid additional property: verbatim", ptr)
        if kind == "mrkdwn" and "emoji" in t:
            self.err("invalid additional property: emoji", ptr)
        if self.required(t, "text", ptr):
            self.string(t["text"], f"{ptr}/text", max_len)

    def option(self, o: Any, ptr: str, plain_only: bool) -> None:
        if not self.obj(o, ptr):
            return
        self.allowed(o, _OPTION_KEYS, ptr)
        if self.required(o, "text", ptr):
            self.text(o["text"], f"{ptr}/text", 75, plain_only=plain_only)
        if self.required(o, "value", ptr):
            self.string(o["value"], f"{ptr}/value", 150)
        if "description" in o:
            self.text(o["description"], f"{ptr}/description", 75, plain_only=plain_only)
        if "url" in o:
            self.string(o["url"], f"{ptr}/url", 3000)

    def options(self, el: dict[str, Any], ptr: str, max_items: int, plain_only: bool) -> None:
        opts = el["options"]
        if self.array(opts, f"{ptr}/options", 1, max_items):
            for i, o in enumerate(opts):
                self.option(o, f"{ptr}/options/{i}", plain_only)

    def confirm(self, c: Any, ptr: str) -> None:
        if not self.obj(c, ptr):
            return
        self.allowed(c, {"title", "text", "confirm", "deny", "style"}, ptr)
        for key, limit in (("title", 100), ("confirm", 30), ("deny", 30)):
            if self.required(c, key, ptr):
                self.text(c[key], f"{ptr}/{key}", limit, plain_only=True)
        if self.required(c, "text", ptr):
            self.text(c["text"], f"{ptr}/text", 300)
        if "style" in c and c["style"] not in ("primary", "danger"):
            self.err("must be a valid enum value", f"{ptr}/style")

    def image_fields(self, d: dict[str, Any], ptr: str) -> None:
        if "image_url" not in d and "slack_file" not in d:
            self.err("missing required field: image_url", ptr)
        if "image_url" in d:
            self.string(d["image_url"], f"{ptr}/image_url", 3000)
        if self.required(d, "alt_text", ptr):
            self.string(d["alt_text"], f"{ptr}/alt_text", 2000)

    def element(self, el: Any, ptr: str, container: str) -> None:
        if not self.obj(el, ptr):
            return
        if not self.required(el, "type", ptr):
            return
        etype = el["type"]
        if etype not in CONTAINER_TYPES[container]:
            self.err(f"unsupported type: {etype}", f"{ptr}/type")
            return
        keys = _ELEMENT_KEYS.get(etype)
        if keys is not None:
            self.allowed(el, keys, ptr)
        if etype == "image":
            self.image_fields(el, ptr)
            return
        if "action_id" in el:
            self.string(el["action_id"], f"{ptr}/action_id", 255)
        if "placeholder" in el:
            self.text(el["placeholder"], f"{ptr}/placeholder", 150, plain_only=True)
        if "confirm" in el:
            self.confirm(el["confirm"], f"{ptr}/confirm")
        if etype == "button":
            self._button(el, ptr)
        elif etype in ("static_select", "multi_static_select"):
            self._static_select(el, ptr)
        elif etype == "overflow":
            if self.required(el, "options", ptr):
                self.options(el, ptr, 5, plain_only=True)
        elif etype in ("checkboxes", "radio_buttons"):
            if self.required(el, "options", ptr):
                self.options(el, ptr, 10, plain_only=False)
        elif etype == "plain_text_input":
            self._plain_text_input(el, ptr)

    def _button(self, el: dict[str, Any], ptr: str) -> None:
        if self.required(el, "text", ptr):
            self.text(el["text"], f"{ptr}/text", 75, plain_only=True)
        if "value" in el:
            self.string(el["value"], f"{ptr}/value", 2000)
        if "url" in el:
            self.string(el["url"], f"{ptr}/url", 3000)
        if "style" in el and el["style"] not in ("primary", "danger"):
            self.err("must be a valid enum value", f"{ptr}/style")
        if "accessibility_label" in el:
            self.string(el["accessibility_label"], f"{ptr}/accessibility_label", 75)

    def _static_select(self, el: dict[str, Any], ptr: str) -> None:
        has_opts, has_groups = "options" in el, "option_groups" in el
        if has_opts == has_groups:
            # Exactly one of options / option_groups.
            self.err("missing required field: options", ptr)
            return
        if has_opts:
            self.options(el, ptr, 100, plain_only=True)
            return
        groups = el["option_groups"]
        if self.array(groups, f"{ptr}/option_groups", 1, 100):
            for i, g in enumerate(groups):
                gptr = f"{ptr}/option_groups/{i}"
                if not self.obj(g, gptr):
                    continue
                self.allowed(g, {"label", "options"}, gptr)
                if self.required(g, "label", gptr):
                    self.text(g["label"], f"{gptr}/label", 75, plain_only=True)
                if self.required(g, "options", gptr):
                    self.options(g, gptr, 100, plain_only=True)

    def _plain_text_input(self, el: dict[str, Any], ptr: str) -> None:
        if "initial_value" in el:
            self.string(el["initial_value"], f"{ptr}/initial_value", 3000, min_len=0)
        for key, low in (("min_length", 0), ("max_length", 1)):
            if key in el:
                v = el[key]
                if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= 3000:
                    self.err(f"must be between {low} and 3000", f"{ptr}/{key}")

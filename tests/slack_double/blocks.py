"""Pure Block Kit validation mirroring Slack's documented limits.

No I/O, no server: renderer tests can call :func:`validate_blocks` and
:func:`validate_view` directly.  Both return a list of human-readable error
strings formatted the way Slack reports them in ``response_metadata.messages``::

    [ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]

An empty list means "Slack would accept this".  Limits come from Slack's
Block Kit reference (blocks, block elements, composition objects, views).
Only documented limits are enforced; unknown *block* and *element* types are
reported because Slack rejects them with ``invalid_blocks``.
"""

from __future__ import annotations

from typing import Any, Literal

Surface = Literal["message", "modal", "home"]

#: Max top-level blocks per surface (messages: 50; modals and Home tabs: 100).
MAX_BLOCKS: dict[str, int] = {"message": 50, "modal": 100, "home": 100}

MAX_BLOCK_ID = 255
MAX_ACTION_ID = 255
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTION_DESCRIPTION = 75
MAX_SELECT_OPTIONS = 100
MAX_OPTION_GROUPS = 100
MAX_CHECKBOX_OPTIONS = 10
MIN_OVERFLOW_OPTIONS = 2
MAX_OVERFLOW_OPTIONS = 5
MAX_IMAGE_ALT_TEXT = 2000
MAX_IMAGE_TITLE = 2000
MAX_INPUT_LABEL = 2000
MAX_INPUT_HINT = 2000
MAX_TEXT_INPUT_LENGTH = 3000
MAX_MARKDOWN_BLOCK_TEXT = 12000
MAX_TEXT_OBJECT = 3000
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_VIDEO_TITLE = 200

# Views (modals / Home tabs)
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON = 24
MAX_CALLBACK_ID = 255
MAX_EXTERNAL_ID = 255
MAX_PRIVATE_METADATA = 3000

#: Message ``text`` limit; longer text gets ``msg_too_long``.
MAX_MESSAGE_TEXT = 40000

KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
        "call",
    }
)

_SELECT_TYPES = frozenset(
    {
        "static_select",
        "multi_static_select",
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
    }
)
_INPUT_LIKE_TYPES = frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "file_input",
    }
)
KNOWN_ELEMENT_TYPES = frozenset(
    {"button", "overflow", "checkboxes", "radio_buttons", "image", "workflow_button", "feedback_buttons", "icon_button"}
    | _SELECT_TYPES
    | _INPUT_LIKE_TYPES
)
_CONTEXT_ELEMENT_TYPES = frozenset({"image", "plain_text", "mrkdwn"})


def _msg(text: str, pointer: str) -> str:
    return f"[ERROR] {text} [json-pointer:{pointer}]"


def _check_str(value: Any, pointer: str, errors: list[str], *, max_len: int, required: bool = False) -> None:
    if value is None:
        if required:
            errors.append(_msg("missing required field", pointer))
        return
    if not isinstance(value, str):
        errors.append(_msg("must be a string", pointer))
        return
    if len(value) > max_len:
        errors.append(_msg(f"must be less than {max_len + 1} characters", pointer))


def _check_text(
    obj: Any,
    pointer: str,
    errors: list[str],
    *,
    max_len: int = MAX_TEXT_OBJECT,
    plain_only: bool = False,
    required: bool = True,
) -> None:
    """Validate a composition text object (plain_text / mrkdwn)."""
    if obj is None:
        if required:
            errors.append(_msg("missing required field", pointer))
        return
    if not isinstance(obj, dict):
        errors.append(_msg("must be a text object", pointer))
        return
    ttype = obj.get("type")
    if plain_only and ttype != "plain_text":
        errors.append(_msg("must be a plain_text text object", pointer + "/type"))
    elif ttype not in ("plain_text", "mrkdwn"):
        errors.append(_msg("must be one of plain_text, mrkdwn", pointer + "/type"))
    text = obj.get("text")
    if not isinstance(text, str):
        errors.append(_msg("must provide a string", pointer + "/text"))
        return
    if len(text) < 1:
        errors.append(_msg("must be more than 0 characters", pointer + "/text"))
    elif len(text) > max_len:
        errors.append(_msg(f"must be less than {max_len + 1} characters", pointer + "/text"))


def _check_confirm(obj: Any, pointer: str, errors: list[str]) -> None:
    if obj is None:
        return
    if not isinstance(obj, dict):
        errors.append(_msg("must be a confirmation object", pointer))
        return
    _check_text(obj.get("title"), pointer + "/title", errors, max_len=MAX_CONFIRM_TITLE, plain_only=True)
    _check_text(obj.get("text"), pointer + "/text", errors, max_len=MAX_CONFIRM_TEXT)
    _check_text(obj.get("confirm"), pointer + "/confirm", errors, max_len=MAX_CONFIRM_BUTTON, plain_only=True)
    _check_text(obj.get("deny"), pointer + "/deny", errors, max_len=MAX_CONFIRM_BUTTON, plain_only=True)
    style = obj.get("style")
    if style is not None and style not in ("primary", "danger"):
        errors.append(_msg("must be one of primary, danger", pointer + "/style"))


def _check_option(obj: Any, pointer: str, errors: list[str], *, allow_mrkdwn: bool = False) -> None:
    if not isinstance(obj, dict):
        errors.append(_msg("must be an option object", pointer))
        return
    _check_text(obj.get("text"), pointer + "/text", errors, max_len=MAX_OPTION_TEXT, plain_only=not allow_mrkdwn)
    _check_str(obj.get("value"), pointer + "/value", errors, max_len=MAX_OPTION_VALUE, required=True)
    _check_text(
        obj.get("description"),
        pointer + "/description",
        errors,
        max_len=MAX_OPTION_DESCRIPTION,
        plain_only=not allow_mrkdwn,
        required=False,
    )
    _check_str(obj.get("url"), pointer + "/url", errors, max_len=MAX_URL)


def _check_options(
    options: Any,
    pointer: str,
    errors: list[str],
    *,
    max_items: int,
    min_items: int = 0,
    allow_mrkdwn: bool = False,
) -> None:
    if options is None:
        if min_items:
            errors.append(_msg("missing required field", pointer))
        return
    if not isinstance(options, list):
        errors.append(_msg("must be an array", pointer))
        return
    if len(options) > max_items:
        errors.append(_msg(f"no more than {max_items} items allowed", pointer))
    if len(options) < min_items:
        errors.append(_msg(f"must provide at least {min_items} items", pointer))
    for i, opt in enumerate(options):
        _check_option(opt, f"{pointer}/{i}", errors, allow_mrkdwn=allow_mrkdwn)


def _check_image_source(obj: dict, pointer: str, errors: list[str]) -> None:
    if obj.get("image_url") is None and obj.get("slack_file") is None:
        errors.append(_msg("must provide image_url or slack_file", pointer))
    _check_str(obj.get("image_url"), pointer + "/image_url", errors, max_len=MAX_URL)
    _check_str(obj.get("alt_text"), pointer + "/alt_text", errors, max_len=MAX_IMAGE_ALT_TEXT, required=True)


def _check_element(el: Any, pointer: str, errors: list[str]) -> None:
    """Validate an interactive/block element (button, select, input...)."""
    if not isinstance(el, dict):
        errors.append(_msg("must be an element object", pointer))
        return
    etype = el.get("type")
    if etype not in KNOWN_ELEMENT_TYPES:
        errors.append(_msg(f"unsupported type: {etype}", pointer + "/type"))
        return
    _check_str(el.get("action_id"), pointer + "/action_id", errors, max_len=MAX_ACTION_ID)
    _check_confirm(el.get("confirm"), pointer + "/confirm", errors)

    if etype == "button":
        _check_text(el.get("text"), pointer + "/text", errors, max_len=MAX_BUTTON_TEXT, plain_only=True)
        _check_str(el.get("value"), pointer + "/value", errors, max_len=MAX_BUTTON_VALUE)
        _check_str(el.get("url"), pointer + "/url", errors, max_len=MAX_URL)
        _check_str(el.get("accessibility_label"), pointer + "/accessibility_label", errors, max_len=MAX_BUTTON_TEXT)
        style = el.get("style")
        if style is not None and style not in ("primary", "danger"):
            errors.append(_msg("must be one of primary, danger", pointer + "/style"))
    elif etype == "workflow_button":
        _check_text(el.get("text"), pointer + "/text", errors, max_len=MAX_BUTTON_TEXT, plain_only=True)
    elif etype in _SELECT_TYPES:
        _check_text(
            el.get("placeholder"),
            pointer + "/placeholder",
            errors,
            max_len=MAX_PLACEHOLDER,
            plain_only=True,
            required=False,
        )
        if etype in ("static_select", "multi_static_select"):
            if el.get("options") is None and el.get("option_groups") is None:
                errors.append(_msg("must provide options or option_groups", pointer))
            _check_options(el.get("options"), pointer + "/options", errors, max_items=MAX_SELECT_OPTIONS)
            groups = el.get("option_groups")
            if groups is not None:
                if not isinstance(groups, list):
                    errors.append(_msg("must be an array", pointer + "/option_groups"))
                else:
                    if len(groups) > MAX_OPTION_GROUPS:
                        errors.append(
                            _msg(f"no more than {MAX_OPTION_GROUPS} items allowed", pointer + "/option_groups")
                        )
                    for gi, grp in enumerate(groups):
                        gptr = f"{pointer}/option_groups/{gi}"
                        if not isinstance(grp, dict):
                            errors.append(_msg("must be an option group object", gptr))
                            continue
                        _check_text(grp.get("label"), gptr + "/label", errors, max_len=MAX_OPTION_TEXT, plain_only=True)
                        _check_options(
                            grp.get("options"), gptr + "/options", errors, max_items=MAX_SELECT_OPTIONS, min_items=1
                        )
    elif etype == "overflow":
        _check_options(
            el.get("options"),
            pointer + "/options",
            errors,
            max_items=MAX_OVERFLOW_OPTIONS,
            min_items=MIN_OVERFLOW_OPTIONS,
        )
    elif etype in ("checkboxes", "radio_buttons"):
        _check_options(
            el.get("options"),
            pointer + "/options",
            errors,
            max_items=MAX_CHECKBOX_OPTIONS,
            min_items=1,
            allow_mrkdwn=True,
        )
    elif etype == "image":
        _check_image_source(el, pointer, errors)
    elif etype in _INPUT_LIKE_TYPES:
        _check_text(
            el.get("placeholder"),
            pointer + "/placeholder",
            errors,
            max_len=MAX_PLACEHOLDER,
            plain_only=True,
            required=False,
        )
        for key in ("max_length", "min_length"):
            val = el.get(key)
            if val is not None and (not isinstance(val, int) or val < 0 or val > MAX_TEXT_INPUT_LENGTH):
                errors.append(_msg(f"must be an integer between 0 and {MAX_TEXT_INPUT_LENGTH}", f"{pointer}/{key}"))


def _check_block(block: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(block, dict):
        errors.append(_msg("must be a block object", pointer))
        return
    btype = block.get("type")
    if btype not in KNOWN_BLOCK_TYPES:
        errors.append(_msg(f"unsupported type: {btype}", pointer + "/type"))
        return
    _check_str(block.get("block_id"), pointer + "/block_id", errors, max_len=MAX_BLOCK_ID)

    if btype == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            errors.append(_msg("must provide text or fields", pointer))
        _check_text(text, pointer + "/text", errors, max_len=MAX_SECTION_TEXT, required=False)
        if fields is not None:
            if not isinstance(fields, list):
                errors.append(_msg("must be an array", pointer + "/fields"))
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    errors.append(_msg(f"no more than {MAX_SECTION_FIELDS} items allowed", pointer + "/fields"))
                for i, f in enumerate(fields):
                    _check_text(f, f"{pointer}/fields/{i}", errors, max_len=MAX_SECTION_FIELD_TEXT)
        if block.get("accessory") is not None:
            _check_element(block["accessory"], pointer + "/accessory", errors)
    elif btype == "header":
        _check_text(block.get("text"), pointer + "/text", errors, max_len=MAX_HEADER_TEXT, plain_only=True)
    elif btype == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            errors.append(_msg("must provide at least 1 items", pointer + "/elements"))
            return
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            errors.append(_msg(f"no more than {MAX_CONTEXT_ELEMENTS} items allowed", pointer + "/elements"))
        for i, el in enumerate(elements):
            eptr = f"{pointer}/elements/{i}"
            etype = el.get("type") if isinstance(el, dict) else None
            if etype not in _CONTEXT_ELEMENT_TYPES:
                errors.append(_msg(f"unsupported type: {etype}", eptr + "/type"))
            elif etype == "image":
                _check_image_source(el, eptr, errors)
            else:
                _check_text(el, eptr, errors)
    elif btype == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            errors.append(_msg("must provide at least 1 items", pointer + "/elements"))
            return
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            errors.append(_msg(f"no more than {MAX_ACTIONS_ELEMENTS} items allowed", pointer + "/elements"))
        for i, el in enumerate(elements):
            _check_element(el, f"{pointer}/elements/{i}", errors)
    elif btype == "image":
        _check_image_source(block, pointer, errors)
        _check_text(
            block.get("title"), pointer + "/title", errors, max_len=MAX_IMAGE_TITLE, plain_only=True, required=False
        )
    elif btype == "input":
        _check_text(block.get("label"), pointer + "/label", errors, max_len=MAX_INPUT_LABEL, plain_only=True)
        _check_text(
            block.get("hint"), pointer + "/hint", errors, max_len=MAX_INPUT_HINT, plain_only=True, required=False
        )
        if block.get("element") is None:
            errors.append(_msg("missing required field", pointer + "/element"))
        else:
            _check_element(block["element"], pointer + "/element", errors)
    elif btype == "markdown":
        _check_str(block.get("text"), pointer + "/text", errors, max_len=MAX_MARKDOWN_BLOCK_TEXT, required=True)
    elif btype == "rich_text":
        if not isinstance(block.get("elements"), list):
            errors.append(_msg("must be an array", pointer + "/elements"))
    elif btype == "video":
        _check_text(block.get("title"), pointer + "/title", errors, max_len=MAX_VIDEO_TITLE, plain_only=True)
        for key in ("video_url", "thumbnail_url", "alt_text"):
            if not isinstance(block.get(key), str):
                errors.append(_msg("missing required field", f"{pointer}/{key}"))


def validate_blocks(blocks: Any, *, surface: Surface = "message", pointer: str = "/blocks") -> list[str]:
    """Validate a Block Kit ``blocks`` array for ``surface``.

    Returns a list of Slack-style error strings; ``[]`` means valid.
    Messages allow 50 blocks; modals and Home tabs allow 100.
    """
    if surface not in MAX_BLOCKS:
        raise ValueError(f"unknown surface {surface!r}; expected one of {sorted(MAX_BLOCKS)}")
    errors: list[str] = []
    if not isinstance(blocks, list):
        errors.append(_msg("must be an array", pointer))
        return errors
    limit = MAX_BLOCKS[surface]
    if len(blocks) > limit:
        errors.append(_msg(f"no more than {limit} items allowed", pointer))
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        _check_block(block, f"{pointer}/{i}", errors)
        # Slack refuses a message or view in which two blocks share a block_id.
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            if block_id in seen:
                errors.append(_msg(f"duplicate block_id {block_id!r}", f"{pointer}/{i}/block_id"))
            seen.add(block_id)
    return errors


def validate_view(view: Any, *, surface: Literal["modal", "home"] | None = None) -> list[str]:
    """Validate a view payload (``views.open/push/update/publish``).

    ``surface`` pins the required ``type`` ("modal" or "home"); ``None``
    accepts either.  Modal title/submit/close are limited to 24 characters and
    a modal containing an ``input`` block must define ``submit``.
    """
    errors: list[str] = []
    if not isinstance(view, dict):
        return [_msg("must be an object", "/view")]
    vtype = view.get("type")
    allowed = ("modal", "home") if surface is None else (surface,)
    if vtype not in allowed:
        errors.append(_msg(f"must be one of {', '.join(allowed)}", "/view/type"))
        return errors
    _check_str(view.get("callback_id"), "/view/callback_id", errors, max_len=MAX_CALLBACK_ID)
    _check_str(view.get("external_id"), "/view/external_id", errors, max_len=MAX_EXTERNAL_ID)
    _check_str(view.get("private_metadata"), "/view/private_metadata", errors, max_len=MAX_PRIVATE_METADATA)
    blocks = view.get("blocks")
    if vtype == "modal":
        _check_text(view.get("title"), "/view/title", errors, max_len=MAX_VIEW_TITLE, plain_only=True)
        _check_text(
            view.get("submit"), "/view/submit", errors, max_len=MAX_VIEW_BUTTON, plain_only=True, required=False
        )
        _check_text(view.get("close"), "/view/close", errors, max_len=MAX_VIEW_BUTTON, plain_only=True, required=False)
        if (
            isinstance(blocks, list)
            and view.get("submit") is None
            and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        ):
            errors.append(_msg("must provide submit when the view contains an input block", "/view/submit"))
    if blocks is None:
        errors.append(_msg("missing required field", "/view/blocks"))
    else:
        errors.extend(validate_blocks(blocks, surface=vtype, pointer="/view/blocks"))
    return errors


__all__ = [
    "MAX_BLOCKS",
    "MAX_MESSAGE_TEXT",
    "Surface",
    "validate_blocks",
    "validate_view",
]

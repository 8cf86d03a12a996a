"""Profile switcher (``a``): console profiles (with where each comes from) and the AWS config's profiles.

An AWS config profile becomes an ad-hoc console profile (``aws_profile`` set, its configured region,
read-only: add a console profile to enable batch actions). Broken console profiles are listed with
their error and cannot be chosen. Listing reads files and botocore's config, so it runs in a thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...core.domain import format as fmt
from ..theming import screen_stylesheet
from ..widgets.marked import MarkedOptionList
from ..widgets.render import COMPONENT_CLASSES, Palette

if TYPE_CHECKING:  # pragma: no cover
    from ...core.domain.profile import Profile

ADHOC_REGION = "us-east-1"


@dataclass(frozen=True)
class ProfileChoice:
    key: str  # option id: console:<name> or aws:<name>
    kind: str  # console | aws
    name: str
    detail: str  # origin and source, or the AWS config's region
    region: str = ""
    profile: "Profile | None" = None  # None: broken (see error)
    error: str | None = None
    is_sandbox: bool = False
    read_only: bool = False


def adhoc_profile(aws_name: str, region: str | None) -> "Profile":
    """A console profile for a profile of ~/.aws/config that has no console profile of its own."""
    from ...core.domain.profile import Profile  # noqa: PLC0415

    return Profile(name=f"aws:{aws_name}", description=f"ad-hoc from the AWS config profile {aws_name!r}",
                   aws_profile=aws_name, regions=(region or ADHOC_REGION,), read_only=True,
                   read_only_by=f"{aws_name!r} is an ad-hoc profile of ~/.aws/config (add a console profile for it "
                                "to act)",
                   refresh_seconds=60.0, source="~/.aws/config", origin="aws-config")


def list_choices() -> list[ProfileChoice]:
    """Every console profile (broken ones with their error), then every AWS config profile."""
    from ...core.domain.catalog import ConfigError  # noqa: PLC0415
    from ...core.config.profiles import discover, load_profile  # noqa: PLC0415

    out: list[ProfileChoice] = []
    for name, entry in sorted(discover().items()):
        detail = f"{entry.origin} · {entry.source}"
        if entry.error is not None:
            out.append(ProfileChoice(f"console:{name}", "console", name, detail, error=str(entry.error)))
            continue
        try:
            prof = load_profile(name)
        except ConfigError as err:
            out.append(ProfileChoice(f"console:{name}", "console", name, detail, error=str(err)))
            continue
        out.append(ProfileChoice(f"console:{name}", "console", name, detail, prof.region, prof,
                                 is_sandbox=prof.is_sandbox, read_only=prof.read_only))
    try:
        import botocore.session  # noqa: PLC0415

        session = botocore.session.Session()
        configured = session.full_config.get("profiles", {})
        names = sorted(session.available_profiles)
    except Exception as err:  # noqa: BLE001 - a broken AWS config is shown, not fatal
        out.append(ProfileChoice("aws:!", "aws", "AWS config", "", error=f"cannot read the AWS config: {err}"))
        return out
    for name in names:
        region = (configured.get(name) or {}).get("region")
        detail = f"AWS config · region {region}" if region else f"AWS config · no region (uses {ADHOC_REGION})"
        out.append(ProfileChoice(f"aws:{name}", "aws", name, detail, region or ADHOC_REGION,
                                 adhoc_profile(name, region), read_only=True))
    return out


class ProfileSwitcher(ModalScreen["Profile | None"]):
    """Pick the profile to watch. Enter switches; esc keeps the current one."""

    CSS_PATH = screen_stylesheet("actions.tcss")

    COMPONENT_CLASSES = COMPONENT_CLASSES
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape", "dismiss_none", "Close", key_display="esc", id="switcher-close",
                tooltip="Keep the current profile"),
    ]

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self.current = current
        self.choices: list[ProfileChoice] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="switcher-box"):
            yield Static("Reading profiles…", id="switcher-note", markup=False)
            yield MarkedOptionList(id="switcher-list")

    def on_mount(self) -> None:
        box = self.query_one("#switcher-box")
        box.border_title = "Switch profile"
        box.border_subtitle = "enter switches · esc keeps the current one"
        self.query_one(OptionList).focus()
        self.load()

    @work(thread=True, exclusive=True, group="switcher-load")
    def load(self) -> None:
        choices = list_choices()
        self.app.call_from_thread(self.show_choices, choices)

    def show_choices(self, choices: list[ProfileChoice]) -> None:
        self.choices = choices
        palette = Palette(self)
        options: list[Option | None] = []
        for kind, heading in (("console", "Console profiles"), ("aws", "AWS config profiles (ad-hoc, read-only)")):
            group = [c for c in choices if c.kind == kind]
            options.append(Option(Text(heading, style=palette["muted"]), id=f"heading:{kind}", disabled=True))
            if not group:
                options.append(Option(Text("  none found", style=palette["muted"]), id=f"none:{kind}", disabled=True))
            for c in group:
                options.append(Option(self._line(c, palette), id=c.key, disabled=c.profile is None))
        lst = self.query_one(OptionList)
        lst.clear_options()
        lst.add_options(options)
        current_key = self.current if (self.current or "").startswith("aws:") else f"console:{self.current}"
        current = next((i for i, c in enumerate(options) if c and c.id == current_key), None)
        first = next((i for i, c in enumerate(options) if c and not c.disabled), None)
        lst.highlighted = current if current is not None else first
        # Counts what is listed: every profile, broken ones included (they are listed, with their error).
        console = sum(1 for c in choices if c.kind == "console")
        broken = sum(1 for c in choices if c.error)
        note = fmt.plural(len(choices), "profile")
        if broken or console < len(choices):  # more than one kind to tell apart
            note += (f": {console} console"
                     + (f" ({broken} broken, shown with {'its' if broken == 1 else 'their'} error)" if broken else "")
                     + (f", {len(choices) - console} AWS config" if console < len(choices) else ""))
        self.query_one("#switcher-note", Static).update(Text(note))

    def _line(self, c: ProfileChoice, palette: Palette) -> Text:
        line = Text("  ")
        line.append(c.name, palette["strong"] if c.profile else palette["crit"])
        if c.key in (f"console:{self.current}", self.current):
            line.append("  ● current", palette["accent"])
        if c.is_sandbox:
            line.append("  SANDBOX", palette["warn"])
        if c.read_only:
            line.append("  read-only", palette["muted"])
        if c.region:
            line.append(f"  {c.region}", palette["muted"])
        line.append(f"\n    {c.detail}", palette["muted"])
        if c.error:
            line.append(f"\n    ✖ {c.error}", palette["crit"])
        return line

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        choice = next((c for c in self.choices if c.key == event.option.id), None)
        if choice is None or choice.profile is None:
            return
        self.dismiss(choice.profile)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

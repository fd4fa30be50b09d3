"""The numbers to call or text for help, as tap-to-call (tel:) and tap-to-text (sms:) links.

The fixed wording (red-flag messages, the help line, the page's intro) names the US numbers:
911 for an emergency and 988 for the Suicide & Crisis Lifeline. The page shows the clinic's
numbers in their place (Settings.emergency_number, crisis_number, crisis_text_number), each a
link a phone dials with one tap. Only the page changes: the answer record keeps the wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from askpain.settings import Settings

# The numbers the fixed wording uses. Whole numbers only: not "1911", "911-2" or an anchor "#x-911".
WORDING_EMERGENCY = "911"
WORDING_CRISIS = "988"
_WORDING_NUMBER = re.compile(rf"(?<![\w+#/-])({WORDING_EMERGENCY}|{WORDING_CRISIS})(?![\w-])")


# The crisis wording is written for the US ("In the US, call or text 988 (Suicide & Crisis
# Lifeline). In other countries, call your local ... crisis line."). A clinic that sets its own
# crisis line gets "Call or text <its number>." instead: "In the US" before a UK number, or the
# name of a US service, would send a patient in crisis the wrong way.
_US_CRISIS = re.compile(r"In the US, call or text 988(?: \(Suicide (?:&amp;|&) Crisis Lifeline\))?\.")
_ELSEWHERE = re.compile(r" ?In other (?:countries|places), call your local emergency number or crisis line\.")


def _dial(number: str) -> str:
    """The number as a URI wants it: digits and a leading +, no spaces (RFC 3966)."""
    return re.sub(r"[^\d+]", "", number)


@dataclass(frozen=True)
class HelpNumbers:
    """Example: HelpNumbers(emergency="112").link("call 911") == 'call <a … href="tel:112">112</a>'."""

    emergency: str = WORDING_EMERGENCY
    crisis: str = WORDING_CRISIS
    crisis_text: str = WORDING_CRISIS  # "": the crisis line takes no texts, so no text link

    @classmethod
    def from_settings(cls, settings: Settings) -> HelpNumbers:
        return cls(settings.emergency_number, settings.crisis_number, settings.crisis_text_number)

    def _number(self, wording_number: str) -> str:
        return self.emergency if wording_number == WORDING_EMERGENCY else self.crisis

    def link(self, html: str) -> str:
        """Escaped text with the wording's 911 and 988 as this clinic's numbers, each a tel: link.
        With a crisis line of its own, the wording's US-only sentences about 988 say just that."""
        if self.crisis != WORDING_CRISIS:
            html = _US_CRISIS.sub("Call or text 988." if self.crisis_text else "Call 988.", html)
            html = _ELSEWHERE.sub("", html)

        def call(match: re.Match) -> str:
            number = self._number(match.group(1))
            return f'<a class="askpain-tel" href="tel:{_dial(number)}">{escape(number)}</a>'

        return _WORDING_NUMBER.sub(call, html)

    def buttons(self, text: str) -> str:
        """Large Call and Text links for the numbers an alert's text names, in the text's order;
        "" when it names none. A patient in trouble taps one instead of reading for the number."""
        links: list[str] = []
        for wording_number in dict.fromkeys(_WORDING_NUMBER.findall(text)):
            number = self._number(wording_number)
            links.append(_button(f"tel:{_dial(number)}", "phone", f"Call {number}"))
            if wording_number == WORDING_CRISIS and self.crisis_text:
                links.append(_button(f"sms:{_dial(self.crisis_text)}", "text", f"Text {self.crisis_text}"))
        return f'<p class="askpain-actions">{" ".join(links)}</p>' if links else ""


def _button(href: str, kind: str, label: str) -> str:
    """A Call or Text button; its icon (☎ or ✉) is drawn by style.py, silent to screen readers."""
    return f'<a class="askpain-call askpain-{kind}" href="{href}">{escape(label)}</a>'

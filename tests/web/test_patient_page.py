"""The patient page as a patient sees it, measured in Chromium against `python app.py`: alerts
readable in light, dark and forced-colors modes; help numbers one tap away (and the clinic's own
numbers when set); inputs a phone does not zoom into; a focus ring and a Send button that show.

Contrast is WCAG 2.2's: at least 4.5:1 for text, 3:1 for borders and the focus ring, computed
from the colours the browser rendered (transparent layers composited over what is behind them).
"""

from __future__ import annotations

import re

import pytest

from tests.web.helpers import ARTIFACTS, ask, open_page, start_app

EMERGENCY = "I can't control my bladder since the injection"
CRISIS = "I want to kill myself"
ALERT = "#askpain-chat .bot-row [role=alert]"

# ---- colours as the browser rendered them -------------------------------------------------------

# For an element: its text colour, border, outline and the background colours from it up to <html>.
_COLOURS = """(el) => {
  const style = getComputedStyle(el);
  const backgrounds = [];
  for (let n = el; n; n = n.parentElement) backgrounds.push(getComputedStyle(n).backgroundColor);
  return {text: el.innerText.trim().slice(0, 60), color: style.color, backgrounds,
          border: [style.borderTopStyle, parseFloat(style.borderTopWidth), style.borderTopColor],
          outline: [style.outlineStyle, parseFloat(style.outlineWidth), style.outlineColor]};
}"""
# Every element in `root` that holds text of its own (not only through its children).
_TEXT_ELEMENTS = """(root) => [root, ...root.querySelectorAll('*')].filter(
  e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))"""


def _rgba(css: str) -> tuple[float, ...]:
    assert css.startswith("rgb"), css
    r, g, b, *alpha = (float(x) for x in re.findall(r"[\d.]+", css))
    return r, g, b, alpha[0] if alpha else 1.0


def _over(top: tuple[float, ...], bottom: tuple[float, ...]) -> tuple[float, ...]:
    a = top[3]
    return (*(a * t + (1 - a) * b for t, b in zip(top[:3], bottom[:3], strict=True)), 1.0)


def background(backgrounds: list[str]) -> tuple[float, ...]:
    """What shows behind an element: its background and its ancestors', composited."""
    layers = [_rgba(c) for c in backgrounds]
    opaque = next(i for i, c in enumerate(layers) if c[3] == 1.0)  # the page always has one
    colour = layers[opaque]
    for layer in reversed(layers[:opaque]):
        colour = _over(layer, colour)
    return colour


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    def luminance(c: tuple[float, ...]) -> float:
        lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in (x / 255 for x in c[:3])]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_contrast(colours: dict) -> float:
    behind = background(colours["backgrounds"])
    return contrast(_over(_rgba(colours["color"]), behind), behind)


def colours(locator) -> dict:
    # Gradio animates colours for .2 s on focus and hover: measure where they end.
    locator.evaluate("el => Promise.all(el.getAnimations().map(a => a.finished))")
    return locator.evaluate(_COLOURS)


def unreadable_text(root) -> list[tuple[str, float]]:
    """(text, contrast) of each piece of text under `root` below 4.5:1."""
    found = []
    for element in root.evaluate_handle(_TEXT_ELEMENTS).get_properties().values():
        c = element.as_element().evaluate(_COLOURS)
        found.append((c["text"], round(text_contrast(c), 2)))
    assert found, "no text found"
    return [(text, ratio) for text, ratio in found if ratio < 4.5]


# ---- 1. alerts readable in light, dark and forced-colors modes ----------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("message", "heading"), [(EMERGENCY, "EMERGENCY"), (CRISIS, "EMERGENCY")])
def test_alert_text_is_readable_in_light_and_dark(browser, server, scheme, message, heading):
    with open_page(browser, server, color_scheme=scheme) as page:
        # The page really is in that scheme: Gradio follows the device's setting.
        assert page.evaluate("document.body.classList.contains('dark')") == (scheme == "dark")
        ask(page, message)
        alert = page.locator(ALERT).first
        assert heading in alert.inner_text()
        # An icon is drawn before the heading (never colour alone), and screen readers do not
        # read it aloud: it is CSS with empty alternative text, so not in the accessible text.
        icon = alert.locator(".askpain-card-title").evaluate("el => getComputedStyle(el, '::before').content")
        assert "⚠" in icon
        assert "⚠" not in alert.aria_snapshot() and alert.aria_snapshot().startswith("- alert")
        assert unreadable_text(alert) == []  # heading, message, links and buttons: all ≥ 4.5:1
        # The card's edge stands out from the reply around it (≥ 3:1), so the alert is seen.
        card = colours(alert)
        around = background(card["backgrounds"][1:])
        assert card["border"][0] == "solid" and card["border"][1] >= 2
        assert contrast(_rgba(card["border"][2]), around) >= 3
        name = "crisis" if message == CRISIS else "bladder"
        page.screenshot(path=str(ARTIFACTS / f"alert-{scheme}-{name}.png"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_alert_and_buttons_keep_their_edges_in_forced_colors(browser, server, scheme):
    """Windows High Contrast replaces every colour: what marks the card and the buttons is
    their border, which must still be drawn (a box-shadow or a background is not)."""
    with open_page(browser, server, color_scheme=scheme, forced_colors="active") as page:
        ask(page, CRISIS)
        alert = page.locator(ALERT).first
        assert unreadable_text(alert) == []
        edged = (
            alert,
            alert.get_by_role("link", name="Call 988"),
            page.locator("#askpain-send"),
            page.locator("#askpain-new"),
            page.get_by_role("button", name="When is surgery an option?"),
        )
        for element in edged:
            c = colours(element)
            style, width, colour = c["border"]
            assert style == "solid" and width >= 2, (c["text"], c["border"])
            assert contrast(_rgba(colour), background(c["backgrounds"])) >= 3, c["text"]
        page.screenshot(path=str(ARTIFACTS / f"alert-forced-colors-{scheme}.png"))


# ---- 2. tap to call, tap to text ----------------------------------------------------------------


def links(root) -> set[tuple[str, str]]:
    """(href, visible text) of each tel: and sms: link under root."""
    return {
        tuple(pair)
        for pair in root.evaluate(
            """r => [...r.querySelectorAll('a[href^="tel:"], a[href^="sms:"]')]
                 .map(a => [a.getAttribute('href'), a.innerText.replace(/\\s+/g, ' ').trim()])"""
        )
    }


def test_emergency_alert_calls_911_with_one_tap(browser, server):
    with open_page(browser, server, viewport={"width": 390, "height": 844}, is_mobile=True) as page:
        assert ("tel:911", "911") in links(page.locator("main").first)  # in the page's intro
        ask(page, EMERGENCY)
        alert = page.locator(ALERT).first
        call = alert.get_by_role("link", name="Call 911")
        assert call.get_attribute("href") == "tel:911"
        assert call.bounding_box()["height"] >= 44  # a finger-sized target
        assert alert.locator('a[href="tel:911"]', has_text=re.compile(r"^911$")).count() == 1  # in the text
        assert not [href for href, _ in links(alert) if href.startswith("sms:")]  # 911 takes no texts


def test_crisis_alert_calls_or_texts_988(browser, server):
    with open_page(browser, server, viewport={"width": 390, "height": 844}, is_mobile=True) as page:
        ask(page, CRISIS)
        alert = page.locator(ALERT).first
        assert "988" in alert.inner_text()
        assert alert.get_by_role("link", name="Call 988").get_attribute("href") == "tel:988"
        assert alert.get_by_role("link", name="Text 988").get_attribute("href") == "sms:988"
        assert alert.get_by_role("link", name="Call 911").get_attribute("href") == "tel:911"
        # And the numbers in the message itself.
        assert alert.locator("p").nth(1).locator('a[href="tel:988"]').inner_text() == "988"
        page.screenshot(path=str(ARTIFACTS / "crisis-phone.png"))


@pytest.fixture(scope="module")
def abroad(tmp_path_factory, built_settings):
    """The chat page of a clinic outside the US, with its numbers set as an operator would."""
    numbers = {
        "ASKPAIN_EMERGENCY_NUMBER": "112",
        "ASKPAIN_CRISIS_NUMBER": "116 123",
        "ASKPAIN_CRISIS_TEXT_NUMBER": "85258",
    }
    app = start_app(tmp_path_factory.mktemp("abroad"), built_settings.index_dir, staff=False, env=numbers)
    yield app.url
    app.stop()


def test_help_numbers_follow_the_settings(browser, abroad):
    with open_page(browser, abroad) as page:
        ask(page, CRISIS)
        alert = page.locator(ALERT).first
        assert links(alert) == {
            ("tel:116123", "116 123"),  # in the message, shown as set
            ("tel:112", "112"),
            ("tel:116123", "Call 116 123"),  # and as buttons
            ("sms:85258", "Text 85258"),
            ("tel:112", "Call 112"),
        }
        shown = page.locator("main").first.inner_text()
        assert "116 123" in shown and "112" in shown
        # Nowhere on the page is a US number left to call: intro, alert, help line.
        assert not re.search(r"\b(911|988)\b", shown)
        assert not [href for href, _ in links(page.locator("body")) if href[4:] in ("911", "988")]


# ---- 3. inputs and focus ------------------------------------------------------------------------


def test_text_box_and_examples_are_16px_so_phones_do_not_zoom(browser, server):
    """iOS zooms into a text field whose font is under 16 px, and the page jumps sideways."""
    with open_page(browser, server, viewport={"width": 390, "height": 844}, is_mobile=True) as page:
        size = "el => parseFloat(getComputedStyle(el).fontSize)"
        assert page.locator("#askpain-question textarea").evaluate(size) >= 16
        examples = page.get_by_role("button", name=re.compile(r"\?$"))
        assert examples.count() == 5
        assert min(e.evaluate(size) for e in examples.all()) >= 16


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_focus_ring_shows_and_send_is_readable(browser, server, scheme):
    with open_page(browser, server, color_scheme=scheme) as page:
        box, send = page.locator("#askpain-question textarea"), page.locator("#askpain-send")
        box.focus()
        rings = {"text box": colours(box)}
        page.keyboard.press("Tab")  # on to Send, by keyboard
        assert send.evaluate("el => el === document.activeElement")
        rings["Send"] = colours(send)
        for name, c in rings.items():
            style, width, colour = c["outline"]
            assert style not in ("none", "hidden") and width >= 2, (scheme, name, c["outline"])
            # The ring is drawn just outside the element, over what is behind it.
            behind = background(c["backgrounds"][1:])
            assert contrast(_rgba(colour), behind) >= 3, (scheme, name, c["outline"])
        assert text_contrast(rings["Send"]) >= 4.5

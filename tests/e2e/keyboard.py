"""The keyboard walk the browser tests share: Tab from the top to the last stop, each stop on screen with a
visible focus ring (axe does not look at focus)."""

from __future__ import annotations

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e), r = e.getBoundingClientRect();
  return {element: e.outerHTML.slice(0, 100),
          ring: (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none",
          seen: r.width > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth};
}"""


def tab_stops(page) -> tuple[int, list[dict]]:
    """Tab from the top to the last stop: how many stops, and those off screen or without a focus ring."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    stops, hidden = [], []
    for _ in range(400):
        page.keyboard.press("Tab")
        step = page.evaluate(FOCUSED)
        if step is None or (stops and step["element"] == stops[0]):
            break
        stops.append(step["element"])
        if not (step["ring"] and step["seen"]):
            hidden.append(step)
    return len(stops), hidden

"""Sitemaps for the tests, written with ElementTree at test time."""

from __future__ import annotations

from xml.etree import ElementTree as ET

SM = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
IMAGE = "http://www.google.com/schemas/sitemap-image/1.1"


def urlset(pages: list[dict[str, str]], *, news: bool = False, image: bool = False) -> bytes:
    """A urlset of ``pages`` (loc, lastmod, and title and published for a news one)."""
    ET.register_namespace("", SM)
    ET.register_namespace("news", NEWS)
    ET.register_namespace("image", IMAGE)
    root = ET.Element(f"{{{SM}}}urlset")
    for values in pages:
        url = ET.SubElement(root, f"{{{SM}}}url")
        if image:  # an image's loc before the page's
            picture = ET.SubElement(url, f"{{{IMAGE}}}image")
            ET.SubElement(picture, f"{{{IMAGE}}}loc").text = values["loc"] + ".jpg"
        ET.SubElement(url, f"{{{SM}}}loc").text = values["loc"]
        if "lastmod" in values:
            ET.SubElement(url, f"{{{SM}}}lastmod").text = values["lastmod"]
        if news:
            item = ET.SubElement(url, f"{{{NEWS}}}news")
            ET.SubElement(item, f"{{{NEWS}}}publication_date").text = values["published"]
            ET.SubElement(item, f"{{{NEWS}}}title").text = values["title"]
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def index(children: list[tuple[str, str]]) -> bytes:
    ET.register_namespace("", SM)
    root = ET.Element(f"{{{SM}}}sitemapindex")
    for loc, lastmod in children:
        child = ET.SubElement(root, f"{{{SM}}}sitemap")
        ET.SubElement(child, f"{{{SM}}}loc").text = loc
        ET.SubElement(child, f"{{{SM}}}lastmod").text = lastmod
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)

"""The one rule for what reaches a terminal or a line of JSON (pipeline/terminal.py)."""

import json

from pipeline.terminal import CONTROL, json_line, printable


def test_printable_is_one_line_without_controls_or_bidi_overrides():
    text = "Evil\x1b[2J title\r\nnext\u2028line\x9b31m \u202eevil\u202c ok"
    out = printable(text)
    assert not CONTROL.search(out)
    assert "\u2028" not in out and "\u202e" not in out and "\u202c" not in out
    assert len(out.splitlines()) == 1
    assert "Evil" in out and "next" in out and "evil ok" in out


def test_printable_keeps_text_and_columns_as_they_are():
    line = f"{'bbc-world':<20} {'feed':<8} https://example.com/ü — 中文 🦜"
    assert printable(line) == line
    assert printable(None) == "" and printable("") == ""


def test_json_line_is_one_line_and_the_same_document():
    doc = {"title": "a\nb\x85c\u2028d\u2029e\x7f", "n": 1, "when": object}
    line = json_line(doc)
    assert len(line.splitlines()) == 1
    assert not any(0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in line)
    back = json.loads(line)
    assert back["title"] == doc["title"] and back["n"] == 1
    assert back["when"] == str(object)  # what json cannot write is written as its str()

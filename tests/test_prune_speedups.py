"""The pre-pass's shortcuts (cleaner/prune.py) give what the plain rules give.

The measuring pass skips whitespace text in C and notes the parents that can hold a link run;
the selectors group attribute tests; too_deep settles pages by counting. Each is checked here
against the plain computation it replaces.
"""

from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser, LexborNode

from cleaner.prune import (
    _HIDDEN_SELECTOR, _LANDMARK_SELECTOR, _NAME_SELECTOR, _NAME_STEMS, BLOCKS, HIDDEN, LANDMARKS,
    MAX_DEPTH, MIN_LINK_RUN, ROLES, _link_sized, _Sizes, prune, too_deep,
)

TAGS = ["div", "p", "a", "li", "ul", "span", "h2", "td", "section", "b", "nav", "form"]
ATTRS = ['class="share"', 'id="Related-1"', 'class="x comments"', "hidden", 'role="banner"',
         'style="display: none"', 'aria-hidden="true"', 'role="navigation"', 'class="Pager"']
TEXTS = ["", " ", "\n  ", "\xa0", "word", " two words ", "Most Read", "a longer line of text " * 4]

html_nodes = st.recursive(
    st.sampled_from(TEXTS + ["<!-- note -->", "<br>"]),
    lambda kids: st.builds(
        lambda tag, attrs, inner: f"<{tag} {' '.join(attrs)}>{''.join(inner)}</{tag}>",
        st.sampled_from(TAGS), st.lists(st.sampled_from(ATTRS), max_size=2),
        st.lists(kids, max_size=6)),
    max_leaves=40)
pages = st.lists(html_nodes, max_size=5).map(lambda parts: f"<body>{''.join(parts)}</body>")


def _plain_sizes(node: LexborNode, out: dict[int, tuple[int, int, int]]) -> tuple[int, int, int]:
    """Each element's (text, link text, <p> text) in characters, by plain recursion."""
    if node.is_text_node:
        return len(node.text_content.strip()), 0, 0
    text = link = para = 0
    for child in node.iter(include_text=True):
        t, lk, pa = _plain_sizes(child, out)
        text, link, para = text + t, link + lk, para + pa
    if node.tag == "a":
        link = text
    elif node.tag == "p":
        para = text
    out[node.mem_id] = (text, link, para)
    return text, link, para


@settings(max_examples=300, deadline=None)
@given(pages)
def test_measuring_pass_matches_plain_recursion(html):
    tree = LexborHTMLParser(html)
    sizes = _Sizes(tree)
    plain: dict[int, tuple[int, int, int]] = {}
    _plain_sizes(tree.body, plain)
    for node in tree.body.traverse():
        assert tuple(sizes.of(node)) == plain.get(node.mem_id, (0, 0, 0))
    # The parents noted for the link rules, by their link-sized block children, in document
    # order: lists with two, any element with MIN_LINK_RUN.
    link_kids = {node.mem_id: sum(
        1 for kid in node.iter() if (kid.tag in BLOCKS or kid.tag in ("ul", "ol"))
        and _link_sized(plain.get(kid.mem_id, (0, 0, 0)))) for node in tree.body.traverse()}
    assert [node.mem_id for node in sizes.run_parents] == [
        node.mem_id for node in tree.body.traverse() if link_kids[node.mem_id] >= MIN_LINK_RUN]
    assert [node.mem_id for node in sizes.list_parents] == [
        node.mem_id for node in tree.body.css("ul, ol") if link_kids[node.mem_id] >= 2]


def _matches(tree: LexborHTMLParser, selector: str) -> list[int]:
    """mem_ids matched, a node matched by several selectors of the list counted once."""
    ids = [node.mem_id for node in tree.css(selector)]
    return [m for i, m in enumerate(ids) if i == 0 or ids[i - 1] != m]


@settings(max_examples=300, deadline=None)
@given(pages)
def test_grouped_selectors_match_the_flat_lists(html):
    tree = LexborHTMLParser(html)
    names = ", ".join(f'[{attr}*="{stem}" i]' for stem in _NAME_STEMS for attr in ("class", "id"))
    assert _matches(tree, _HIDDEN_SELECTOR) == _matches(tree, ", ".join(HIDDEN))
    assert _matches(tree, _LANDMARK_SELECTOR) == _matches(tree, ", ".join(LANDMARKS + ROLES))
    assert _matches(tree, _NAME_SELECTOR) == _matches(tree, names)


LINKS = "".join(f"<p><a href='/{i}'>Headline number {i}</a></p>" for i in range(4))
PROSE = "<p>" + "The council met on Tuesday to discuss the new harbour plan. " * 12 + "</p>"


def test_a_run_or_list_inside_a_removed_landmark_is_not_counted_again():
    _, report = prune(f"<body>{PROSE}<nav><div>{LINKS}</div></nav></body>")
    assert report.removed == {"landmark": 1}
    items = LINKS.replace("<p>", "<li>").replace("</p>", "</li>")
    _, report = prune(f"<body>{PROSE}<aside><h3>More</h3><ul>{items}</ul></aside></body>")
    assert report.removed == {"landmark": 1}


def test_a_parent_left_with_too_few_links_holds_no_run():
    hidden = LINKS.replace("<p>", "<p hidden>", 2)
    out, report = prune(f"<body>{PROSE}<div>{hidden}</div></body>")
    assert report.removed == {"hidden": 2} and "Headline number 3" in out


def test_nested_runs_go_outer_first():
    inner = "<div><a href='/x'>Lead story</a>" + LINKS + "</div>"
    outer = inner + "".join(f"<div><a href='/o{i}'>Other {i}</a></div>" for i in range(2))
    _, report = prune(f"<body>{PROSE}<section>{outer}</section></body>", trace=True)
    assert report.removed == {"link_run": 3}
    assert [reason for reason, _ in report.trace] == ["link_run:div"] * 3


def test_json_ld_stays_whatever_its_case_other_code_goes():
    html = ('<body><script type="Application/LD+JSON">{"a": 1}</script><script>x()</script>'
            '<style type="application/ld+json">{}</style><button>Go</button>' + PROSE + "</body>")
    out, report = prune(html)
    assert report.removed == {"non_text": 2}
    assert '{"a": 1}' in out and "x()" not in out and "Go" not in out


def test_closing_tags_do_not_count_towards_depth():
    assert not too_deep("</div>" * (2 * MAX_DEPTH) + "<div>x</div>")
    assert too_deep("<div>" * (MAX_DEPTH + 1) + "x" + "</div>" * (MAX_DEPTH + 1))

"""Post-pass and pre-pass rules on pages they were not written for."""

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.boilerplate import post_pass
from cleaner.lines import is_caption, is_date_line, is_headline_like, is_prompt
from cleaner.prune import prune

PROSE = [
    "The harbour authority said on Monday that dredging would begin in the spring.",
    "Fishermen have complained for years that silt makes the channel unsafe at low tide.",
    "“We lose two hours a day waiting for the water,” said one skipper, who asked not to be named.",
    "Work is expected to take four months and cost about €12m, paid for by the regional government.",
]


def test_prompts_and_tail_go_prose_stays():
    paras = [
        "Harbour dredging to begin in spring",  # the headline again
        *PROSE,
        "Join the conversation",
        "Log in to leave a comment.",
        "Popular now",
        "Mayor opens new ferry terminal",
        "Storm damages sea wall near old town",
        "Council to review parking fees ...",
        "© 2026 Coastal Media Group. All rights reserved.",
    ]
    out = post_pass(paras, title="Harbour dredging to begin in spring")
    assert out.kept == PROSE
    reasons = out.reasons()
    assert reasons["title"] == 1 and reasons["prompt"] >= 1 and reasons["tail"] >= 4


def test_short_closing_line_is_kept():
    paras = [*PROSE, "Additional reporting by Jane Doe"]
    assert post_pass(paras).kept == paras


def test_subheads_inside_the_body_are_kept():
    paras = [PROSE[0], "Years of complaints", PROSE[1], "What happens next", PROSE[2], PROSE[3]]
    assert post_pass(paras).kept == paras


def test_prose_mentioning_comments_or_subscriptions_is_kept():
    paras = [
        "The company said subscriptions rose by a third after it dropped the paywall last year, "
        "and that readers who sign up through the app now outnumber those on the website.",
        "Critics said the new comment moderation rules went too far.",
    ]
    assert post_pass(paras).kept == paras


def test_description_after_the_body_dropped_at_the_lead_kept():
    standfirst = "Dredging will make the channel safe at low tide, the authority says"
    # Headline and standfirst left over after the body (a second copy's header): metadata.
    out = post_pass([*PROSE, "Harbour dredging", standfirst], title="Harbour dredging",
                    description=standfirst)
    assert out.kept == PROSE
    assert out.reasons() == {"title": 1, "description": 1}
    # Many sites copy their first paragraph into the meta description: there it is the lede.
    assert post_pass(PROSE, description=PROSE[0]).kept == PROSE


def test_detectors():
    assert is_date_line("Published 3 March 2026, 14:05")
    assert is_date_line("Updated: 2026-03-03T14:05:00Z")
    assert not is_date_line("On 3 March 2026 the harbour authority met fishermen.")
    assert is_caption("Boats wait for the tide at the harbour mouth. Photo: Jane Doe/Coastal Media")
    assert not is_caption(PROSE[0])
    assert is_prompt("Sign up for our morning newsletter")
    assert not is_prompt(PROSE[2])
    assert is_headline_like("Storm damages sea wall near old town")
    assert not is_headline_like(PROSE[0])


PAGE = """<html><head><title>t</title>
<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2026-03-03"}</script>
<script>var x = 1;</script></head><body>
<nav><a href="/">Home</a><a href="/news">News</a></nav>
<article>
  PROSE_HERE
  <div style="display:none"><p>Hidden teaser text that readers never see on the page.</p></div>
  <div class="share-bar"><a href="#">Share on social media</a></div>
  <h3>More from the coast</h3>
  <p><a href="/a">Mayor opens new ferry terminal</a></p>
  <p><a href="/b">Storm damages sea wall near old town</a></p>
  <p><a href="/c">Council to review parking fees</a></p>
</article>
<footer><p>© 2026 Coastal Media Group</p></footer>
</body></html>"""


def test_prune_removes_boilerplate_blocks_and_keeps_prose_and_json_ld():
    html = PAGE.replace("PROSE_HERE", "".join(f"<p>{p}</p>" for p in PROSE))
    out, report = prune(html)
    for p in PROSE:
        assert p.split("“")[-1][:30] in out
    for gone in ("Hidden teaser", "Share on social", "ferry terminal", "More from the coast",
                 "Coastal Media Group", "var x", ">Home<"):
        assert gone not in out, gone
    assert "application/ld+json" in out
    assert report.removed["link_run"] == 4  # three links and their label


def test_prune_never_removes_the_node_holding_the_text():
    body = "".join(f"<p>{p}</p>" for p in PROSE * 3)
    html = f"<html><body><form id='aspnetForm'><div class='sidebar'>{body}</div></form></body></html>"
    out, _ = prune(html)
    assert all(p[:40] in out for p in PROSE[:2])


def test_promos_go_but_reported_speech_about_them_stays():
    promos = [
        "Get Coastal Monthly delivered through your letterbox every month. Click here for more.",
        "There's plenty more where that came from. Sign up for The Morning Tide today to get "
        "the free daily newsletter delivered to your inbox.",
        "SEE MORE: Harbour closes for a week as storm approaches",
        "Follow @CoastalNews on Twitter to keep up with the latest.",
    ]
    for text in promos:
        assert is_prompt(text), text
    promos += [
        "Harbour closes for a week as storm approaches [VIDEO]",
        "Follow Coastal News on Instagram, Facebook and YouTube.",
        "Have a tip? Jane Doe may be reached at jdoe@example.com.",
        "The Tide is committed to publishing letters to the editor. We’d like to hear what "
        "you think.",
    ]
    for text in promos[-4:]:
        assert is_prompt(text), text
    quoted = "“You can sign up for the newsletter now,” the harbour master said of the scheme."
    assert not is_prompt(quoted)
    assert post_pass([PROSE[0], *promos, PROSE[1]]).kept == [PROSE[0], PROSE[1]]


def test_legal_lines_go_wherever_they_stand():
    legal = "This copy is for your personal, non-commercial use only."
    out = post_pass([PROSE[0], legal, PROSE[1], PROSE[2]])
    assert out.kept == [PROSE[0], PROSE[1], PROSE[2]] and out.reasons() == {"legal": 1}


def test_a_list_of_sources_at_the_end_stays():
    sources = ["Sources:", "https://example.org/report-2025.pdf", "https://example.com/data"]
    assert post_pass([*PROSE, *sources]).kept == [*PROSE, *sources]


def test_legal_lines_and_keyword_lines_close_the_article():
    tail = ["This copy is for your personal, non-commercial use only. Distribution is governed "
            "by our Subscriber Agreement and by copyright law.",
            "harbour, dredging, fishing, regional government, low tide, spring works"]
    out = post_pass([*PROSE, *tail])
    assert out.kept == PROSE
    # A credit line before a lone footer is the article's own: it stays.
    credit = "(Reporting by Jane Doe; Editing by John Roe)"
    assert post_pass([*PROSE, credit, "© Coastal Wire"]).kept == [*PROSE, credit]


def test_date_lines_in_several_forms():
    for line in ("Updated at 1:23 p.m.", "22/01/2018 às 0:13", "3. März 2024, 14:05 Uhr",
                 "Published: 2026-03-03", "segunda-feira, 22 de janeiro de 2018 às 0:13",
                 "mardi 10 septembre 2025 à 14h05", "Actualizado: 10 de septiembre de 2025"):
        assert is_date_line(line), line
    for line in ("He was 22 in 2018.", "Sales rose 5% in 2018 and 2019 across the region."):
        assert not is_date_line(line), line


def test_headline_with_the_site_suffix_of_the_html_title():
    out = post_pass(["Harbour dredging to begin in spring", *PROSE],
                    title="Harbour dredging to begin in spring - Coastal News")
    assert out.kept == PROSE and out.reasons() == {"title": 1}


def test_class_names_are_matched_as_tokens_whatever_their_case():
    from cleaner.prune import _NAME_STEMS, BOILERPLATE_NAMES

    # Every name has a stem that preselects it.
    assert all(any(stem in name for stem in _NAME_STEMS) for name in BOILERPLATE_NAMES)
    prose = "".join(f"<p>{p}</p>" for p in PROSE)
    html = (f"<html><body><article>{prose}</article><div class='Comments-Area'>Boo one</div>"
            f"<section id='Related'>Boo two</section><div class='shared-story'>Kept</div>"
            f"</body></html>")
    out, _ = prune(html)
    assert "Boo" not in out and "Kept" in out


_LINES = st.sampled_from([
    *PROSE,
    "Harbour dredging to begin in spring",
    "Years of complaints",
    "Sign up for our morning newsletter",
    "Would you like to comment on this article?",
    "© 2026 Coastal Media Group. All rights reserved.",
    "Published 3 March 2026, 14:05",
    "Boats wait for the tide at the harbour mouth. Photo: Jane Doe/Coastal Media",
    "Council to review parking fees ...",
    "harbour, dredging, fishing, regional government, low tide, spring works",
    "Most Read",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_LINES, st.text(max_size=60)), max_size=25),
       st.sampled_from([None, "Harbour dredging to begin in spring"]))
def test_post_pass_properties(paragraphs, title):
    out = post_pass(paragraphs, title=title, description=PROSE[0])
    kept = out.kept
    # The kept paragraphs are a subsequence of the input, and every other one has a reason.
    it = iter(paragraphs)
    assert all(any(k == p for p in it) for k in kept)
    assert len(kept) + len(out.dropped) == len(paragraphs)
    # Idempotent: nothing left to remove.
    again = post_pass(kept, title=title, description=PROSE[0])
    assert again.kept == kept


def test_bylines_repeating_the_author_go():
    for line in ("By Jane Doe", "Jane Doe, Coastal News staff writer", "Von Jane Doe"):
        out = post_pass([line, *PROSE], author="Jane Doe; John Roe")
        assert out.kept == PROSE and out.reasons() == {"byline": 1}, line
    # Prose that names the author is prose; a one-word author matches only a bare byline.
    named = "Jane Doe, who has covered the harbour for a decade, said dredging was overdue."
    assert post_pass([named, *PROSE], author="Jane Doe").kept == [named, *PROSE]
    assert post_pass(["Read the harbour report", *PROSE], author="Read").kept[0] == (
        "Read the harbour report")


def test_a_labelled_block_of_recommended_links_at_the_end_goes():
    body = ["The council voted on Tuesday to close the old library after a decade of visits "
            "falling year after year.",
            "A final decision on the building itself is expected before the end of the year."]
    teasers = ["- Storm closes coast road 2025-10-14 TRAFFIC: The police said the road would "
               "reopen once engineers had checked the sea wall, probably on Friday morning.",
               "- Mayor re-elected 2025-10-10 LANDSLIDE: The mayor won a third term with a "
               "majority larger than any since the town was given its charter."]
    for label in ("You might also like", "Mehr zum Thema", "À lire aussi :"):
        kept = post_pass([*body, label, *teasers]).kept
        assert kept == body, (label, kept)
    # The same list without a label is the article's own; a label alone decides nothing
    # when prose follows it.
    assert post_pass([*body, *teasers]).kept == [*body, *teasers]
    assert post_pass([body[0], "Related reading", body[1]]).kept[-1] == body[1]


def test_an_inline_teaser_in_another_language_is_a_prompt():
    assert is_prompt("Lesen Sie auch: Warum der Stadtrat die Bibliothek schließt")
    assert is_prompt("LE PUEDE INTERESAR: La ficha del caso en el tribunal de Nueva York")
    assert is_prompt("VEA TAMBIÉN: Entre heces y guaricha, la escuela de Panamá Oeste")
    assert is_prompt("À lire aussi » Ballonnements, lourdeurs : quel est votre profil ?")
    assert is_prompt("MIRA: Madre se acerca a conocer los motivos de la captura")
    assert not is_prompt("Lesen Sie die Stellungnahme des Stadtrats, die am Montag erschien.")
    assert is_prompt("Zum Newsletter anmelden")
    assert is_prompt("Sie sind aktuell nicht eingeloggt.")
    assert is_prompt("Suscríbete a nuestro boletín y recibe las noticias cada mañana")
    assert not is_prompt("Registrieren Sie sich jetzt und machen Sie mit: Bewerten Sie Ihre "
                         "Lieblingsmarken, teilen Sie Fotos und diskutieren Sie mit Freunden.")
    assert not is_prompt("Mira: I started painting when I was nine, in my grandmother's home.")


def test_a_picture_credit_line_goes_anywhere_a_sentence_about_photos_stays():
    body = ["The council voted on Tuesday to close the old library after a decade of visits "
            "falling year after year.",
            "Photos: the reading room as it looked in 1962, before the roof was replaced.",
            "A final decision on the building itself is expected before the end of the year."]
    credits = ["Foto: Jane Doe / Stadtarchiv", "(Bild: Max Muster)", "Photo credit: AP"]
    result = post_pass([body[0], credits[0], body[1], credits[1], body[2], credits[2]])
    assert result.kept == body
    assert result.reasons() == {"credit": 3}


def test_a_legal_line_goes_prose_that_ends_in_one_or_quotes_one_stays():
    prose = ["The council voted on Tuesday to close the old library after a decade of visits "
             "falling year after year.",
             "Under the motto 'some rights reserved', the licences sit between full copyright "
             "and the public domain, and the authors choose which rights they keep.",
             "Shot on Fuji film with two cameras in Japan and in Germany over a year, the "
             "pictures were swapped by post twice. Copyright © 2018. All Rights Reserved."]
    legal = "Copyright 2025 Example Media Ltd. All rights reserved."
    assert post_pass([*prose, legal]).kept == prose
    assert post_pass([prose[0], legal, prose[1]]).kept == [prose[0], prose[1]]


def test_a_labelled_list_of_links_inside_the_body_and_ad_labels_go():
    prose = ["The council voted on Tuesday to close the old library after a decade of visits "
             "falling year after year.",
             "A final decision on the building itself is expected before the end of the year."]
    related = ["Auch interessant", "- Stadtrat streitet über die Bibliothek",
               "- Neue Öffnungszeiten für das Schwimmbad"]
    out = post_pass([prose[0], *related, "Advertisement", prose[1]])
    assert out.kept == prose
    assert out.reasons() == {"related": 3, "ad": 1}
    # The same list without its label is the article's own.
    assert post_pass([prose[0], *related[1:], prose[1]]).kept == [prose[0], *related[1:],
                                                                   prose[1]]


def test_rules_read_a_decomposed_paragraph_and_keep_it_as_given():
    import unicodedata

    prose = unicodedata.normalize("NFD", "Die Schüler der Oberstufe präsentierten am Montag "
                                         "ihre Ergebnisse vor dem Gemeinderat in München.")
    teaser = unicodedata.normalize("NFD", "À lire aussi : la mairie ferme la bibliothèque")
    out = post_pass([prose, teaser, prose.replace("Montag", "Dienstag")])
    assert out.kept == [prose, prose.replace("Montag", "Dienstag")]  # as given: decomposed
    assert out.dropped == [("prompt", teaser)]

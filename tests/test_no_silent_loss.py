"""Pages whose content repeats in structure, not as a copy, keep all of it; prose that gives an
address or an instruction is not taken for a prompt; a standfirst printed under a headline
below the body is kept as the description; what cleaning removes is counted on the article.

Each page is written here (none copies a benchmark page) and goes through the whole cleaner.
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

from cleaner import Cleaner
from cleaner.repeats import collapse_repeats
from cleaner.text import word_count
from records import Article, Page

URL = "https://food.example.com/2025/03/04/a-week-of-meals/"
INTRO = ("Eating well on a budget takes planning more than money, and a week planned on a "
         "Sunday afternoon saves both time and waste. Here is the plan our readers asked for.")
OUTRO = ("Shop once for the whole week, cook the grains in bulk on Sunday, and keep the "
         "leftovers for the next day's lunch, as the plan above does on most days.")


def page(title: str, blocks: list[str], head: str = "") -> Page:
    """An article page: a site header, the headline, the blocks, a footer."""
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} | Example Food</title>{head}</head><body>
<header><nav><a href="/">Home</a> <a href="/recipes">Recipes</a></nav></header>
<main><article><h1>{html.escape(title)}</h1>
{''.join(blocks)}
</article></main>
<footer><p>© 2025 Example Food Ltd. All rights reserved.</p></footer></body></html>"""
    data = body.encode()
    return Page(url=URL, final_url=URL, status=200, content_type="text/html", body=data,
                encoding="utf-8", bytes=len(data))


def clean(p: Page) -> Article:
    result = Cleaner().clean(p)
    assert result.outcome == "cleaned", result.error
    assert result.article is not None
    return result.article


def p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def ul(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def lines_of(article: Article) -> list[str]:
    """The body's lines, list items without their "- " marker."""
    return [line.removeprefix("- ") for line in article.text.split("\n")]


# -- structure that repeats is not a copy ----------------------------------------------------

MEALS = {
    "Monday": ["Breakfast: porridge with grated apple and cinnamon",
               "Lunch: lentil soup with a slice of rye bread",
               "Dinner: baked salmon with potatoes and green beans"],
    "Tuesday": ["Breakfast: porridge with grated apple and cinnamon",
                "Lunch: lentil soup with a slice of rye bread",
                "Dinner: chickpea curry with brown rice"],
    "Wednesday": ["Breakfast: yoghurt with oats and frozen berries",
                  "Lunch: lentil soup with a slice of rye bread",
                  "Dinner: baked salmon with potatoes and green beans"],
}


def test_a_meal_plan_whose_days_repeat_keeps_every_day():
    blocks = [p(INTRO)]
    for day, meals in MEALS.items():
        blocks += [f"<h2>{day}</h2>", ul(meals)]
    blocks.append(p(OUTRO))
    article = clean(page("A week of meals for two", blocks))
    lines = lines_of(article)
    for day, meals in MEALS.items():
        assert day in lines
    # Every day's meals are there, repeated dishes included: 9 meal lines in all.
    meal_lines = [line for line in lines if line.startswith(("Breakfast:", "Lunch:", "Dinner:"))]
    assert len(meal_lines) == 9, lines
    assert article.repeated_paragraphs_removed == 0
    assert article.text.endswith(OUTRO)


SPECS = ["Display: 6.1-inch OLED, 120 Hz", "Storage: 128 GB or 256 GB",
         "Battery: 4,000 mAh with 25 W charging", "Weight: 172 g"]


def test_two_models_with_the_same_spec_lines_keep_both_lists():
    blocks = [p("The two phones launched on Tuesday share most of their parts, and the "
                "differences come down to the camera and the price, as the lists show."),
              "<h2>The Nova 5</h2>", ul([*SPECS, "Camera: 50 MP main, 12 MP wide"]),
              "<h2>The Nova 5 Pro</h2>", ul([*SPECS, "Camera: 50 MP main, 48 MP telephoto"]),
              p("Both go on sale next month in Europe, the company said in a statement, "
                "with the Pro costing about two hundred euros more than the standard model.")]
    article = clean(page("Nova 5 and Nova 5 Pro: what is the difference?", blocks))
    lines = lines_of(article)
    for spec in SPECS:
        assert lines.count(spec) == 2, (spec, lines)
    assert "Camera: 50 MP main, 48 MP telephoto" in lines


QA = [("When did you start painting?", "When I was nine, in my grandmother's kitchen."),
      ("Do you paint every day?", "Yes, every single day, even on holidays and birthdays."),
      ("Even in winter?", "Yes, every single day, even on holidays and birthdays."),
      ("What comes next?", "A show in Lyon in the spring, if the frames arrive.")]


def test_an_interview_with_recurring_labels_and_answers_keeps_every_exchange():
    blocks = [p("The painter, who turns eighty this year, talked to us in her studio about a "
                "career that began with a box of watercolours and never really paused.")]
    for q, a in QA:
        blocks += [p("Question"), p(q), p("Answer"), p(a)]
    article = clean(page("A life in landscapes", blocks))
    lines = lines_of(article)
    assert lines.count("Question") == lines.count("Answer") == len(QA), lines
    for q, a in QA:
        assert q in lines and a in lines, (q, a, lines)
    assert lines.count(QA[1][1]) == 2


def test_short_runs_that_repeat_in_structure_are_not_copies():
    """The collapse itself: a results table's rows and labels recur with different content
    between them; nothing goes."""
    heat = ["1. Anna Berg, LG Lauf 12.91 sec.", "2. Eva Roth, SSV Ulm 13.02 sec.",
            "3. Mia Lenz, TSF Aalen 13.10 sec."]
    rows = ["Heat 1", *heat, "Final", *heat[:2], "3. Ida Kern, TS Essen 13.15 sec."]
    assert collapse_repeats(rows) == (rows, 0)


def test_a_second_copy_of_the_prose_still_goes():
    body = [INTRO, OUTRO, "The plan was drawn up with a dietitian and costs about sixty euros "
            "a week for two people, less if the lentils are bought in bulk."]
    kept, removed = collapse_repeats([*body, "Most Read", *body])
    assert kept == [*body, "Most Read"] and removed == 3


# -- prose that gives an address or an instruction -----------------------------------------

def test_prose_with_an_email_address_or_an_instruction_is_kept():
    email = ("Readers who want to take part in next year's survey can write to "
             "survey@food.example.com before the end of June, the editors said.")
    instruction = ("Register the allotment with the council before planting anything, "
                   "since unregistered plots are cleared every autumn without notice.")
    blocks = [p(INTRO), p(email), p("The survey found that most households waste about a "
                                    "fifth of the food they buy, mostly bread and salad."),
              p(instruction), p(OUTRO)]
    article = clean(page("What our readers waste", blocks))
    lines = lines_of(article)
    assert email in lines and instruction in lines, lines
    assert "All rights reserved" not in article.text


def test_a_contact_sign_off_and_a_newsletter_prompt_still_go():
    blocks = [p(INTRO), p(OUTRO), p("Write to Jane Roe at jane.roe@food.example.com"),
              p("Sign up for our weekly newsletter to get recipes in your inbox.")]
    article = clean(page("What our readers waste", blocks))
    assert article.text.split("\n") == [INTRO, OUTRO]


# -- a standfirst printed under the headline below the body ---------------------------------

BODY = [
    "The harbour authority approved the new ferry terminal on Monday after three years of "
    "objections from residents, fishermen and the town's two sailing clubs.",
    "Construction starts in the spring and should take eighteen months, the authority said, "
    "with the old terminal kept open until the new one is ready for passengers.",
    "Residents said they would keep watching the traffic plans, which they still consider "
    "too vague for a street that already carries the lorries of the fish market.",
]
HEADLINE = "Ferry terminal approved after three years of objections"
STANDFIRST = "Residents and fishermen lose their fight against the harbour plan"


def test_a_standfirst_between_two_copies_of_the_body_becomes_the_description():
    # The body, then the headline and standfirst again with a second copy of the body: the
    # layout of a page that prints its top both above and below the article. No meta
    # description: the printed standfirst is the only one.
    blocks = [*map(p, BODY), f"<h2>{HEADLINE}</h2>", p(STANDFIRST), *map(p, BODY)]
    article = clean(page(HEADLINE, blocks))
    assert article.description == STANDFIRST
    # Whichever copy of the body is kept, the standfirst is not lost: it is the description,
    # and where it still sits at the top of the body it stays there too.
    assert lines_of(article) in (BODY, [STANDFIRST, *BODY])


def test_a_declared_description_is_not_replaced():
    blocks = [*map(p, BODY), f"<h2>{HEADLINE}</h2>", p(STANDFIRST), *map(p, BODY)]
    head = '<meta name="description" content="The terminal opens in two years.">'
    article = clean(page(HEADLINE, blocks, head))
    assert article.description == "The terminal opens in two years."


# -- what was removed is counted ------------------------------------------------------------

def test_removed_words_counts_what_cleaning_took_out():
    blocks = [*map(p, BODY), f"<h2>{HEADLINE}</h2>", p(STANDFIRST), *map(p, BODY)]
    article = clean(page(HEADLINE, blocks))
    # The second copy of the body at least, and nothing of the kept text.
    assert article.word_count == word_count(article.text)
    assert article.removed_words >= sum(map(word_count, BODY))
    plain = clean(page("What our readers waste", [p(INTRO), p(OUTRO)]))
    assert plain.removed_words == word_count("What our readers waste")  # the headline line


def test_stats_and_export_show_the_pages_where_much_was_cut(tmp_path):
    """Ingest into a fresh database: the page that lost a second copy of its body is listed
    by `scrape stats`, and every exported row says how many words were removed."""
    scrape = str(Path(sys.executable).parent / "scrape")
    twice = tmp_path / "twice.html"
    twice.write_bytes(page(HEADLINE, [*map(p, BODY), f"<h2>{HEADLINE}</h2>", p(STANDFIRST),
                                      *map(p, BODY)]).body)
    once = tmp_path / "once.html"
    once.write_bytes(page("What our readers waste", [p(INTRO), p(OUTRO)]).body)
    db = tmp_path / "x.db"
    ingest = subprocess.run([scrape, "ingest", "--db", str(db), str(twice), str(once)],
                            capture_output=True, text=True, timeout=120)
    assert ingest.returncode == 0, ingest.stderr
    done = subprocess.run([scrape, "stats", "--json", "--db", str(db)], capture_output=True,
                          text=True, timeout=60)
    cut = json.loads(done.stdout)["much_cut"]
    assert cut["total"] == 1
    assert [Path(a["url"]).name for a in cut["articles"]] == ["twice.html"]
    assert cut["articles"][0]["removed_words"] >= sum(map(word_count, BODY))
    text = subprocess.run([scrape, "stats", "--db", str(db)], capture_output=True, text=True,
                          timeout=60).stdout
    assert "more than 20% of the extracted words removed: 1" in text
    export = subprocess.run([scrape, "export", "--db", str(db)], capture_output=True,
                            text=True, timeout=60)
    rows = {Path(r["url"]).name: r for r in map(json.loads, export.stdout.splitlines())}
    assert rows["once.html"]["removed_words"] == word_count("What our readers waste")
    assert rows["twice.html"]["removed_words"] == cut["articles"][0]["removed_words"]


def test_dated_lines_of_the_body_stay_and_a_dateline_at_the_top_goes():
    events = ["03.11.2025 - The Harbour Band - Town Hall", "Termin: 29.11.2025, 19 Uhr",
              "Einsendeschluss: 14.11.2025 (Poststempel)"]
    blocks = [p("Stand: 02.11.2025, 06:00 Uhr"), p(INTRO), ul(events), p(OUTRO)]
    article = clean(page("What is on in November", blocks))
    lines = lines_of(article)
    assert lines == [INTRO, *events, OUTRO], lines  # the dateline on top is not body


def test_an_article_whose_classes_name_a_feature_or_category_is_not_boilerplate():
    """WordPress writes the post's categories, tags and feature flags into its <article>'s
    class ("enable-pin-share", "category-no-newsletter-rss"): they say what the article has
    or is filed under, not that it is a share bar; with a long comment thread beside it,
    the article holds under half the page's text, so only the class decides."""
    story = [INTRO, OUTRO, "The plan was drawn up with a dietitian and costs about sixty "
             "euros a week for two people, less if the lentils are bought in bulk."]
    comments = "".join(
        f'<li class="comment"><p>{html.escape(f"Reader {i}")} says: ' + "I tried the plan "
        "for a week and it worked well for our family of four, though the children did "
        "not like the lentil soup at all and asked for pasta instead every single day."
        "</p></li>" for i in range(8))
    blocks = [f'<div class="post-body">{"".join(map(p, story))}</div>']
    doc = page("A week of meals for two", blocks)
    body = doc.body.decode().replace(
        "<article>", '<article class="post type-post enable-pin-share category-no-newsletter'
        '-rss tag-budget">').replace(
        "</main>", f'<section id="comments"><ol class="commentlist">{comments}</ol>'
        "</section></main>")
    data = body.encode()
    article = clean(Page(url=URL, final_url=URL, status=200, content_type="text/html",
                         body=data, encoding="utf-8", bytes=len(data)))
    assert lines_of(article) == story


def test_a_live_ticker_whose_entries_are_named_comments_is_kept():
    """A match report's minute-by-minute entries, in divs named "live-comment" and no <p>:
    the pre-pass reads the name as a comment thread and removes every entry; the page as
    served is extracted instead, since the extraction holds almost none of its text."""
    moments = [f"{minute}' " + text for minute, text in (
        (3, "Lorient press high from the kick-off and win two corners in the first minutes."),
        (11, "A long ball from the back finds the striker, whose shot goes just wide."),
        (24, "Lyon take control of the midfield and keep the ball for long spells now."),
        (38, "The referee shows a yellow card after a late tackle on the right wing."),
        (52, "After the break Lorient come out with more energy and force a fine save."),
        (65, "Goal! A header from the corner, and the home crowd is on its feet at last."),
        (73, "Lyon equalise with a low shot from the edge of the box into the far corner."),
        (77, "Both coaches make changes, bringing on fresh legs for the last quarter hour."),
        (81, "Lorient hit the post from a free kick, and the ball rolls along the line."),
        (84, "A counter-attack by Lyon ends with a shot straight at the keeper's chest."),
        (88, "Four minutes of added time are shown on the board by the fourth official."),
        (90, "Full time: a draw that neither side will be entirely happy with tonight."))]
    entries = "".join(f'<div class="live-comment"><div class="live-comment-body">'
                      f"{html.escape(m)}</div></div>" for m in moments)
    doc = page("Lorient 1-1 Lyon, live", [f'<div class="live-comments">{entries}</div>'])
    article = clean(doc)
    for moment in moments:
        assert moment in article.text, (moment, article.text)


def test_a_decomposed_page_keeps_its_text_as_published_and_is_found_by_search(tmp_path):
    import unicodedata

    scrape = str(Path(sys.executable).parent / "scrape")
    story = ["Die Schüler der Oberstufe präsentierten am Montag ihre Ergebnisse vor dem "
             "Gemeinderat in München, der das Projekt im Frühjahr beschlossen hatte.",
             "Die Stadt will die Räume der alten Bibliothek für die Gruppe öffnen, sobald "
             "die Umbauarbeiten im Erdgeschoss abgeschlossen sind, sagte der Bürgermeister."]
    decomposed = [unicodedata.normalize("NFD", s) for s in story]
    path = tmp_path / "nfd.html"
    path.write_bytes(page("Schüler in München", [p(s) for s in decomposed]).body)
    db = tmp_path / "x.db"
    done = subprocess.run([scrape, "ingest", "--db", str(db), str(path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    export = subprocess.run([scrape, "export", "--db", str(db)], capture_output=True, text=True,
                            timeout=60)
    row = json.loads(export.stdout)
    assert row["text"].split("\n") == decomposed  # not recomposed
    assert row["word_count"] == sum(map(word_count, story))
    hits = subprocess.run([scrape, "search", "--json", "--db", str(db), "München"],
                          capture_output=True, text=True, timeout=60)
    assert [json.loads(line)["id"] for line in hits.stdout.splitlines()] == [row["id"]]

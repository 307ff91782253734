"""The shared bar chart: scaled to the largest value, every number beside the picture."""

from django.template.loader import render_to_string

from sos_tracker.charts import LABEL_WIDTH, VALUE_WIDTH, WIDTH, Bar, bar_chart


def test_the_largest_bar_fills_the_plot_and_the_others_scale_with_it():
    chart = bar_chart([("Labor", 10), ("Housing", 5), ("Climate", 0)], title="Sectors", slug="s")
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    assert [bar.width for bar in chart.bars] == [plot, plot / 2, 1.0]
    assert chart.total == 15
    assert chart.summary == "Sectors: 3 bars, 15 people in all; the largest is Labor with 10."


def test_an_empty_chart_says_so_and_draws_nothing_wide():
    chart = bar_chart([("A", 0)], title="Funnel", slug="f")
    assert chart.summary == "Funnel: none yet."
    assert chart.bars[0].width == 1.0


def test_the_template_shows_every_number_and_note_in_a_table():
    chart = bar_chart(
        [Bar("Invited", 8, note="80 %"), Bar("Joined", 3, note="38 %", href="/x/")],
        title="Funnel",
        slug="funnel-1",
        note_heading="Conversion",
    )
    html = render_to_string("charts/bars.html", {"chart": chart})
    assert 'aria-labelledby="bars-funnel-1-title bars-funnel-1-desc"' in html
    assert '<th scope="col" class="num">Conversion</th>' in html
    for text in ("Invited", ">8<", "80 %", '<a href="/x/">Joined</a>', ">3<", "38 %"):
        assert text in html

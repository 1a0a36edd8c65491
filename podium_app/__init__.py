"""The web page's parts, so app.py stays a short entry point: markdown-safe text (text.py), the URL as the
page's state (url_state.py), the results page (results_page.py) and the whole-transcript page
(transcript_page.py). Thin shells over indexer.search: no search logic here."""

"""Sphinx's configuration of the report (fbss_build.report runs Sphinx with this folder as its
configuration folder; the footer and the title come from it as overrides). docs/report.md explains
each choice."""
import html
import os

project = html_title = "Failed back surgery syndrome: what the clinic pages claim"
copyright = ""
extensions = ["myst_nb"]
nb_execution_mode = "off"  # the notebooks were run by make; never run here
nb_merge_streams = True
smartquotes = False  # quotes from the pages are shown exactly as recorded
myst_enable_extensions = ["colon_fence"]
suppress_warnings = ["myst.header"]  # a notebook's headings may skip a level
html_theme = "sphinx_book_theme"  # its assets (fonts, icons, scripts) ship in the package: nothing is fetched
html_theme_options = {"show_toc_level": 1, "use_download_button": False, "use_fullscreen_button": False}
html_static_path = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "_static")]
html_css_files = ["report.css"]
html_copy_source = False  # no _sources/ copies of the pages
html_show_sourcelink = False
html_show_sphinx = False
exclude_patterns = ["_html", "_doctrees"]  # build/ folders inside the staging folder


def _escape_titles(app, pagename, templatename, context, doctree):
    """sphinx-book-theme puts the page's and the site's titles in the context as plain text (entities
    decoded) and prints them unescaped (layout.html's print heading, the sidebar): escaped here, after
    the theme has set them, so a title that holds text from the data stays text."""
    for key in ("pagetitle", "root_title"):
        if isinstance(context.get(key), str):
            context[key] = html.escape(context[key])


def setup(app):
    app.connect("html-page-context", _escape_titles, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

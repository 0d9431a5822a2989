"""The published book, opened in a real browser (headless Chromium).

Two books are checked:

1. **A tiny synthetic book, always** (where Chromium and Jupyter Book are installed). It is
   built in a temporary folder with the repository's own ``jupyter-book.yml``, from three
   synthetic chapters executed by :func:`lobutils.runner.chapters.run_chapter` (so with the
   runner's Plotly renderer, which :mod:`lobutils.plots` turns into ``book``, as in ``make book``): an intro, a chapter with a heatmap,
   and a chapter with a results table. Building the real book needs every chapter executed
   (many minutes), so the test builds one that exercises the same configuration, renderer,
   theme and navigation in about a minute.
2. **The real book, when it has been built** (``make book`` writes ``_build/html``; set
   ``LOBUTILS_BOOK_HTML`` to check another folder). A page that is missing, or that was built
   from a notebook with no outputs (never executed), is skipped with the reason.

On each book the test checks, in the DOM that Chromium dumps after the page's JavaScript ran:
the intro page; that chapter 2's depth heatmap is a Plotly figure that was *drawn* (an
``svg.main-svg`` and a heatmap layer with its image inside the figure's div, which only
plotly.js produces; the raw HTML holds just the JSON); chapter 6's results table; and the
navigation: the intro's "next" link points at chapter 1, whose page loads and links back.
The real book's chapter 3, and the synthetic intro, also have their formulas checked *offline*
(Chromium resolves no host name): the page loads MathJax from the book's own ``_static/`` (the
copy vendored in ``_vendor/mathjax/``, see ``jupyter-book.yml``), once, from no CDN, and every
``$...$``/``$$...$$`` became an SVG ``mjx-container`` (raw TeX is what a reader sees otherwise).
Each figure page loads plotly.js once, from the book's ``_static/plotly/`` (no page inlines the
4.8 MB library), and generated prose (``lobutils.report.say``) has its maths rendered too.
Screenshots go to ``reports/browser/`` (``$LOBUTILS_REPORTS_DIR/browser``).

One check needs neither Chromium nor a built book: that ``jupyter-book.yml`` points MathJax at
the vendored file, and that Jupyter Book will not also load that file on every page.

Skipped with a message where no Chromium is found (``chromium``, ``chromium-headless-shell``,
``chromium-browser``, ``google-chrome``, or ``$LOBUTILS_CHROMIUM``). On Debian:
``apt-get install chromium``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.request import url2pathname

import pytest
import yaml

from lobutils import paths
from lobutils.runner import chapters

_NAMES = ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """The Chromium executable: ``$LOBUTILS_CHROMIUM``, else the first of _NAMES on PATH."""
    env = os.environ.get("LOBUTILS_CHROMIUM", "").strip()
    if env:
        return env if shutil.which(env) or Path(env).is_file() else None
    return next((shutil.which(n) for n in _NAMES if shutil.which(n)), None)


CHROMIUM = find_chromium()
try:
    import bs4
except ImportError:  # the book extra
    bs4 = None
# every test but test_vendored_mathjax_is_configured opens a browser
browser = pytest.mark.skipif(
    CHROMIUM is None or bs4 is None,
    reason="Chromium not found (looked for chromium, chromium-headless-shell, "
    "chromium-browser, google-chrome, $LOBUTILS_CHROMIUM), or beautifulsoup4 (the book extra) "
    "is not installed: the browser test is skipped; install Chromium with "
    "`apt-get install chromium`",
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
# no host name resolves: a page that needs the network (a CDN) fails as it would offline
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND"]
SHOTS = paths.reports_dir() / "browser"


def _chromium(
    args: list[str],
    profile: Path,
    budget_ms: int = 5000,
    timeout: float = 120,
    offline: bool = False,
) -> str:
    # --virtual-time-budget: run the page's scripts (plotly.js) for this much virtual time
    cmd = [CHROMIUM, *FLAGS, f"--virtual-time-budget={budget_ms}", f"--user-data-dir={profile}"]
    cmd += (OFFLINE if offline else []) + args
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def dump_dom(url: str, profile: Path, offline: bool = False):
    """The page's DOM after its scripts ran, parsed."""
    html = _chromium(["--dump-dom", url], profile, offline=offline)
    assert len(html) > 1000, f"{url}: the browser returned an almost empty page"
    return bs4.BeautifulSoup(html, "html.parser")


def screenshot(
    url: str, out: Path, profile: Path, height: int = 1400, offline: bool = False
) -> Path:
    """A 1280-px-wide screenshot of the top of a page, or of a section (``url#id``).

    A section is shot through a one-iframe page: headless Chromium scrolls an iframe to its
    fragment, but not a top-level page it screenshots.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    target = url
    if urldefrag(url).fragment:
        frame = out.with_suffix(".frame.html")
        frame.write_text(
            '<html><body style="margin:0"><iframe src="' + url + '" style="border:0;'
            f'width:1280px;height:{height}px"></iframe></body></html>'
        )
        target = frame.as_uri()
    shot = [f"--window-size=1280,{height}", f"--screenshot={out}", target]
    _chromium(shot, profile, 10000, offline=offline)
    if target != url:
        Path(url2pathname(urlparse(target).path)).unlink()
    assert out.is_file() and out.stat().st_size > 20_000, f"{out}: the screenshot is blank"
    return out


def _text(node) -> str:
    return " ".join(node.get_text(" ").split()).replace("#", "").strip()


def check_intro(html_dir: Path, profile: Path, title: str) -> str:
    """The intro page shows its title and a "next" link; returns the link's URL."""
    url = (html_dir / "intro.html").as_uri()
    dom = dump_dom(url, profile)
    h1 = dom.find("h1")
    assert h1 is not None and title in _text(h1), f"intro: h1 is {h1}"
    assert dom.select("nav.bd-docs-nav a, .bd-sidebar a"), "intro: no navigation sidebar"
    nxt = dom.select_one("a.right-next")
    assert nxt is not None and nxt.get("href"), "intro: no next-page link"
    return urljoin(url, nxt["href"])


def check_chapter_page(url: str, profile: Path, title: str, back_to: str) -> None:
    """A chapter page loads, shows its title, and its "previous" link goes back."""
    dom = dump_dom(url, profile)
    h1 = dom.find("h1")
    assert h1 is not None and _text(h1) == title, f"{url}: h1 {h1} != {title!r}"
    prev = dom.select_one("a.left-prev")
    assert prev is not None and urljoin(url, prev["href"]).endswith(back_to), prev


def check_heatmap(url: str, profile: Path) -> str:
    """A Plotly heatmap was drawn on the page; returns the id of its section."""
    dom = dump_dom(url, profile)
    plots = dom.select("div.plotly-graph-div")
    assert plots, f"{url}: no plotly figure div"
    drawn = [p for p in plots if p.select("svg.main-svg")]
    assert drawn, f"{url}: {len(plots)} plotly divs, none drawn (no svg.main-svg): no plotly.js?"
    heat = [p for p in drawn if p.select("g.hm image")]
    assert heat, f"{url}: no drawn heatmap (g.hm image) among {len(drawn)} figures"
    image = heat[0].select_one("g.hm image")
    href = image.get("href") or image.get("xlink:href") or ""
    assert href.startswith("data:image/png"), "the heatmap layer has no rendered image"
    section = heat[0].find_parent("section", id=True)
    return section["id"] if section else ""


PAGE_LIMIT = 3_000_000
"""Bytes a chapter page may weigh, its figures' data included: less than plotly.js alone
(4.8 MB), which is loaded from _static/, not inlined."""


def check_plotly_once(page: Path, limit: int = PAGE_LIMIT) -> None:
    """The page loads plotly.js from one file of the book, and stays small.

    The figures' outputs hold no copy of the library (:class:`lobutils.plots.style.BookRenderer`);
    the page's head loads ``_static/plotly/plotly.min.js`` (the local extension
    ``_ext/plotly_js.py``), a file that exists in the built book.
    """
    size = page.stat().st_size
    assert size < limit, f"{page.name} weighs {size:,} bytes: plotly.js inlined again?"
    raw = bs4.BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    srcs = [s["src"] for s in raw.select("script[src]") if "plotly" in s["src"].lower()]
    assert len(srcs) == 1, f"{page.name}: plotly.js is loaded by {srcs}, not by one script"
    local = Path(url2pathname(urlparse(urljoin(page.as_uri(), srcs[0])).path))
    assert local.is_file() and "/_static/" in local.as_posix(), f"{page.name}: {srcs[0]}"
    assert local.stat().st_size > 1_000_000, f"{local} is not plotly.js"


def check_results_table(url: str, profile: Path, columns: set[str]) -> tuple[int, str]:
    """The page holds a pandas results table with these columns; returns its rows and section."""
    dom = dump_dom(url, profile)
    for table in dom.select("table.dataframe"):
        head = {_text(th) for th in table.select("thead th")}
        rows = table.select("tbody tr")
        if columns <= head and rows:
            section = table.find_parent("section", id=True)
            return len(rows), section["id"] if section else ""
    raise AssertionError(f"{url}: no results table with columns {sorted(columns)}")


def _mathjax_scripts(dom) -> list[str]:
    """The src of the page's own MathJax <script>s (not those inside notebook cell outputs)."""
    return [
        s["src"]
        for s in dom.select("script[src]")
        if "mathjax" in s["src"].lower() and s.find_parent("div", class_="cell_output") is None
    ]


def check_math(page: Path, profile: Path, least: int) -> str:
    """The page's formulas render offline, with the book's own MathJax; returns a math section.

    In the built HTML the page loads MathJax once, from a file of the book that exists; in the
    DOM after an offline load, every ``span.math``/``div.math`` (at least ``least`` of them)
    holds an SVG ``mjx-container`` and none is a TeX error.
    """
    raw = bs4.BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    srcs = _mathjax_scripts(raw)
    assert len(srcs) == 1, f"{page.name}: MathJax is loaded by {srcs}, not by one local script"
    assert "://" not in srcs[0] and not srcs[0].startswith("//"), f"{page.name}: {srcs[0]}"
    local = Path(url2pathname(urlparse(urljoin(page.as_uri(), srcs[0])).path))
    assert local.is_file(), f"{page.name} loads MathJax from {srcs[0]}, which is not in the book"
    assert "/_static/" in local.as_posix(), local

    dom = dump_dom(page.as_uri(), profile, offline=True)
    maths = dom.select("span.math, div.math")
    assert len(maths) >= least, f"{page.name}: {len(maths)} formulas, expected {least} or more"
    raw_tex = [_text(m)[:60] for m in maths if m.select_one("mjx-container svg") is None]
    assert not raw_tex, f"{page.name}: {len(raw_tex)} formulas not rendered, e.g. {raw_tex[:3]}"
    errors = dom.select('[data-mml-node="merror"], mjx-merror')
    assert not errors, f"{page.name}: MathJax errors: {[_text(e)[:60] for e in errors[:3]]}"
    section = maths[0].find_parent("section", id=True)
    return section["id"] if section else ""


# ------------------------------------------------------------------------------ a synthetic book

INTRO = r"""# A synthetic book

The intro page of a book built by the browser test, with inline math, the mid
$m_t = (a_t + b_t)/2$, and a display:

$$
\mathrm{VAMP}_v = \frac{P^{\mathrm{bid}}_v + P^{\mathrm{ask}}_v}{2}, \qquad
\boldsymbol{x} \in \mathbb{R}^{L}.
$$
"""

CH1 = """\
# %% [markdown]
# # First synthetic chapter
#
# Text only.

# %% tags=["parameters"]
REPORT_DIR = None

# %%
print("chapter one")
"""

CH2 = """\
# %% [markdown]
# # Second synthetic chapter
#
# ## The depth heatmap

# %% tags=["parameters"]
LEVELS = 8
REPORT_DIR = None

# %%
import numpy as np
import plotly.graph_objects as go

import lobutils.plots.style  # noqa: F401  (as every chapter that draws: the book's renderer)
from lobutils.report import say

say(rf"Generated prose with maths: $R^2_{{oos}} = {0.012:.3f}$ and $\\alpha = {0.05}$.")

z = np.add.outer(np.arange(LEVELS), np.arange(30)) % 7
go.Figure(go.Heatmap(z=z, colorscale="Viridis")).update_layout(title="depth heatmap").show()
"""

CH6 = """\
# %% [markdown]
# # Third synthetic chapter
#
# ## Results

# %% tags=["parameters"]
REPORT_DIR = None

# %%
import pandas as pd

pd.DataFrame({"segment": ["a", "b"], "model": ["linear", "xgboost"], "metric": ["r2_oos"] * 2,
              "value": [0.1, 0.2], "ci_low": [0.0, 0.1], "ci_high": [0.2, 0.3]})
"""

TOC = """\
format: jb-book
root: intro
chapters:
  - file: notebooks/01_first
  - file: notebooks/02_heatmap
  - file: notebooks/06_results
"""


@pytest.fixture(scope="module")
def synthetic_book(tmp_path_factory) -> Path:
    jb = Path(sys.executable).with_name("jupyter-book")
    if not jb.is_file() and not shutil.which("jupyter-book"):
        pytest.skip("jupyter-book is not installed (the book extra): cannot build a book")
    root = tmp_path_factory.mktemp("book")
    for name in ("jupyter-book.yml", "references.bib"):
        shutil.copy(paths.REPO_ROOT / name, root / name)
    folders = _book_sphinx_config().get("html_static_path", [])  # the vendored MathJax
    folders += list(_book_config().get("sphinx", {}).get("local_extensions", {}).values())
    for folder in folders:
        shutil.copytree(paths.REPO_ROOT / folder, root / folder)
    (root / "intro.md").write_text(INTRO)
    (root / "_toc.yml").write_text(TOC)
    for stem, text in (("01_first", CH1), ("02_heatmap", CH2), ("06_results", CH6)):
        src = root / "notebooks" / f"{stem}.py"
        src.parent.mkdir(exist_ok=True)
        src.write_text(textwrap.dedent(text))
        chapters.run_chapter(src, report_dir=root / "reports" / stem, timeout=120)
    cmd = [
        str(jb) if jb.is_file() else "jupyter-book",
        "build",
        str(root),
        "--config",
        str(root / "jupyter-book.yml"),
        "--toc",
        str(root / "_toc.yml"),
        "-W",
        "--keep-going",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        f"the book build failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )
    return root / "_build" / "html"


@browser
@pytest.mark.notebook  # executes its synthetic chapters through papermill
def test_synthetic_book_in_the_browser(synthetic_book, tmp_path):
    html = synthetic_book
    profile = tmp_path / "profile"
    # the intro, and navigation to chapter 1 and back
    nxt = check_intro(html, profile, "A synthetic book")
    assert nxt == (html / "notebooks" / "01_first.html").as_uri()
    check_chapter_page(nxt, profile, "First synthetic chapter", "/intro.html")
    # the heatmap is drawn by plotly.js, loaded once from the book's _static/plotly/
    page2 = (html / "notebooks" / "02_heatmap.html").as_uri()
    section = check_heatmap(page2, profile)
    assert section == "the-depth-heatmap"
    check_plotly_once(html / "notebooks" / "02_heatmap.html", limit=300_000)
    # generated prose (lobutils.report.say) renders its maths, offline
    check_math(html / "notebooks" / "02_heatmap.html", profile, least=2)
    # the results table
    rows, section = check_results_table(
        (html / "notebooks" / "06_results.html").as_uri(), profile, {"model", "value", "ci_low"}
    )
    assert (rows, section) == (2, "results")
    screenshot((html / "intro.html").as_uri(), SHOTS / "synthetic_intro.png", profile)
    screenshot(f"{page2}#{section}", SHOTS / "synthetic_heatmap.png", profile, 900)
    # the intro's two formulas render offline, with the book's own MathJax
    check_math(html / "intro.html", profile, least=2)
    # a page without math does not load MathJax at all
    raw = (html / "notebooks" / "06_results.html").read_text(encoding="utf-8")
    assert not _mathjax_scripts(bs4.BeautifulSoup(raw, "html.parser"))


# ------------------------------------------------------------------------------ the real book

BOOK_HTML = Path(os.environ.get("LOBUTILS_BOOK_HTML") or paths.REPO_ROOT / "_build" / "html")


def _page(stem: str) -> Path:
    """The built page of a chapter; skips when it is absent or was never executed."""
    if not (BOOK_HTML / "intro.html").is_file():
        pytest.skip(f"no built book at {BOOK_HTML} (run `make book`)")
    hits = sorted((BOOK_HTML / "notebooks").glob(f"{stem}*.html"))
    if not hits:
        pytest.skip(f"the built book has no page for chapter {stem} (run `make book`)")
    raw = bs4.BeautifulSoup(hits[0].read_text(encoding="utf-8", errors="replace"), "html.parser")
    outputs = len(raw.select("div.cell_output"))
    if outputs < 5:
        pytest.skip(
            f"{hits[0].name} was built from a notebook that was not executed ({outputs} cell "
            "outputs): run `make book`"
        )
    return hits[0]


def _title(stem: str) -> str:
    src = next((paths.NOTEBOOKS_DIR).glob(f"{stem}_*.py"))
    for line in src.read_text(encoding="utf-8").splitlines():
        if line.startswith("# # "):
            return line[4:].strip()
    raise AssertionError(f"{src.name} has no title")


@browser
def test_real_book_intro_and_navigation(tmp_path):
    page1 = _page("01")
    profile = tmp_path / "profile"
    nxt = check_intro(BOOK_HTML, profile, "Limit order books in crypto markets")
    assert nxt == page1.as_uri(), f"the intro's next page is {nxt}, not chapter 1"
    check_chapter_page(nxt, profile, _title("01"), "/intro.html")
    screenshot((BOOK_HTML / "intro.html").as_uri(), SHOTS / "book_intro.png", profile)
    screenshot(nxt, SHOTS / "book_chapter01.png", profile)


@browser
def test_real_book_depth_heatmap(tmp_path):
    check_plotly_once(_page("02"))
    page = _page("02").as_uri()
    profile = tmp_path / "profile"
    section = check_heatmap(page, profile)
    screenshot(f"{page}#{section}", SHOTS / "book_chapter02_heatmap.png", profile)


@browser
def test_real_book_results_table(tmp_path):
    page = _page("06").as_uri()
    profile = tmp_path / "profile"
    # the chapter's main table: per target and horizon, each model's wins over its baselines
    # (the full results table, with every interval, is in reports/06_ml_zoo/)
    rows, section = check_results_table(
        page, profile, {"target", "horizon", "linear", "tree", "forest", "xgboost", "svm", "mlp"}
    )
    assert rows >= 2
    screenshot(f"{page}#{section}", SHOTS / "book_chapter06_results.png", profile)


@browser
def test_real_book_math_offline(tmp_path):
    page = _page("03")
    profile = tmp_path / "profile"
    section = check_math(page, profile, least=20)
    url = f"{page.as_uri()}#{section}"
    screenshot(url, SHOTS / "book_chapter03_math.png", profile, 1000, offline=True)


# ------------------------------------------------------------------------------ the vendored MathJax


def _book_config() -> dict:
    return yaml.safe_load((paths.REPO_ROOT / "jupyter-book.yml").read_text(encoding="utf-8"))


def _book_sphinx_config() -> dict:
    return (_book_config().get("sphinx") or {}).get("config") or {}


def test_vendored_mathjax_is_configured():
    """jupyter-book.yml loads MathJax from a file in the repository, which Jupyter Book copies.

    Needs no browser and no built book. Sphinx reads a ``mathjax_path`` without a scheme
    relative to the built ``_static/``, into which it copies each ``html_static_path`` folder.
    Jupyter Book 1 adds every ``.js`` file of those folders to every page (``html_js_files``)
    as soon as a ``_static/`` folder exists at the root: MathJax would then load twice.
    """
    config = _book_sphinx_config()
    mathjax = config.get("mathjax_path", "")
    assert mathjax and "://" not in mathjax and not mathjax.startswith("/"), (
        f"mathjax_path is {mathjax!r}: the book needs the network to show its formulas"
    )
    static = [paths.REPO_ROOT / d for d in config.get("html_static_path", [])]
    found = [d / mathjax for d in static if (d / mathjax).is_file()]
    assert found, f"mathjax_path {mathjax!r} is in none of the html_static_path folders {static}"
    vendored = found[0]
    assert vendored.stat().st_size > 1_000_000, f"{vendored} is not the MathJax bundle"
    bundle = vendored.read_bytes()
    assert b"MathJax" in bundle and b"svg" in bundle, f"{vendored}: not MathJax's SVG output"
    assert re.search(rb'"3\.\d+\.\d+"', bundle), f"{vendored}: not MathJax 3"
    for name in ("LICENSE", "README.md"):
        assert (vendored.parent / name).is_file(), f"no {name} beside {vendored}"
    js = [p for d in static for p in d.rglob("*.js")]
    assert not (js and (paths.REPO_ROOT / "_static").is_dir()), (
        "a _static/ folder at the root makes Jupyter Book add every .js file of the static "
        f"folders to every page, MathJax included ({js[:3]}): move the files of _static/ "
        "into one of the html_static_path folders of jupyter-book.yml"
    )


def test_generated_prose_and_plotly_are_configured():
    """Needs no browser: say() outputs are parsed as MyST, and plotly.js comes from _ext/.

    ``nb_render_markdown_format: myst`` makes myst-nb parse ``text/markdown`` outputs with the
    book's MyST extensions (``dollarmath`` among them), so their ``$...$`` becomes maths; the
    default, CommonMark, leaves raw TeX on the page. The local extension copies the installed
    plotly's ``plotly.min.js`` into the built ``_static/`` and loads it on every page.
    """
    book = _book_config()
    sphinx = book.get("sphinx") or {}
    assert _book_sphinx_config().get("nb_render_markdown_format") == "myst"
    assert "dollarmath" in book["parse"]["myst_enable_extensions"]
    local = sphinx.get("local_extensions") or {}
    assert local.get("plotly_js") == "_ext", local
    sys.path.insert(0, str(paths.REPO_ROOT / "_ext"))
    try:
        import plotly_js
    finally:
        sys.path.pop(0)
    assert plotly_js.plotly_js_source().stat().st_size > 1_000_000

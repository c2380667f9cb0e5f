"""The HTML report: the Markdown report's content as one self-contained page.

Everything is inline (CSS, no scripts, no fonts, no images); agent text is untrusted, so its
raw HTML is escaped and its links are shown as text instead of being followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from deepreview.render.languages import language_for
from deepreview.render.outline import (
    IN_JSON,
    NO_COMMAND,
    SKIPPED_INTRO,
    Cell,
    Code,
    CommitRef,
    CommitsCell,
    FindingItem,
    Link,
    PriorNote,
    PullRequestCell,
    ReproductionEntry,
    ReproductionsSection,
    ReviewersCell,
    Text,
    VerdictCell,
    outline,
    step_line,
    web_url,
)
from deepreview.render.reviewers import (
    agent_display,
    failure_reason,
    find_run,
    is_failed,
    reviewer_name,
)
from deepreview.schema import (
    SEVERITIES,
    AgentRun,
    ConsolidatedFinding,
    FeedbackComment,
    Location,
    Report,
    ReproStep,
)
from deepreview.scope import Scope
from deepreview.version import __version__
from deepreview.words import plural

#: How many distinct agent colours the stylesheet defines (`.agent-0` ...).
AGENT_COLOURS = 8

TEMPLATES = Environment(
    loader=PackageLoader("deepreview.render", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def render_html(report: Report) -> str:
    """The whole report as one HTML page that loads nothing from anywhere."""
    view = _View(report)
    return TEMPLATES.get_template("report.html.j2").render(
        report=report,
        doc=view.doc,
        v=view,
        md=view.md,
        in_json=IN_JSON,
        no_command=NO_COMMAND,
        skipped_intro=SKIPPED_INTRO,
        plural=plural,
        version=__version__,
    )


# --------------------------------------------------------------------------- anchors


def slug(text: str) -> str:
    """`Executive Summary` -> `executive-summary`; `section` when nothing is left."""
    return _SLUG_JUNK.sub("-", text.lower()).strip("-") or "section"


class Anchors:
    """Unique heading ids within one page."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def new(self, text: str) -> str:
        """A fresh id for a heading titled `text`: its slug, suffixed when taken."""
        base = slug(text)
        anchor, n = base, 1
        while anchor in self._used:
            n += 1
            anchor = f"{base}-{n}"
        self._used.add(anchor)
        return anchor


def heading(level: int, anchor: str, content: str | Markup) -> Markup:
    """`<hN id=…>` with a visible `#` link to itself; `content` is escaped unless Markup."""
    return Markup(
        '<h{0} id="{1}"><a class="anchor" href="#{1}" aria-label="Link to this heading">#</a> '
        "{2}</h{0}>\n"
    ).format(level, anchor, content)


# --------------------------------------------------------------------------- code


def _diff_class(line: str) -> str:
    if line.startswith(("+++ ", "--- ", "diff ", "index ")):
        return "d-file"
    if line.startswith("@@"):
        return "d-hunk"
    if line.startswith("+"):
        return "d-add"
    if line.startswith("-"):
        return "d-del"
    return ""


def code_block(code: str, info: str = "") -> Markup:
    """A `<pre>` block labelled with its fence info; `diff` lines coloured by their marker."""
    lang = info.split(maxsplit=1)[0] if info.strip() else ""
    body = code.rstrip("\n")
    if lang == "diff":
        lines = (
            Markup('<span class="{}">{}</span>').format(_diff_class(line), line)
            for line in body.split("\n")
        )
        body_html = Markup("\n").join(lines)
    else:
        body_html = _highlighted(body, lang)
    return Markup('<pre class="code"{}><code{}>{}</code></pre>\n').format(
        Markup(' data-lang="{}"').format(info.strip()) if info.strip() else "",
        Markup(' class="language-{}"').format(lang) if lang else "",
        body_html,
    )


def _highlighted(code: str, lang: str) -> Markup:
    """`code` as HTML with Pygments token classes (`hl-k`, `hl-s`, ...) when `lang` names a
    known lexer, else plain escaped text. Pygments escapes the code itself."""
    try:
        lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=False) if lang else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return escape(code)
    html = highlight(code, lexer, _FORMATTER)
    return Markup(html[:-1] if html.endswith("\n") and not code.endswith("\n") else html)  # nosec B704


_FORMATTER = HtmlFormatter(nowrap=True, classprefix="hl-")


# --------------------------------------------------------------------------- agent Markdown


def _heading_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    level = min(6, int(tokens[idx].tag[1]) + env["shift"])
    text = tokens[idx + 1].content if idx + 1 < len(tokens) else ""
    anchor = env["anchors"].new(f"{env['prefix']} {text}")
    return Markup('<h{0} id="{1}"><a class="anchor" href="#{1}">#</a> ').format(level, anchor)


def _heading_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f"</h{min(6, int(tokens[idx].tag[1]) + env['shift'])}>\n"


def _link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    href = str(tokens[idx].attrGet("href") or "")
    if href.startswith("#"):
        return str(Markup('<a href="{}">').format(href))
    if web_url(href):
        return str(Markup('<a href="{}" rel="nofollow noopener noreferrer">').format(href))
    return '<span class="link">'


def _link_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    level = tokens[idx].level
    opening = next(t for t in reversed(tokens[:idx]) if t.type == "link_open" and t.level == level)
    href = str(opening.attrGet("href") or "")
    if href.startswith("#") or web_url(href):
        return "</a>"
    if opening.markup == "autolink":
        return "</span>"
    return str(Markup('</span> <span class="url">&lt;{}&gt;</span>').format(href))


_BARE_URL = re.compile(r"https?://[^\s<>()\[\]\"'`]*[^\s<>()\[\]\"'`.,;:!?]")


def _linkify(state: StateCore) -> None:
    """Bare http(s) addresses in text become links (not inside links or code)."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        out: list[Token] = []
        depth = 0
        for tok in block.children:
            depth += {"link_open": 1, "link_close": -1}.get(tok.type, 0)
            if tok.type != "text" or depth or not _BARE_URL.search(tok.content):
                out.append(tok)
                continue
            pos = 0
            for match in _BARE_URL.finditer(tok.content):
                if match.start() > pos:
                    out.append(_text(tok.content[pos : match.start()], tok.level))
                opening = Token("link_open", "a", 1, level=tok.level, markup="linkify")
                opening.attrSet("href", match.group())
                closing = Token("link_close", "a", -1, level=tok.level, markup="linkify")
                out += [opening, _text(match.group(), tok.level + 1), closing]
                pos = match.end()
            if pos < len(tok.content):
                out.append(_text(tok.content[pos:], tok.level))
        block.children = out


def _text(content: str, level: int) -> Token:
    return Token("text", "", 0, content=content, level=level)


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"html": False, "highlight": lambda code, lang, attrs: str(code_block(code, lang))},
    )
    md.enable(["table", "strikethrough"]).disable("image")
    md.add_render_rule("heading_open", _heading_open)
    md.add_render_rule("heading_close", _heading_close)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    md.core.ruler.push("bare_urls", _linkify)
    return md


class AgentMarkdown:
    """Untrusted Markdown to HTML: raw HTML escaped, links inert, headings anchored."""

    def __init__(self, anchors: Anchors) -> None:
        self._anchors = anchors

    def block(self, text: str, prefix: str = "", shift: int = 3) -> Markup:
        """Block Markdown; its headings move `shift` levels down, ids start with `prefix`."""
        env = {"anchors": self._anchors, "prefix": prefix, "shift": shift}
        # markdown-it runs with raw HTML off and inert links: its output is escaped markup.
        return Markup(_markdown().render(text, env))  # nosec B704

    def inline(self, text: str) -> Markup:
        """One line of inline Markdown (code spans, emphasis), line breaks folded."""
        return Markup(_markdown().renderInline(" ".join(text.split())))  # nosec B704


# --------------------------------------------------------------------------- the page's helpers


@dataclass(frozen=True)
class Filters:
    """What the findings can be filtered by: severities, scopes, (run index, reviewer name)."""

    severities: tuple[str, ...]
    scopes: tuple[str, ...]
    reviewers: tuple[tuple[int, str], ...]


def _link(content: str | Markup, url: str | None) -> Markup:
    safe = web_url(url)
    if safe is None:
        return escape(content)
    return Markup('<a href="{}">{}</a>').format(safe, content)


class _View:
    """What the template needs beyond the outline."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.doc = outline(report)
        self.anchors = Anchors()
        self.md = AgentMarkdown(self.anchors)
        self._order = {run.agent: n for n, run in enumerate(report.runs)}
        self._colour = {agent: n % AGENT_COLOURS for agent, n in self._order.items()}
        self._links = report.target.links
        titles = [self.doc.title, *(section.title for section in self.doc.sections)]
        # Section and finding ids are taken first, so embedded headings never displace them.
        self._reserved = {title: self.anchors.new(title) for title in titles}
        self._findings = {f.id: self.anchors.new(f.id) for f in report.findings}
        self._reserved.update(self._findings)
        self._repros = {
            e.anchor: self.anchors.new(e.anchor)
            for section in self.doc.sections
            if isinstance(section, ReproductionsSection)
            for e in section.entries
        }
        #: The table of contents: every section's title and id.
        self.toc = [(title, self._reserved[title]) for title in titles[1:]]

    def commit(self, commit: CommitRef) -> Markup:
        """`sha subject`, the sha linked to the commit on the forge when known."""
        sha = Markup("<code>{}</code>").format(commit.sha)
        return Markup("{} {}").format(_link(sha, commit.url), self.md.inline(commit.subject))

    def _reserved_anchor(self, title: str) -> str:
        return next(anchor for t, anchor in self.toc if t == title)

    def finding_link(self, finding_id: str) -> Markup:
        """A link to the consolidated finding `finding_id`; plain text when there is none."""
        anchor = self._findings.get(finding_id)
        if anchor is None:
            return escape(finding_id)
        return Markup('<a href="#{}">{}</a>').format(anchor, finding_id)

    def heading(self, level: int, title: str, content: Markup | None = None) -> Markup:
        """A heading with an anchor; sections and findings keep the id reserved for them."""
        anchor = self._reserved.pop(title, None) or self.anchors.new(title)
        return heading(level, anchor, title if content is None else content)

    # ----------------------------------------------------------------- agents

    def badge(self, agent: str, label: str | None = None) -> Markup:
        """A coloured pill for an agent given by registry or display name."""
        run = find_run(self.report, agent)
        colour = f"agent-{self._colour[run.agent]}" if run else "agent-other"
        text = label or agent_display(self.report, agent)
        if run is not None and is_failed(run):
            return Markup('<span class="badge {} failed"><s>{}</s></span>').format(colour, text)
        return Markup('<span class="badge {}">{}</span>').format(colour, text)

    def filter_classes(self, finding: ConsolidatedFinding) -> str:
        """The classes the CSS-only filters select on: severity, scope and each reviewer."""
        scope = finding.scope.value if finding.scope is not None else "none"
        by = " ".join(
            f"by-{self._order[r.agent]}" for a in finding.agents if (r := find_run(self.report, a))
        )
        return f"filterable sev-{finding.severity} scope-{scope} {by}".strip()

    def filters(self) -> Filters:
        """The filter bar's choices: severities, scopes and reviewers present in the findings."""
        findings = self.report.findings
        present = [s for s in SEVERITIES if any(f.severity == s for f in findings)]
        scopes = [sc.value for sc in Scope if any(f.scope is sc for f in findings)]
        agents: dict[int, str] = {}
        for f in findings:
            for a in f.agents:
                run = find_run(self.report, a)
                if run is not None:
                    agents[self._order[run.agent]] = agent_display(self.report, a)
        return Filters(tuple(present), tuple(scopes), tuple(sorted(agents.items())))

    @staticmethod
    def filter_css(filters: Filters) -> Markup:
        """CSS hiding the findings a filter leaves out: unchecked severities and scopes, and
        those not raised by the chosen reviewer. No script: `:has()` reads the inputs."""
        selectors = [
            *(
                f"body:has(#f-sev-{s}:not(:checked)) .filterable.sev-{s}"
                for s in filters.severities
            ),
            *(
                f"body:has(#f-scope-{s}:not(:checked)) .filterable.scope-{s}"
                for s in filters.scopes
            ),
            *(
                f"body:has(#f-by-{n}:checked) .filterable:not(.by-{n})"
                for n, _ in filters.reviewers
            ),
        ]
        # Selectors are built from severity and scope names and run numbers only.
        css = ",\n".join(selectors) + " { display: none; }" if selectors else ""
        return Markup(css)  # nosec B704

    def badges(self, agents: Iterable[str]) -> Markup:
        """Pills for every agent of an attribution."""
        return Markup(" ").join(self.badge(agent) for agent in agents)

    def reviewer(self, run: AgentRun) -> Markup:
        """The Reviewers entry: the pill, struck through with the reason when the run failed."""
        pill = self.badge(run.agent, reviewer_name(run))
        if is_failed(run) or not run.applicable:
            return Markup('{} <span class="reason">({})</span>').format(pill, failure_reason(run))
        if run.cached:
            return Markup('{} <span class="reason">(cached)</span>').format(pill)
        return pill

    def appendix_title(self, run: AgentRun) -> Markup:
        """`[claude] — Claude Opus 4.7 (effort: xhigh)`, the name as a pill."""
        return Markup("[{}] — {}").format(run.agent, self.badge(run.agent, reviewer_name(run)))

    def comment_author(self, comment: FeedbackComment) -> Markup:
        """`@login`, linked to the comment on the forge when its address is known."""
        return _link(f"@{comment.author.removeprefix('@')}", comment.url)

    # ----------------------------------------------------------------- header

    def cell(self, cell: Cell) -> Markup:
        """One header cell as HTML."""
        md = self.md
        match cell:
            case Text(text):
                return escape(text)
            case Code(text):
                return Markup("<code>{}</code>").format(text)
            case Link(text, url):
                return _link(text, url)
            case PullRequestCell(number, url, title):
                return Markup("{} — {}").format(_link(f"#{number}", url), md.inline(title))
            case CommitsCell(commits, more):
                lines = [self.commit(c) for c in commits]
                if more:
                    lines.append(
                        Markup('… and {} more (see <a href="#{}">Commit Structure</a>)').format(
                            more, self._reserved_anchor("Commit Structure")
                        )
                    )
                return Markup("<br>").join(lines)
            case ReviewersCell(runs):
                return Markup(" ").join(self.reviewer(r) for r in runs)
            case VerdictCell():
                return self.verdict()

    def verdict(self) -> Markup:
        """The decision as a coloured pill, an em dash and the reason."""
        verdict = self.report.verdict
        pill = Markup('<span class="verdict {}">{}</span>').format(
            slug(verdict.decision), verdict.decision
        )
        if verdict.qualifier:
            pill = Markup("{} ({})").format(pill, verdict.qualifier)
        reason = self.md.inline(verdict.reason)
        return Markup("{} — {}").format(pill, reason) if verdict.reason.strip() else pill

    # ----------------------------------------------------------------- findings

    def locations(self, locations: Sequence[Location]) -> Markup:
        """Each location as code, linked to the reviewed revision on the forge when known."""
        return Markup(", ").join(
            _link(Markup("<code>{}</code>").format(loc.label()), self._blob_url(loc))
            for loc in locations
        )

    def _blob_url(self, location: Location) -> str | None:
        head = self.report.target.head_sha
        if self._links is None or not head:
            return None
        return self._links.blob_url(head, location)

    def excerpt(self, finding: ConsolidatedFinding) -> Markup:
        """The cited code, labelled with its language."""
        if not finding.excerpt:
            return Markup("")
        lang = finding.excerpt_lang
        if lang is None:
            lang = language_for(finding.locations[0].path) if finding.locations else ""
        return code_block(finding.excerpt, lang)

    def fix(self, finding: ConsolidatedFinding) -> Markup:
        """`Fix:` and the proposed change (prose and/or a coloured diff)."""
        text = (finding.fix or "").strip("\n")
        if not text.strip():
            return Markup("")
        return Markup('<div class="fix"><span class="fix-label">Fix:</span>{}</div>').format(
            self.md.block(text, prefix=f"{finding.id} fix")
        )

    def repro_link(self, item: FindingItem) -> Markup:
        """`Reproduction: Reproductions → I1 — reproduced`, linked to the entry, or nothing."""
        anchor = self._repros.get(item.repro or "")
        if anchor is None or item.finding.reproduction is None:
            return Markup("")
        return Markup(
            '<p class="repro-link">Reproduction: <a href="#{}">Reproductions → {}</a> — '
            '<span class="repro-label">{}</span></p>\n'
        ).format(anchor, item.finding.id, item.finding.reproduction)

    def repro_heading(self, entry: ReproductionEntry) -> Markup:
        """The entry's heading, with the id findings link to."""
        return heading(3, self._repros[entry.anchor], self.md.inline(entry.heading))

    @staticmethod
    def step_line(title: str, step: ReproStep) -> str:
        """`At the head: failed (exit 1, 0.4 s).`"""
        return f"{title}: {step_line(step)}."

    @staticmethod
    def code(code: str, info: str) -> Markup:
        """A code block (see `code_block`)."""
        return code_block(code, info)

    def prior_status(self, note: PriorNote | None) -> Markup:
        """`<strong>Still present</strong> from round 1 (was I3)`, or nothing."""
        if note is None:
            return Markup("")
        return Markup("<strong>{}</strong>{}").format(note.label, note.rest)

    # ----------------------------------------------------------------- retro

    def agent_name(self, agent: str) -> str:
        """The display name of an agent given by registry or display name."""
        return agent_display(self.report, agent)

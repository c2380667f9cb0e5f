"""The HTML report: the Markdown report's content as one self-contained page.

Everything is inline (CSS, no scripts, no fonts, no images); agent text is untrusted, so its
raw HTML is escaped and its links are shown as text instead of being followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from deepreview.render.durations import wall_clock
from deepreview.render.languages import language_for
from deepreview.render.markdown import SEVERITY_SECTIONS, appendix_body
from deepreview.render.retro_table import retro_columns, retro_table
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
    DroppedFinding,
    FeedbackComment,
    Location,
    ReconciliationEntry,
    Report,
)
from deepreview.version import __version__

#: The report's sections between the findings and the optional process notes.
SECTIONS_AFTER_FINDINGS = (
    "Design Observations",
    "Testing Assessment",
    "Documentation Assessment",
    "Commit Structure",
    "Acknowledged Limitations",
    "Unresolved Feedback",
    "Agent Performance Retro",
)

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
        v=view,
        md=view.md,
        severities=SEVERITIES,
        severity_sections=SEVERITY_SECTIONS,
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
    return '<span class="link">'


def _link_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    level = tokens[idx].level
    opening = next(t for t in reversed(tokens[:idx]) if t.type == "link_open" and t.level == level)
    href = str(opening.attrGet("href") or "")
    if href.startswith("#"):
        return "</a>"
    if opening.markup == "autolink":
        return "</span>"
    return str(Markup('</span> <span class="url">&lt;{}&gt;</span>').format(href))


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


def _web_url(url: str | None) -> str | None:
    """`url` when it is an http(s) address, else None (no `javascript:` links)."""
    if url and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


def _github(repo_url: str | None) -> str | None:
    """The repository's GitHub address without a trailing slash, or None for other forges."""
    url = _web_url(repo_url)
    if url is None or urlsplit(url).hostname not in ("github.com", "www.github.com"):
        return None
    return url.rstrip("/")


def _link(content: str | Markup, url: str | None) -> Markup:
    safe = _web_url(url)
    if safe is None:
        return escape(content)
    return Markup('<a href="{}">{}</a>').format(safe, content)


class _View:
    """What the template needs beyond the report's fields."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.anchors = Anchors()
        self.md = AgentMarkdown(self.anchors)
        self._colour = {run.agent: n % AGENT_COLOURS for n, run in enumerate(report.runs)}
        self._repo = _github(report.target.repo_url)
        titles = [
            f"Deep Review: {report.id}",
            "Executive Summary",
            *(SEVERITY_SECTIONS[s] for s in SEVERITIES),
            *SECTIONS_AFTER_FINDINGS,
            *(["Review Process Notes"] if report.notes else []),
            "Appendix: Original Reviews",
        ]
        # Section and finding ids are taken first, so embedded headings never displace them.
        self._reserved = {title: self.anchors.new(title) for title in titles}
        self._findings = {f.id: self.anchors.new(f.id) for f in report.findings}
        self._reserved.update(self._findings)
        #: The table of contents: every section's title and id.
        self.toc = [(title, self._reserved[title]) for title in titles[1:]]

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

    def badges(self, agents: Iterable[str]) -> Markup:
        """Pills for every agent of an attribution."""
        return Markup(" ").join(self.badge(agent) for agent in agents)

    def reviewer(self, run: AgentRun) -> Markup:
        """The Reviewers entry: the pill, struck through with the reason when the run failed."""
        pill = self.badge(run.agent, reviewer_name(run))
        if is_failed(run):
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

    def run_status(self, run: AgentRun) -> str:
        """`Failed: reason` for a run without a review, a cache note, or nothing."""
        if is_failed(run):
            label = {"failed": "Failed", "timeout": "Timed out", "skipped": "Skipped"}[run.status]
            return f"{label}: {' '.join(failure_reason(run).split())}"
        return "Cached result, reused for the same code and settings." if run.cached else ""

    def run_notes(self, run: AgentRun) -> list[str]:
        """The run's warnings and what could not be parsed from its answer."""
        return [*run.notes, *(run.review.parse_notes if run.review else [])]

    def raw_output(self, run: AgentRun) -> Markup:
        """The agent's own review, as the Markdown appendix holds it, rendered."""
        return self.md.block(appendix_body(run.raw_output), prefix=run.agent, shift=2)

    # ----------------------------------------------------------------- header

    def header_rows(self) -> list[tuple[str, Markup]]:
        """The header table, row name -> cell, in report-format order."""
        report, target = self.report, self.report.target
        pr, md = target.pr, self.md
        rows = [("Date", escape(report.created_at.strftime("%Y-%m-%d %H:%M")))]
        if target.repo or target.repo_url:
            rows.append(("Repo", _link(target.repo or target.repo_url or "", target.repo_url)))
        round_text = str(report.round) + (f" (of {report.round_of})" if report.round_of else "")
        rows.append(("Round", escape(round_text)))
        if pr and pr.author:
            login = pr.author.removeprefix("@")
            rows.append(("Author", _link(f"@{login}", self._profile(login))))
        if pr:
            pr_url = pr.url or (f"{self._repo}/pull/{pr.number}" if self._repo else None)
            title = md.inline(pr.title)
            rows.append(("PR", Markup("{} — {}").format(_link(f"#{pr.number}", pr_url), title)))
        if target.branch:
            rows.append(("Branch", Markup("<code>{}</code>").format(target.branch)))
        if target.commits:
            commits = [
                Markup("{} {}").format(
                    _link(Markup("<code>{}</code>").format(c.sha[:7]), self._commit_url(c.sha)),
                    md.inline(c.subject),
                )
                for c in target.commits
            ]
            rows.append(("Commits", Markup("<br>").join(commits)))
        if target.head_sha:
            rows.append(("Review SHA", Markup("<code>{}</code>").format(target.head_sha)))
        if report.runs:
            rows.append(("Reviewers", Markup(" ").join(self.reviewer(r) for r in report.runs)))
        rows.append(("Verdict", self.verdict()))
        if report.wall_clock_s > 0:
            rows.append(("Wall-clock time", escape(wall_clock(report.wall_clock_s))))
        return rows

    def verdict(self) -> Markup:
        """The decision as a coloured pill, an em dash and the reason."""
        verdict = self.report.verdict
        pill = Markup('<span class="verdict {}">{}</span>').format(
            slug(verdict.decision), verdict.decision
        )
        reason = self.md.inline(verdict.reason)
        return Markup("{} — {}").format(pill, reason) if verdict.reason.strip() else pill

    def _profile(self, login: str) -> str | None:
        if self._repo is None:
            return None
        return f"{urlsplit(self._repo).scheme}://github.com/{quote(login)}"

    def _commit_url(self, sha: str) -> str | None:
        return f"{self._repo}/commit/{sha}" if self._repo else None

    # ----------------------------------------------------------------- findings

    def count(self, severity: str) -> int:
        """How many consolidated findings have `severity`."""
        return sum(1 for f in self.report.findings if f.severity == severity)

    def findings(self, severity: str) -> list[ConsolidatedFinding]:
        """The consolidated findings of one severity, in report order."""
        return [f for f in self.report.findings if f.severity == severity]

    def locations(self, locations: Sequence[Location]) -> Markup:
        """Each location as code, linked to the reviewed revision on the forge when known."""
        return Markup(", ").join(
            _link(Markup("<code>{}</code>").format(loc.label()), self._blob_url(loc))
            for loc in locations
        )

    def _blob_url(self, location: Location) -> str | None:
        head = self.report.target.head_sha
        if self._repo is None or not head:
            return None
        url = f"{self._repo}/blob/{head}/{quote(location.path)}"
        if location.start_line is not None:
            url += f"#L{location.start_line}"
            if location.end_line is not None and location.end_line != location.start_line:
                url += f"-L{location.end_line}"
        return url

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

    def prior_status(self, finding: ConsolidatedFinding) -> Markup:
        """`Still present from round 1 (was I3)`, `New in round 2`, or nothing."""
        report = self.report
        if finding.prior_status is None or report.round <= 1:
            return Markup("")
        if finding.prior_status == "new":
            return Markup("<strong>New</strong> in round {}").format(report.round)
        labels = {"still-present": "Still present", "changed": "Changed", "fixed": "Fixed"}
        text = Markup("<strong>{}</strong> from {}").format(
            labels[finding.prior_status], self.previous_round()
        )
        earlier = next((p for p in report.prior_findings if p.current_id == finding.id), None)
        if earlier is not None and earlier.id != finding.id:
            text += Markup(" (was {})").format(earlier.id)
        return text

    def previous_round(self) -> str:
        """`round 1` in round 2, else `the previous round`."""
        return f"round {self.report.round - 1}" if self.report.round > 1 else "the previous round"

    # ----------------------------------------------------------------- retro

    def retro_columns(self) -> list[tuple[str, bool]]:
        """The retro table's agent columns: display name and whether the run failed."""
        return retro_columns(self.report)

    def retro_rows(self) -> list[tuple[str, list[str]]]:
        """The retro table's rows."""
        return retro_table(self.report)

    def agent_name(self, agent: str) -> str:
        """The display name of an agent given by registry or display name."""
        return agent_display(self.report, agent)

    def reconciliation(self) -> list[ReconciliationRow]:
        """Every agent finding: where it went, the severity change, and why."""
        report = self.report
        rows = [self._entry_row(entry) for entry in report.reconciliation]
        rows += [
            ReconciliationRow(
                agent=drop.agent,
                finding_id=drop.finding_id,
                title=drop.title,
                outcome=_outcome(drop),
                note=drop.reason.strip(),
            )
            for drop in report.dropped
            if not any(
                self._same(e.agent, drop.agent) and e.finding_id == drop.finding_id
                for e in report.reconciliation
            )
        ]
        return rows

    def _same(self, a: str, b: str) -> bool:
        return agent_display(self.report, a) == agent_display(self.report, b)

    def _entry_row(self, entry: ReconciliationEntry) -> ReconciliationRow:
        drop = next(
            (
                d
                for d in self.report.dropped
                if d.finding_id == entry.finding_id and self._same(d.agent, entry.agent)
            ),
            None,
        )
        changed = entry.to_severity is not None and entry.to_severity != entry.from_severity
        return ReconciliationRow(
            agent=entry.agent,
            finding_id=entry.finding_id,
            title=drop.title if drop else "",
            became=entry.consolidated_id,
            outcome=_outcome(drop),
            severity=f"{entry.from_severity} → {entry.to_severity}" if changed else "",
            note=entry.note.strip() or (drop.reason.strip() if drop else ""),
        )


@dataclass(frozen=True)
class ReconciliationRow:
    """One line of the reconciliation table; `became` is None when the finding was dropped."""

    agent: str
    finding_id: str
    title: str = ""
    became: str | None = None
    outcome: str = ""
    severity: str = ""
    note: str = ""


def _outcome(drop: DroppedFinding | None) -> str:
    kind = drop.kind.replace("-", " ") if drop else "no consolidated finding"
    return f"dropped ({kind})"

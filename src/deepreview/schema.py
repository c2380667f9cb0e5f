"""The canonical data model: what agents return and what a report holds.

Agents emit only `AgentReview` values (inside an `AgentRun`); renderers read only `Report`.
Both are exported as JSON Schema by `deepreview schema`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, model_validator

from deepreview.scope import Scope

Severity = Literal["critical", "important", "suggestion"]
SEVERITIES: tuple[Severity, ...] = ("critical", "important", "suggestion")
SEVERITY_LETTER: dict[Severity, str] = {"critical": "C", "important": "I", "suggestion": "S"}

RunStatus = Literal["ok", "failed", "timeout", "skipped"]
ConcernScope = Literal["in-scope", "future"]
Decision = Literal["Rework", "Merge with fixes", "Merge with optional fixes", "Merge as-is"]
PriorStatus = Literal["fixed", "still-present", "changed", "unaddressed", "new"]


class Model(BaseModel):
    """Base for every schema type: unknown fields are rejected, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- agent review


ReproKind = Literal["script", "test"]


class Repro(Model):
    """A self-contained reproduction of a claim: it exits non-zero while the defect is present
    and zero once it is fixed."""

    kind: ReproKind = Field(
        default="script",
        description="script: a bash script run from the repository root; test: a test file "
        "saved at `path` and run by `command`.",
    )
    path: str | None = Field(
        default=None, description="Where the test file is saved, relative to the repository root."
    )
    content: str = Field(description="The script or the test file, verbatim.")
    command: str | None = Field(
        default=None, description="The shell command that runs the test from the repository root."
    )
    fix_patch: str | None = Field(
        default=None, description="The proposed fix as a unified diff against the head."
    )


class Location(Model):
    """A place in the head tree: `path` relative to the repository root, 1-based lines."""

    path: str
    start_line: int | None = None
    end_line: int | None = None

    def label(self) -> str:
        """`path`, `path:12` or `path:12-20`."""
        if self.start_line is None:
            return self.path
        if self.end_line is None or self.end_line == self.start_line:
            return f"{self.path}:{self.start_line}"
        return f"{self.path}:{self.start_line}-{self.end_line}"


class Finding(Model):
    """One defect or improvement raised by one agent."""

    id: str = Field(description="The agent's own id, e.g. I1 or S3.")
    severity: Severity
    category: str = Field(default="issue", description="regression, gap, security, style, ...")
    title: str
    body: str = ""
    locations: list[Location] = Field(default_factory=list)
    excerpt: str | None = Field(default=None, description="Code the finding is about, verbatim.")
    excerpt_lang: str | None = None
    fix: str | None = None
    rule: str | None = Field(default=None, description="Analyzer rule id, e.g. S602.")
    repro: Repro | None = Field(
        default=None, description="A self-contained reproduction of the claim, when there is one."
    )


class DesignConcern(Model):
    """A design-level concern, in scope for this change or for the future."""

    title: str
    body: str = ""
    scope: ConcernScope = "in-scope"
    locations: list[Location] = Field(default_factory=list)


class Strength(Model):
    """Something the change does well."""

    title: str
    body: str = ""
    locations: list[Location] = Field(default_factory=list)


class Limitation(Model):
    """A limitation the author states in the change itself (a TODO, a 'for now' note)."""

    location: Location | None = None
    quote: str
    judgement: str = ""


class CoverageEntry(Model):
    """One changed file as the agent reports it: reviewed, and which findings it holds."""

    path: str
    reviewed: bool = True
    finding_ids: list[str] = Field(default_factory=list)


class PriorFindingVerdict(Model):
    """An agent's verdict on a finding of an earlier round."""

    finding_id: str
    status: Literal["fixed", "still-present", "changed"]
    note: str = ""


class AgentReview(Model):
    """The structured review every agent returns (report-format.md section 4)."""

    summary: str = ""
    findings: list[Finding] = Field(default_factory=list)
    concerns: list[DesignConcern] = Field(default_factory=list)
    strengths: list[Strength] = Field(default_factory=list)
    testing: str = ""
    documentation: str = ""
    commit_structure: str = ""
    limitations: list[Limitation] = Field(default_factory=list)
    coverage: list[CoverageEntry] = Field(default_factory=list)
    verdict: str | None = Field(default=None, description="The agent's own verdict, free text.")
    prior_findings: list[PriorFindingVerdict] = Field(default_factory=list)
    parse_notes: list[str] = Field(
        default_factory=list, description="What could not be parsed from the agent's answer."
    )


# --------------------------------------------------------------------------- verification


class ExecutedCommand(Model):
    """A command deepreview ran itself (the report's "Executed" list)."""

    label: str = Field(description="What it was for, e.g. 'tests at head'.")
    command: str
    where: str = Field(description="The tree it ran in, e.g. 'scratch copy of the head'.")
    duration_s: float
    exit_code: int | None = None
    timed_out: bool = False


MutationOutcome = Literal["caught", "survived", "timeout", "not run"]
RubricStatus = Literal["Pinned", "Not pinned", "Covered", "Not covered"]


class Mutation(Model):
    """One mutation of a changed line and what the covering tests made of it."""

    location: Location
    description: str = Field(description="e.g. '`a < b` → `a <= b`'.")
    outcome: MutationOutcome
    tests: int = Field(default=0, description="How many tests ran against it.")


class RubricRow(Model):
    """One changed unit (function or module level) in the Testing Assessment rubric."""

    subject: str
    location: Location
    status: RubricStatus
    note: str = ""


ReproLabel = Literal["reproduced", "fix verified", "not reproduced", "inconclusive"]
ReproWhere = Literal["head", "base", "fix"]


class ReproStep(Model):
    """One run of a repro: at the head, at the merge base, or at the head with the fix."""

    where: ReproWhere
    outcome: Literal["passed", "failed", "timeout", "not run"]
    exit_code: int | None = None
    duration_s: float = 0.0
    output: str = Field(default="", description="The output's tail, redacted.")
    note: str = Field(default="", description="Why it did not run, e.g. a fix that does not apply.")


class Reproduction(Model):
    """An agent's repro of one of its findings, as `verify` ran it, and the label it earned."""

    agent: str = Field(description="Registry name of the agent that wrote the repro.")
    reviewer: str = Field(description="Display name of that agent.")
    finding_id: str
    title: str
    repro: Repro
    label: ReproLabel
    reason: str = Field(description="One sentence: why this label.")
    steps: list[ReproStep] = Field(default_factory=list)
    isolation: str = ""
    consolidated_id: str | None = Field(
        default=None, description="The report finding it belongs to (set by consolidation)."
    )


class Verification(Model):
    """What the `verify` reviewer executed and measured."""

    command: str = Field(description="The detected or configured test command.")
    environment: str = Field(description="Whose interpreter and tools ran the tests.")
    isolation: str = Field(description="The confinement the commands ran under.")
    executed: list[ExecutedCommand] = Field(default_factory=list)
    broken_by_change: list[str] = Field(
        default_factory=list, description="Test ids failing at the head and passing at the base."
    )
    failing_at_base: list[str] = Field(
        default_factory=list, description="Test ids failing at the head and at the base."
    )
    added_lines: int | None = Field(default=None, description="Added executable lines measured.")
    covered_lines: int | None = None
    uncovered: list[Location] = Field(default_factory=list)
    mutations: list[Mutation] = Field(default_factory=list)
    rubric: list[RubricRow] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="What was skipped or not run.")
    reproductions: list[Reproduction] = Field(
        default_factory=list, description="The agents' repros, run at head, base and with the fix."
    )


class Usage(Model):
    """Token counts as the agent reports them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0


class _AgentSettings(Protocol):
    @property
    def model(self) -> str | None: ...

    @property
    def effort(self) -> str | None: ...


class RunOwner(Protocol):
    """What a run records of the agent it belongs to (every `Agent` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> Literal["ai", "analyzer", "builtin"]: ...

    @property
    def config(self) -> _AgentSettings: ...

    def display_name(self) -> str: ...


class AgentRun(Model):
    """The outcome of running one agent: always produced, even on failure."""

    agent: str = Field(description="Registry name, e.g. claude, ruff, scan.")
    display_name: str = Field(description="Vendor and model, e.g. 'Claude Opus 4.6'.")
    kind: Literal["ai", "analyzer", "builtin"] = "builtin"
    model: str | None = None
    effort: str | None = None
    version: str | None = None
    status: RunStatus
    reason: str | None = Field(default=None, description="Why the run failed or was skipped.")
    applicable: bool = Field(
        default=True, description="False when there was nothing for it to check (not a failure)."
    )
    started_at: datetime | None = None
    duration_s: float = 0.0
    usage: Usage | None = None
    cost_usd: float | None = None
    cost_reported: bool = Field(
        default=False, description="Whether the agent itself reported `cost_usd`."
    )
    family: str | None = Field(
        default=None, description="Vendor family the agent declares, for consensus."
    )
    tool_calls: dict[str, int] = Field(default_factory=dict)
    files_read: list[str] = Field(default_factory=list)
    raw_output: str = ""
    review: AgentReview | None = None
    partial: bool = Field(
        default=False, description="The review is what a timed-out agent had written so far."
    )
    cached: bool = False
    sandbox: str | None = Field(default=None, description="The confinement the agent ran under.")
    notes: list[str] = Field(default_factory=list, description="Warnings worth showing.")
    verification: Verification | None = Field(
        default=None, description="What the `verify` reviewer executed (only that agent)."
    )

    @classmethod
    def failure(
        cls,
        agent: RunOwner,
        status: Literal["failed", "timeout", "skipped"],
        reason: str,
        /,
        *,
        started_at: datetime | None = None,
        duration_s: float = 0.0,
        **fields: Any,
    ) -> AgentRun:
        """A run of `agent` without a review, and why; `fields` add to (or override) the
        agent's name, display name, kind, configured model and effort."""
        return cls.model_validate(
            {
                "agent": agent.name,
                "display_name": agent.display_name(),
                "kind": agent.kind,
                "model": agent.config.model,
                "effort": agent.config.effort,
                "family": getattr(agent, "family", None),
                "status": status,
                "reason": reason,
                "started_at": started_at,
                "duration_s": round(duration_s, 3),
                **fields,
            }
        )


# --------------------------------------------------------------------------- report


class SourceFinding(Model):
    """One agent's finding that contributed to a consolidated finding."""

    agent: str
    finding_id: str
    severity: Severity


class SeverityChange(Model):
    """A recorded change between an agent's severity and the consolidated one."""

    agent: str
    finding_id: str
    from_severity: Severity
    to_severity: Severity
    reason: str


class ConsolidatedFinding(Model):
    """A finding after grounding and merging, attributed to every agent that raised it."""

    id: str = Field(description="C1, I2, S3, ...")
    fingerprint: str
    severity: Severity
    category: str = "issue"
    title: str
    body: str = ""
    locations: list[Location] = Field(default_factory=list)
    excerpt: str | None = None
    excerpt_lang: str | None = None
    fix: str | None = None
    agents: list[str] = Field(description="Display names of the agents that raised it.")
    sources: list[SourceFinding] = Field(default_factory=list)
    severity_changes: list[SeverityChange] = Field(default_factory=list)
    scope: Scope | None = Field(
        default=None, description="Where it sits relative to the change; None: no diff known."
    )
    anchor: Location | None = Field(
        default=None, description="The lines an inline review comment attaches to, if any."
    )
    pre_existing: str | None = Field(
        default=None, description="Why it is not the change's doing, when it is listed apart."
    )
    prior_status: PriorStatus | None = None
    rule: str | None = Field(default=None, description="The analyzer's own rule id, e.g. B602.")
    fix_patch: str | None = Field(
        default=None, description="The fix as a patch that `git apply --check` accepts at head."
    )
    reproduction: ReproLabel | None = Field(
        default=None, description="What running its agents' repros showed (see Reproductions)."
    )

    @model_validator(mode="before")
    @classmethod
    def _legacy_in_diff(cls, data: object) -> object:
        """Reports stored before scopes said only `in_diff`."""
        if isinstance(data, dict) and "in_diff" in data:
            data = dict(data)
            in_diff = data.pop("in_diff")
            data.setdefault("scope", None if in_diff else Scope.FILE)
        return data


class AttributedConcern(Model):
    """A design concern with the agents that raised it."""

    title: str
    body: str = ""
    scope: ConcernScope = "in-scope"
    locations: list[Location] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)


class AttributedStrength(Model):
    """A strength with the agents that named it."""

    title: str
    body: str = ""
    locations: list[Location] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)


class AttributedText(Model):
    """An assessment paragraph with its author."""

    agent: str
    text: str


class AttributedLimitation(Model):
    """An acknowledged limitation with the agents that quoted it."""

    location: Location | None = None
    quote: str
    judgement: str = ""
    agents: list[str] = Field(default_factory=list)


class DroppedFinding(Model):
    """An agent finding that did not make it into the report, and why."""

    agent: str
    finding_id: str
    title: str
    kind: Literal["false-positive", "declined", "below-bar"]
    reason: str


ExamVerdict = Literal["confirm", "refute", "uncertain"]


class Examination(Model):
    """One lone-vendor finding put to an agent of another vendor, and its answer."""

    claim: str = Field(description="The examined finding's title.")
    severity: Severity = Field(description="Its consolidated severity when it was examined.")
    location: Location | None = None
    sources: list[SourceFinding] = Field(description="The agent findings that raised it.")
    examiner: str = Field(description="Display name of the examining agent.")
    examiner_agent: str = Field(description="Registry name of the examining agent.")
    model: str | None = None
    status: RunStatus = "ok"
    verdict: ExamVerdict = "uncertain"
    reason: str = Field(default="", description="The examiner's reason, or why it failed.")
    evidence: list[Location] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    cached: bool = False
    duration_s: float = 0.0
    cost_usd: float | None = None
    finding_id: str | None = Field(
        default=None, description="The consolidated finding it became; None when dropped."
    )


class DeclinedFinding(Model):
    """A finding the author declined in an earlier round."""

    fingerprint: str
    title: str
    round: int
    reason: str
    location: str | None = Field(
        default=None, description="`path` or `path:line` of the declined finding, when known."
    )


class FeedbackComment(Model):
    """A review comment already on the pull request that is not resolved."""

    author: str
    body: str
    location: Location | None = None
    url: str | None = None


class PriorFinding(Model):
    """What became of a finding of the previous round."""

    id: str
    fingerprint: str
    title: str
    status: Literal["fixed", "still-present", "changed", "unaddressed"]
    current_id: str | None = Field(
        default=None, description="The finding it is in this round (carried over: unaddressed)."
    )


class RetroRow(Model):
    """The retro table's column for one agent (report-format.md section 3.9)."""

    agent: str
    duration_s: float | None
    critical: int = 0
    important: int = 0
    suggestion: int = 0
    tool_calls: dict[str, int] = Field(default_factory=dict)
    design_observations: int = 0
    false_positives: int = 0
    unique_insights: int = 0
    files_reviewed: int | None = None
    coverage_misses: int = 0
    downgraded: dict[str, int] = Field(
        default_factory=dict, description="Counts by change, e.g. {'I→S': 2}."
    )
    dropped: int = 0
    narrative: str = Field(default="", description="The retro paragraph about this agent.")


class ReconciliationEntry(Model):
    """How one agent finding maps into the report."""

    agent: str
    finding_id: str
    consolidated_id: str | None
    from_severity: Severity
    to_severity: Severity | None
    note: str = ""


class Verdict(Model):
    """The decision and the one-sentence reason naming what decided it."""

    decision: Decision
    reason: str
    qualifier: str | None = Field(
        default=None, description="What limits the verdict, e.g. that no AI agent reviewed."
    )

    def label(self) -> str:
        """The decision with its qualifier: 'Merge as-is (built-in reviewers only: …)'."""
        return f"{self.decision} ({self.qualifier})" if self.qualifier else self.decision


class Commit(Model):
    """A commit in the reviewed range."""

    sha: str
    subject: str
    author: str = ""
    files_changed: int = 0


class PullRequest(Model):
    """Pull-request metadata, when the target is a PR."""

    number: int
    title: str
    url: str | None = None
    author: str | None = None
    body: str = ""


class WebLinks(Model):
    """The repository's addresses on its forge, resolved when the report is built.

    Each is a template; renderers fill it in and never need to know which forge it is.
    """

    profile: str = Field(description="A user's page; `{login}` is replaced.")
    pull: str = Field(description="A pull request; `{number}` is replaced.")
    commit: str = Field(description="A commit; `{sha}` is replaced.")
    blob: str = Field(description="A file at a revision; `{sha}` and `{path}` are replaced.")
    line: str = Field(description="Fragment for one line of a blob; `{start}` is replaced.")
    lines: str = Field(description="Fragment for a line range; `{start}` and `{end}` replaced.")

    def profile_url(self, login: str) -> str:
        """The page of user `login` (with or without a leading `@`)."""
        return _fill(self.profile, login=quote(login.removeprefix("@")))

    def pull_url(self, number: int) -> str:
        """The page of pull request `number`."""
        return _fill(self.pull, number=str(number))

    def commit_url(self, sha: str) -> str:
        """The page of commit `sha`."""
        return _fill(self.commit, sha=quote(sha))

    def blob_url(self, sha: str, location: Location) -> str:
        """`location` in the tree of `sha`, its lines as the fragment."""
        url = _fill(self.blob, sha=quote(sha), path=quote(location.path))
        start, end = location.start_line, location.end_line
        if start is None:
            return url
        if end is None or end == start:
            return url + _fill(self.line, start=str(start))
        return url + _fill(self.lines, start=str(start), end=str(end))


def _fill(template: str, **values: str) -> str:
    """`template` with each `{name}` replaced (no other brace is special)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


class SkippedFile(Model):
    """A changed file the review left out, and why (generated, vendored, lock file, pattern)."""

    path: str
    reason: str


class ReportTarget(Model):
    """What was reviewed."""

    kind: Literal["range", "uncommitted", "patch", "pr"]
    repo: str | None = Field(default=None, description="owner/name when known.")
    repo_url: str | None = None
    branch: str | None = None
    base: str | None = None
    head_sha: str | None = None
    commits: list[Commit] = Field(default_factory=list)
    pr: PullRequest | None = None
    changed_files: list[str] = Field(default_factory=list)
    links: WebLinks | None = Field(default=None, description="Forge addresses, when known.")
    skipped_files: list[SkippedFile] = Field(
        default_factory=list, description="Changed files left out of the review, with why."
    )


class Report(Model):
    """One review, holding everything the renderers need."""

    id: str
    created_at: datetime
    round: int = 1
    round_of: str | None = Field(default=None, description="e.g. 'PR #711' for a continued series.")
    rerun_of: int | None = Field(
        default=None, description="The round this review repeats: the same head and diff."
    )
    target: ReportTarget
    runs: list[AgentRun]
    verdict: Verdict
    summary: str
    findings: list[ConsolidatedFinding] = Field(default_factory=list)
    pre_existing: list[ConsolidatedFinding] = Field(
        default_factory=list,
        description="Findings about code the change did not introduce (Design Observations).",
    )
    reproductions: list[Reproduction] = Field(
        default_factory=list, description="The agents' repros as `verify` ran them."
    )
    concerns: list[AttributedConcern] = Field(default_factory=list)
    strengths: list[AttributedStrength] = Field(default_factory=list)
    testing: list[AttributedText] = Field(default_factory=list)
    documentation: list[AttributedText] = Field(default_factory=list)
    commit_structure: list[AttributedText] = Field(default_factory=list)
    limitations: list[AttributedLimitation] = Field(default_factory=list)
    declined: list[DeclinedFinding] = Field(default_factory=list)
    prior_findings: list[PriorFinding] = Field(default_factory=list)
    unresolved_feedback: list[FeedbackComment] = Field(default_factory=list)
    retro: list[RetroRow] = Field(default_factory=list)
    reconciliation: list[ReconciliationEntry] = Field(default_factory=list)
    dropped: list[DroppedFinding] = Field(default_factory=list)
    examinations: list[Examination] = Field(
        default_factory=list, description="Lone-vendor findings cross-examined by another vendor."
    )
    wall_clock_s: float = 0.0
    notes: list[str] = Field(default_factory=list, description="What the reader should know.")

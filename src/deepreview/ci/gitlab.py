"""The GitLab side of a CI job: the previous round from the summary note, and publishing."""

from __future__ import annotations

from typing import Any

from deepreview.ci.declines import replied_declines
from deepreview.ci.environment import CIJob
from deepreview.ci.host import Previous, Published
from deepreview.ci.state import read_state
from deepreview.forge.gitlab import GitLab, GitLabError, posted_notes, replies
from deepreview.publish.plan import fingerprint_of, latest_summary
from deepreview.schema import Report

#: GitLab's Developer role: the least access that may decline a finding.
DEVELOPER = 30


class GitLabHost:
    """One merge request of a GitLab CI job."""

    def __init__(self, job: CIJob, environ: dict[str, str]) -> None:
        if job.number is None:
            raise ValueError("a GitLab host needs a merge request number")
        self.job = job
        self.number = job.number
        self.forge = GitLab({**environ, "CI_API_V4_URL": job.api_url})
        self._access: dict[int, bool] = {}

    def close(self) -> None:
        """Close the connection pool."""
        self.forge.close()

    def _trusted(self, author: Any) -> bool:
        """Whether the note's author has at least Developer access to the project."""
        user = author.get("id") if isinstance(author, dict) else None
        if not isinstance(user, int):
            return False
        if user not in self._access:
            project = self.job.repo.replace("/", "%2F")
            try:
                member = self.forge.client.request("GET", f"/projects/{project}/members/all/{user}")
            except GitLabError as exc:
                if exc.status != 404:
                    raise
                member = None
            level = member.get("access_level") if isinstance(member, dict) else None
            self._access[user] = isinstance(level, int) and level >= DEVELOPER
        return self._access[user]

    def previous(self) -> Previous:
        """The state block of our summary note, plus declines replied in our discussions."""
        discussions = self.forge.discussions(self.job.repo, self.number)
        comments, summaries, _ = posted_notes(discussions)
        body = latest_summary(summaries)
        state = read_state(body) if body else None
        ours = {c.id: fp for c in comments if (fp := fingerprint_of(c.body))}
        said = [
            (ours[first], str(note.get("body") or ""))
            for first, note in replies(discussions)
            if first in ours and self._trusted(note.get("author"))
        ]
        declined = replied_declines(said, state, state.declined if state else [])
        return Previous(state=state, declined=declined, found_summary=body is not None)

    def publish(self, report: Report, *, dry_run: bool) -> Published:
        """One summary note and diff discussions: created the first time, edited later."""
        plan = self.forge.plan(report)
        if not dry_run:
            plan = self.forge.publish(report, plan)
        return Published(
            plan=self.forge.describe(plan),
            created=len(plan.comments),
            updated=len(plan.updates),
            resolved=sum(1 for u in plan.updates if u.resolved),
        )

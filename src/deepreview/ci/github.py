"""The GitHub side of a CI job: the previous round from the published review, and publishing."""

from __future__ import annotations

from typing import Any

from deepreview.ci.declines import replied_declines
from deepreview.ci.environment import TRUSTED_ASSOCIATIONS, CIJob
from deepreview.ci.host import Previous, Published
from deepreview.ci.state import read_state
from deepreview.forge.github import GitHubClient, carry_out, describe_plan, plan_publication, posted
from deepreview.publish.plan import fingerprint_of, latest_summary
from deepreview.schema import Report


class GitHubHost:
    """One pull request of a GitHub Actions job."""

    def __init__(self, job: CIJob) -> None:
        if job.number is None:
            raise ValueError("a GitHub host needs a pull request number")
        self.job = job
        self.number = job.number
        self._client = GitHubClient(job.token, job.api_url)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _items(self) -> tuple[list[Any], list[Any]]:
        base = f"/repos/{self.job.repo}/pulls/{self.number}"
        return self._client.paginate(f"{base}/comments"), self._client.paginate(f"{base}/reviews")

    def previous(self) -> Previous:
        """The state block of our last summary, plus declines replied to our comments."""
        comments, reviews = self._items()
        body = latest_summary(posted(reviews)[1])
        state = read_state(body) if body else None
        ours = {
            c["id"]: fp
            for c in comments
            if isinstance(c.get("body"), str) and (fp := fingerprint_of(c["body"]))
        }
        replies = [
            (ours[c["in_reply_to_id"]], str(c.get("body") or ""))
            for c in comments
            if c.get("in_reply_to_id") in ours
            and c.get("author_association") in TRUSTED_ASSOCIATIONS
        ]
        declined = replied_declines(replies, state, state.declined if state else [])
        return Previous(state=state, declined=declined, found_summary=body is not None)

    def publish(self, report: Report, *, dry_run: bool) -> Published:
        """One review on the pull request: created the first time, updated on re-runs."""
        pull = (self.job.repo, self.number)
        plan = plan_publication(self._client, report, pull)
        if not dry_run:
            plan = carry_out(self._client, report, plan, pull)
        return Published(
            plan=describe_plan(plan),
            created=len(plan.comments),
            updated=len(plan.updates),
            resolved=sum(1 for u in plan.updates if u.resolved),
        )

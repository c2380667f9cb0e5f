"""The GitHub side of a CI job: the previous round from the published review, and publishing."""

from __future__ import annotations

from typing import Any

from deepreview.ci.declines import replied_declines
from deepreview.ci.environment import TRUSTED_ASSOCIATIONS, CIJob
from deepreview.ci.host import Previous, Published
from deepreview.ci.state import read_state
from deepreview.publish.github import fingerprint_of, latest_summary, publish_review
from deepreview.schema import Report
from deepreview.source.github import GitHubClient


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
        body = latest_summary(reviews)
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
        plan = publish_review(
            report, self._client, self.job.repo, self.number, None, dry_run=dry_run
        )
        return Published(
            plan=plan.to_json(),
            created=len(plan.comments),
            updated=len(plan.updates),
            resolved=sum(1 for u in plan.updates if u.resolved),
        )

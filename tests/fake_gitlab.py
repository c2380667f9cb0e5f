"""A fake GitLab REST API v4 on 127.0.0.1: merge requests, commits, discussions and notes.

It serves what deepreview uses, under `/api/v4`: a merge request with its diff refs, its
commits and discussions (paginated with `X-Next-Page`), new notes and diff discussions, note
edits, resolving a discussion, and project members. It checks the `PRIVATE-TOKEN` header, and
refuses a diff discussion whose position is not on a line of the merge request's diff or names
other shas (400, as GitLab does).

    with FakeGitLab(token="glpat-…") as gl:
        mr = gl.add_merge_request("grp/shop", 7, commentable={"app.py": {1, 2, 3}})
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.servers import Recorded, Reply, ServedFake

BOT = {"id": 1, "username": "deepreview-bot"}
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


@dataclass
class FakeMergeRequest:
    """One merge request's state."""

    project: str
    iid: int
    data: dict[str, Any]
    commentable: dict[str, set[int]]
    commits: list[dict[str, Any]] = field(default_factory=list)
    discussions: list[dict[str, Any]] = field(default_factory=list)


class FakeGitLab(ServedFake):
    """The fake server. `requests` records every request; `merge_requests` holds the state."""

    def __init__(self, token: str = "glpat-test-token-0123456789", page_size: int = 2) -> None:
        super().__init__(first_id=5000)
        self.token = token
        self.page_size = page_size
        self.merge_requests: dict[tuple[str, int], FakeMergeRequest] = {}
        self.members: dict[int, int] = {BOT["id"]: 40}

    def writes(self) -> list[Recorded]:
        """The requests that would change state on GitLab."""
        return [r for r in self.requests if r.method in WRITE_METHODS]

    # ------------------------------------------------------------------ state

    def add_merge_request(
        self,
        project: str,
        iid: int,
        *,
        base_sha: str,
        head_sha: str,
        commentable: dict[str, set[int]] | None = None,
        title: str = "Add a customer lookup",
    ) -> FakeMergeRequest:
        """A merge request with no commits or discussions yet."""
        data = {
            "id": self.new_id(),
            "iid": iid,
            "title": title,
            "description": "Adds a lookup.",
            "author": {"id": 7, "username": "dana"},
            "source_branch": "feature/lookup",
            "target_branch": "main",
            "sha": head_sha,
            "web_url": f"{self.url}/{project}/-/merge_requests/{iid}",
            "diff_refs": {"base_sha": base_sha, "start_sha": base_sha, "head_sha": head_sha},
        }
        mr = FakeMergeRequest(project, iid, data, commentable or {})
        self.merge_requests[(project, iid)] = mr
        return mr

    def push(self, mr: FakeMergeRequest, head_sha: str, title: str) -> None:
        """A new head commit on the merge request."""
        mr.data["sha"] = head_sha
        mr.data["diff_refs"]["head_sha"] = head_sha
        mr.commits.insert(0, {"id": head_sha, "title": title, "author_name": "Dana"})

    def note(
        self, body: str, author: dict[str, Any], position: dict[str, Any] | None
    ) -> dict[str, Any]:
        return {
            "id": self.new_id(),
            "body": body,
            "author": author,
            "system": False,
            "resolvable": position is not None,
            "resolved": False,
            "position": position,
        }

    def reply(
        self, mr: FakeMergeRequest, first_note_id: int, body: str, author: dict[str, Any]
    ) -> None:
        """A reply in the discussion whose first note is `first_note_id`."""
        for d in mr.discussions:
            if d["notes"][0]["id"] == first_note_id:
                d["notes"].append(self.note(body, author, None))
                return
        raise KeyError(first_note_id)

    def ours(self, mr: FakeMergeRequest) -> list[dict[str, Any]]:
        """The first notes of every discussion."""
        return [d["notes"][0] for d in mr.discussions]

    # ------------------------------------------------------------------ HTTP

    def answer(self, request: Recorded) -> Reply:
        if request.headers.get("private-token") != self.token:
            return Reply(401, {"message": "401 Unauthorized"})
        parts = urlsplit(request.path)
        path, query = parts.path, parse_qs(parts.query)
        if m := re.fullmatch(r"/api/v4/projects/([^/]+)/members/all/(\d+)", path):
            level = self.members.get(int(m[2]))
            return (
                Reply(200, {"id": int(m[2]), "access_level": level})
                if level
                else Reply(404, {"message": "404 Not found"})
            )
        m = re.fullmatch(
            r"/api/v4/projects/([^/]+)/merge_requests/(\d+)(?:/([a-z]+)(?:/([^/]+))?)?", path
        )
        mr = self.merge_requests.get((unquote(m[1]), int(m[2]))) if m else None
        if m is None or mr is None:
            return Reply(404, {"message": "404 Not found"})
        route, item = (request.method, m[3] or ""), m[4]
        if route == ("GET", "") and item is None:
            return Reply(200, mr.data)
        if route == ("GET", "commits"):
            return self._page(mr.commits, query)
        if route == ("GET", "discussions"):
            return self._page(mr.discussions, query)
        if route == ("POST", "notes"):
            return self._new_discussion(mr, request.json()["body"], None)
        if route == ("POST", "discussions"):
            payload = request.json()
            return self._new_discussion(mr, payload["body"], payload.get("position"))
        if route == ("PUT", "notes") and item:
            return self._edit_note(mr, int(item), request.json()["body"])
        if route == ("PUT", "discussions") and item:
            return self._resolve(mr, item, query.get("resolved") == ["true"])
        return Reply(404, {"message": "404 Not found"})

    def _page(self, items: list[dict[str, Any]], query: dict[str, list[str]]) -> Reply:
        per_page = min(int(query.get("per_page", ["20"])[0]), self.page_size)
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(items)
        return Reply(200, chunk, {"x-next-page": str(page + 1) if more else ""})

    def _new_discussion(
        self, mr: FakeMergeRequest, body: str, position: dict[str, Any] | None
    ) -> Reply:
        if position is not None:
            refs = mr.data["diff_refs"]
            shas = (position.get("base_sha"), position.get("start_sha"), position.get("head_sha"))
            lines = mr.commentable.get(position.get("new_path", ""), set())
            if (
                shas != (refs["base_sha"], refs["start_sha"], refs["head_sha"])
                or position.get("new_line") not in lines
            ):
                return Reply(
                    400, {"message": '400 Bad request - Note {:line_code=>["can\'t be blank"]}'}
                )
        note = self.note(body, BOT, position)
        discussion = {
            "id": f"d{self.new_id():x}",
            "individual_note": position is None,
            "notes": [note],
        }
        mr.discussions.append(discussion)
        return Reply(201, discussion if position is not None else note)

    def _edit_note(self, mr: FakeMergeRequest, note_id: int, body: str) -> Reply:
        for d in mr.discussions:
            for note in d["notes"]:
                if note["id"] == note_id:
                    if note["author"]["id"] != BOT["id"]:
                        return Reply(403, {"message": "403 Forbidden"})
                    note["body"] = body
                    return Reply(200, note)
        return Reply(404, {"message": "404 Not found"})

    def _resolve(self, mr: FakeMergeRequest, discussion_id: str, resolved: bool) -> Reply:
        for d in mr.discussions:
            if d["id"] == discussion_id and d["notes"][0]["resolvable"]:
                for note in d["notes"]:
                    note["resolved"] = resolved
                return Reply(200, d)
        return Reply(404, {"message": "404 Not found"})

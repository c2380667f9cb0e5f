"""Forges: where pull requests live (GitHub; a new one registers in `forge/registry.py`).

`forge/base.py` is the seam: the `Forge` Protocol (parse a reference, read a pull request into
`PullRequestInfo`, fetch its head, plan and publish a review) and `ForgeError`.
"""

from deepreview.forge.base import Forge, ForgeError, PullRef, PullRequestInfo

__all__ = ["Forge", "ForgeError", "PullRef", "PullRequestInfo"]

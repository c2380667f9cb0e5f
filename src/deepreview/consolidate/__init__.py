"""Consolidation: ground agent findings against the code, merge them, decide the verdict."""

from deepreview.consolidate.engine import Consolidation, ConsolidationInput, consolidate
from deepreview.consolidate.fingerprint import fingerprint
from deepreview.consolidate.tree import SourceTree

__all__ = ["Consolidation", "ConsolidationInput", "SourceTree", "consolidate", "fingerprint"]

"""Cross-examination: a critical or important finding raised by one AI vendor only is put to an
agent of another vendor, which confirms it, refutes it or stays uncertain, with file:line
evidence (`select` chooses, `question` asks and reads, `examine` runs them within a budget).
Consolidation then applies the outcome (`consolidate/engine.py`): a refutation drops the
finding as a false positive, a confirmation counts as a second vendor's opinion."""

from deepreview.crossexam.examine import cross_examine

__all__ = ["cross_examine"]

"""What the tools say on a model on data: they descend its full-data loss, never minibatches."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explorer.gui.model.document import Document

FULL_BATCH = "Full batch: the minibatch rule is for single runs."


def full_batch_note(document: Document) -> str:
    """' Full batch: …' (with its leading space) while a model on data is shown, else ''."""
    return f" {FULL_BATCH}" if document.is_model else ""

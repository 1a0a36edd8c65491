"""manifest.json: how a version was built, read and written here and nowhere else.

`Manifest` has one field per key (docs/index-format.md); a key an older index
lacks takes its field's default (no `encoder`: `torch-fp32`, no `faiss_index`:
exact search). What was read is kept as `raw`, as the checksums are over the
file as it is (indexer/index/integrity.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..embedding.engines import TORCH
from ..errors import IndexCorrupt
from .layout import MANIFEST, rebuild_hint

_WRITTEN_IF_SET = ("nlist", "nprobe", "files", "manifest_sha256")  # left out when None


@dataclass
class Manifest:
    """One version's manifest.json, key by key, in the order they are written."""

    format_version: int | None = None
    model: str | None = None
    encoder: str = TORCH
    dimension: int | None = None
    normalized: bool | None = None
    metric: str | None = None
    passage_settings: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    date_range: list[str] | None = None
    sources: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    built_at: str | None = None
    faiss_index: str = "IndexFlatIP"
    nlist: int | None = None
    nprobe: int | None = None
    files: dict[str, dict] | None = None
    manifest_sha256: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, raw: dict) -> Manifest:
        keys = {f.name for f in fields(cls)} - {"raw"}
        return cls(**{key: value for key, value in raw.items() if key in keys}, raw=raw)

    def to_dict(self) -> dict:
        """The keys and values manifest.json holds, `manifest_sha256` last."""
        body = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "raw"}
        return {key: value for key, value in body.items() if value is not None or key not in _WRITTEN_IF_SET}

    @property
    def vector_settings(self) -> dict:
        """The FAISS index kind and its parameters (indexer/index/vectors.py)."""
        settings = {"faiss_index": self.faiss_index, "nlist": self.nlist, "nprobe": self.nprobe}
        return {key: value for key, value in settings.items() if value is not None}


def read_manifest(version: Path) -> Manifest:
    try:
        raw = json.loads((version / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise IndexCorrupt(f"{version / MANIFEST} is missing; {rebuild_hint(version)}") from exc
    except PermissionError:
        raise  # not damage: indexer/index/storage.py says whose permission is missing
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{version / MANIFEST} is unreadable ({exc}); {rebuild_hint(version)}") from exc
    return Manifest.from_dict(raw)


def write_manifest(version: Path, manifest: Manifest) -> None:
    """manifest.json with a checksum of its own content, so a flipped byte in it is noticed too."""
    body = {key: value for key, value in manifest.to_dict().items() if key != "manifest_sha256"}
    (version / MANIFEST).write_text(json.dumps({**body, "manifest_sha256": digest(body)}, indent=2))


def digest(raw: dict) -> str:
    """SHA-256 of a manifest's keys but `manifest_sha256`, as sorted JSON."""
    body = {key: value for key, value in raw.items() if key != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

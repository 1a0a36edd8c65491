"""Typed errors a user can cause; the CLI and the app turn them into one-line messages."""


class PodiumError(Exception):
    """Base class: the message names the problem and the fix."""


class UnreadableFile(PodiumError):
    """One input file could not be read; the run goes on without it."""


class InputPathMissing(PodiumError):
    """A path given on the command line does not exist."""


class NoDocuments(PodiumError):
    """The paths held no readable transcript."""


class IndexMissing(PodiumError):
    """No index at the given location."""


class IndexCorrupt(PodiumError):
    """An index file is missing or damaged."""


class IndexMismatch(PodiumError):
    """The index was built with another model or format version."""


class BadQuery(PodiumError):
    """An empty query, a bad date or another unusable search request."""


class StorageError(PodiumError):
    """The disk refused a read or a write: it is full, read-only, or this user may not use the path."""


class StoreUnreachable(PodiumError):
    """The Milvus store named by --store or $PODIUM_STORE cannot be reached."""

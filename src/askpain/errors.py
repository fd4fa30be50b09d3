"""Domain errors. The library raises these; only the CLI and the web page turn them into messages."""


class AskpainError(Exception):
    """Base class: a problem the user can act on, with a message that says how."""


class CorpusError(AskpainError):
    """The corpus folder or one of its documents cannot be read."""


class SettingsError(AskpainError):
    """A setting (argument or ASKPAIN_* variable) has a bad value."""


class IndexUnusableError(AskpainError):
    """index/ cannot be served as it is; rebuilding it with `askpain index` fixes it."""


class IndexMissingError(IndexUnusableError):
    """No index has been built yet."""


class IndexCorruptError(IndexUnusableError):
    """An index file is missing, truncated, altered or unreadable."""


class IndexStaleError(IndexUnusableError):
    """The index was built from another corpus, model or chunking setting."""


class ModelLoadError(AskpainError):
    """The embedding model cannot be loaded from its local path."""


class IndexBusyError(AskpainError):
    """Another askpain build of the same index did not finish in time."""

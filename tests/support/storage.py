from django.core.files.storage import InMemoryStorage


class StorageWithoutPaths(InMemoryStorage):
    """Files in memory, and no local path to them: what object storage offers. (The in-memory
    storage maps names to nodes through ``path()``; only code outside it is refused one.)"""

    def path(self, name):
        raise NotImplementedError("object storage has no local paths")

    def _relative_path(self, name):
        return super()._relative_path.__func__(_WithPaths(self), name)


class _WithPaths:
    def __init__(self, storage):
        self.location = storage.location
        self.path = lambda name: InMemoryStorage.path(storage, name)

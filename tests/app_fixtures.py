"""Fixtures for the AppTest modules, loaded as a plugin (`pytest_plugins = ["app_fixtures"]`): the app on the
slice's index, the bytes each download button serves, and releasing the indexes the app cached."""

import pytest
import streamlit as st
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage


@pytest.fixture(scope="module", autouse=True)
def release_cached_indexes():
    """`load_index` is an st.cache_resource: drop the indexes (and models) this module loaded."""
    yield
    st.cache_resource.clear()


@pytest.fixture
def slice_app(slice_dir, monkeypatch):
    monkeypatch.setenv("PODIUM_INDEX", str(slice_dir))


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """The bytes each download button serves, by the media file id its URL ends with."""
    served = {}
    store = MemoryMediaFileStorage.load_and_get_id

    def spy(self, data, mimetype, kind, filename=None):
        file_id = store(self, data, mimetype, kind, filename)
        served[file_id] = data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return served

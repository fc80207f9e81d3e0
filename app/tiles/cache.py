"""An in-process cache of rendered tiles, invalidated by the database itself.

Writers' tables carry statement triggers that NOTIFY `bordermark_tiles` with the table's
name (app/operations/notices.py delivers them after the writer commits); a notice bumps the
generation of the layers that table feeds. A tile is cached under the generation read
*before* it was rendered, so a tile rendered from data that a concurrent commit has since
changed is stored under an old generation and never served. While notices are not being
received the cache is off (nothing stale is served while notices could be missed) and it
is emptied when they come back."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from app.layers import TILE_LAYERS

CHANNEL = "bordermark_tiles"


def _layers_of_table() -> dict[str, tuple[str, ...]]:
    """Which tile layers each table feeds, as the layers declare it."""
    fed: dict[str, list[str]] = {}
    for layer in TILE_LAYERS.values():
        assert layer.tiles is not None
        for table in layer.tiles.drawn_from:
            fed.setdefault(table, []).append(layer.id)
    return {table: tuple(layers) for table, layers in fed.items()}


LAYERS_OF_TABLE = _layers_of_table()


@dataclass
class TileCache:
    max_bytes: int
    channel: str = CHANNEL
    listening: bool = False
    generations: dict[str, int] = field(default_factory=dict)
    _entries: OrderedDict[tuple[Any, ...], tuple[bytes, str]] = field(default_factory=OrderedDict)
    _bytes: int = 0
    hits: int = 0
    misses: int = 0

    @property
    def enabled(self) -> bool:
        return self.listening and self.max_bytes > 0

    def generation(self, layer: str) -> int:
        return self.generations.get(layer, 0)

    def get(self, key: tuple[Any, ...]) -> tuple[bytes, str] | None:
        if not self.enabled:
            return None
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return found

    def put(self, key: tuple[Any, ...], body: bytes, etag: str) -> None:
        if not self.enabled or len(body) > self.max_bytes // 8:
            return
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._bytes -= len(previous[0])
        self._entries[key] = (body, etag)
        self._bytes += len(body)
        while self._bytes > self.max_bytes:
            _, (old, _) = self._entries.popitem(last=False)
            self._bytes -= len(old)

    def changed(self, table: str) -> None:
        for layer in LAYERS_OF_TABLE.get(table, tuple(self.generations) or ()):
            self.generations[layer] = self.generation(layer) + 1

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
        for layer in list(self.generations):
            self.generations[layer] += 1

    def set_listening(self, on: bool) -> None:
        self.clear()
        self.listening = on

    @property
    def size_bytes(self) -> int:
        return self._bytes

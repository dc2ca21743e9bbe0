"""Static files as ``casecenter serve`` serves them: hashed names (a year in the
browser's cache), with gzip and Brotli copies WhiteNoise picks by Accept-Encoding.

WhiteNoise's own storage compresses every file with Brotli's slowest setting at
every ``collectstatic``, ~40 s here for the Swagger UI's 8 MB of scripts and source
maps, and the command runs at each start of the server. Quality 9 gives 5–10 %
larger files in a twentieth of the time, and a copy already compressed under a
hashed name (the name is the content's hash) is kept, not made again.
"""

from __future__ import annotations

from pathlib import Path

import brotli
from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

BROTLI_QUALITY = 9


class _QuickCompressor(Compressor):
    def compress(self, path: str) -> list[str]:
        done = [path + suffix for suffix in (".br", ".gz") if Path(path + suffix).exists()]
        if done and Path(path).stat().st_mtime <= Path(done[0]).stat().st_mtime:
            return done
        return super().compress(path)

    @staticmethod
    def compress_brotli(data: bytes) -> bytes:
        return brotli.compress(data, quality=BROTLI_QUALITY)


class HashedStaticStorage(CompressedManifestStaticFilesStorage):
    def create_compressor(self, **kwargs) -> Compressor:
        return _QuickCompressor(**kwargs)

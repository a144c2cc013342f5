"""A show's recordings made into its replay's MP4, with ffmpeg (Debian's `ffmpeg` package).

The media server records each publish as an FLV file in its recordings folder; a real-time
provider's egress leaves a file at a URL. Both are joined in order with ffmpeg's concat demuxer
and remuxed without re-encoding (`-c copy`) into an MP4 whose index comes first (`-movflags
+faststart`), so a player starts before the whole file arrives. Only recordings inside
MEDIA_SERVER_DIR/recordings or at http(s) URLs are read.
"""

import json
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

# Reading: local files, and http(s) through TCP and TLS; nothing else ffmpeg could be pointed at.
PROTOCOLS = "file,http,https,tcp,tls"
# Demuxers: the parts list, and the recordings' FLV and MP4; not a playlist naming other files.
FORMATS = "concat,flv,mov,mp4,m4a,3gp,3g2,mj2"


class RecordingError(Exception):
    """A recording could not be read or remuxed; `reason` is for the log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def is_acceptable(recording: str) -> bool:
    """A recording the backend reads: a file of the media server's recordings, or an http(s) URL;
    never one with a control character (a line break would add a line to ffmpeg's concat list)."""
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in recording):
        return False
    if urlsplit(recording).scheme in ("http", "https"):
        return bool(urlsplit(recording).netloc)
    folder = (Path(settings.MEDIA_SERVER_DIR) / "recordings").resolve()
    return Path(recording).resolve().is_relative_to(folder) and not recording.startswith(("file:", "-"))


def remux(recordings: list[str], into: Path) -> float:
    """Join `recordings` into the MP4 `into`; its duration in seconds."""
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "parts.txt"
        listing.write_text("".join(f"file '{_quoted(recording)}'\n" for recording in recordings))
        _run(
            [
                settings.LIVE_FFMPEG,
                *("-nostdin", "-v", "error", "-y"),
                *("-protocol_whitelist", PROTOCOLS, "-format_whitelist", FORMATS),
                *("-f", "concat", "-safe", "0", "-i", str(listing)),
                *("-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(into)),
            ]
        )
    return duration(into)


def duration(path: Path) -> float:
    answer = _run([settings.LIVE_FFPROBE, "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)])
    try:
        return float(json.loads(answer)["format"]["duration"])
    except (KeyError, ValueError) as error:
        raise RecordingError(f"ffprobe gave no duration: {error}") from None


def _quoted(recording: str) -> str:
    # The concat list's quoting: a quote closes the string, so it is written as '\''.
    return recording.replace("'", "'\\''")


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=settings.LIVE_REPLAY_REMUX_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RecordingError(f"{Path(command[0]).name} did not run: {type(error).__name__}") from None
    if done.returncode != 0:
        raise RecordingError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-300:]}")
    return done.stdout

"""Memory and time of checking medical-record images, the most expensive part of a request.

Usage: ``make bench-uploads``. Each case runs in a fresh Python process and prints its peak resident
memory above a process that only loaded Django, and its time. Five files per request are the most
a form accepts; they are decoded one after another, so the peak stays that of one image.
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_png(path, width, height):
    from PIL import Image

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.save(path, format="PNG", compress_level=1)


def png_claiming(path, width, height):
    """A tiny PNG whose header claims a huge size (a "decompression bomb")."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def measure(files):
    """Child process: clean the files as the form does; print peak RSS in MB and seconds."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_portal.test_settings")
    import django

    django.setup()
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inquiries.forms import AttachmentsField

    uploads = [SimpleUploadedFile(Path(name).name, Path(name).read_bytes()) for name in files]
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        AttachmentsField().clean(uploads)
        outcome = "accepted"
    except ValidationError as error:
        outcome = "refused: " + error.messages[0][:50]
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{(peak - baseline) / 1024:.0f}\t{seconds:.2f}\t{outcome}")


def main():
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        photo = folder / "photo-19.9mpx.png"
        make_png(photo, 5000, 3980)
        bomb = folder / "header-10gpx.png"
        png_claiming(bomb, 100_000, 100_000)
        big = folder / "header-59.5mpx.png"
        png_claiming(big, 7712, 7712)
        cases = [
            ("one 19.9-Mpx photo", [photo]),
            ("five 19.9-Mpx photos in one request", [photo] * 5),
            ("59.5-Mpx image (refused from its header)", [big]),
            ("10-gigapixel header (refused)", [bomb]),
        ]
        print(f"{'case':45} {'extra peak MB':>13} {'seconds':>8}  outcome")
        for label, files in cases:
            result = subprocess.run(
                [sys.executable, __file__, "--measure", *map(str, files)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                check=True,
            )
            peak, seconds, outcome = result.stdout.strip().splitlines()[-1].split("\t")
            print(f"{label:45} {peak:>13} {seconds:>8}  {outcome}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        measure(sys.argv[2:])
    else:
        main()

"""Clinic and doctor photos: an upload checked by its content, re-encoded, and stored in a few widths.

The type is decided from the file's bytes (``filetype``, then Pillow decoding them), never from its
name or the browser's header. The photo is turned upright, converted to sRGB and saved again as
pixels only: no EXIF (camera, location), no colour profile, nothing appended after the image. Each
width is stored as WebP and as JPEG under an unguessable name on the public storage; a failed write
removes what was already written. A photo's files are deleted once the deletion (or the replacement
of its image) is committed.
"""

import io
import logging
import secrets
from dataclasses import dataclass
from functools import partial

import filetype
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.signals import post_delete, pre_save
from django.dispatch import receiver
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from clinics.models import ClinicPhoto, Doctor, public_media_storage

# A camera's full-size JPEG stays well below this; a larger file is refused before it is decoded.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# 40 megapixels (about 120 MB decoded) is more than any phone camera takes. The size is read from the
# header before any pixel is decoded.
MAX_PIXELS = 40_000_000
# What the content is allowed to be, and Pillow's name for the decoder that may open it.
ACCEPTED_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# The widths stored, for ``srcset``: a phone card, a phone page at 2x, a wide screen.
WIDTHS = (480, 960, 1600)
# A width is stored only when the photo is at least this much wider: a rendition barely smaller than
# the next one would only cost space.
SMALLER_STEP = 1.2
FOLDER = "clinic-photos/"
JPEG = "image/jpeg"
WEBP = "image/webp"
# The formats stored, best first (the order of the ``<source>`` elements), and how each is encoded.
ENCODINGS = {
    WEBP: ("webp", "WEBP", {"quality": 80, "method": 4}),
    JPEG: ("jpg", "JPEG", {"quality": 82, "optimize": True, "progressive": True}),
}
WHITE = (255, 255, 255)
SRGB = ImageCms.createProfile("sRGB")

logger = logging.getLogger(__name__)


class PhotoRefused(Exception):
    """An upload that is not stored as a clinic photo."""


class NotAPhoto(PhotoRefused):
    """The file is not a JPEG, PNG or WebP image that can be decoded."""


class PhotoTooLarge(PhotoRefused):
    """The file, or the image in it, is larger than the limits."""


@dataclass(frozen=True)
class PreparedPhoto:
    """A checked upload, encoded in every width and format, not yet stored."""

    width: int
    height: int
    # {(content type, width): encoded bytes}
    encoded: dict


@dataclass(frozen=True)
class StoredPhoto:
    image_name: str
    renditions: dict

    @property
    def names(self):
        return [name for by_width in self.renditions.values() for name in by_width.values()]


def prepare(upload):
    """Check an uploaded file and encode it in every width and format. Raises ``NotAPhoto`` or
    ``PhotoTooLarge``; nothing is written."""
    image = _decoded(upload)
    encoded = {}
    for width in rendition_widths(image.width):
        resized = _resized(image, width)
        for content_type, (_extension, pil_format, options) in ENCODINGS.items():
            output = io.BytesIO()
            resized.save(output, format=pil_format, **options)
            encoded[content_type, width] = output.getvalue()
    return PreparedPhoto(width=image.width, height=image.height, encoded=encoded)


def rendition_widths(original_width):
    """The widths to store a photo this wide in: never wider than the photo itself."""
    widths = [width for width in WIDTHS if width * SMALLER_STEP <= original_width]
    largest = min(original_width, WIDTHS[-1])
    return sorted({*widths, largest})


def store(prepared):
    """Write a prepared photo's renditions to the public storage; on any failure, delete what was
    written and raise."""
    storage = public_media_storage()
    stem = FOLDER + secrets.token_urlsafe(18)
    renditions = {content_type: {} for content_type in ENCODINGS}
    written = []
    name = None
    try:
        for (content_type, width), data in prepared.encoded.items():
            extension = ENCODINGS[content_type][0]
            name = f"{stem}-{width}.{extension}"
            written.append(storage.save(name, ContentFile(data)))
            renditions[content_type][str(width)] = written[-1]
    except BaseException:
        # The name being written too: a write that failed half-way leaves a partial file.
        delete_files([*written, name] if name else written)
        raise
    largest = max(int(width) for width in renditions[JPEG])
    return StoredPhoto(image_name=renditions[JPEG][str(largest)], renditions=renditions)


def delete_files(names):
    storage = public_media_storage()
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.exception("A clinic photo file could not be deleted")


def photo_files(image_name, renditions):
    """Every file of a photo: its renditions and its image."""
    names = {name for by_width in (renditions or {}).values() for name in by_width.values()}
    if image_name:
        names.add(image_name)
    return names


def srcset(photo, content_type):
    """``srcset`` of a photo's renditions in one format, narrowest first."""
    storage = public_media_storage()
    by_width = photo.renditions.get(content_type, {})
    return ", ".join(f"{storage.url(by_width[width])} {width}w" for width in sorted(by_width, key=int))


def smallest_url(photo, content_type=JPEG):
    by_width = photo.renditions.get(content_type, {})
    if not by_width:
        return public_media_storage().url(photo.image.name) if photo.image else ""
    return public_media_storage().url(by_width[min(by_width, key=int)])


def _decoded(upload):
    """The upload's image, upright, in sRGB RGB, without metadata."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise PhotoTooLarge
    upload.seek(0)
    data = upload.read()
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ACCEPTED_TYPES:
        raise NotAPhoto
    try:
        with Image.open(io.BytesIO(data), formats=[ACCEPTED_TYPES[kind.mime]]) as image:
            if image.width * image.height > MAX_PIXELS:
                raise PhotoTooLarge
            image.load()
            profile = image.info.get("icc_profile")
            upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as error:
        raise PhotoTooLarge from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise NotAPhoto from error
    return _srgb(_flattened(upright), profile)


def _flattened(image):
    """A transparent photo on white (JPEG has no transparency), in a mode a colour profile applies to."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode in ("RGB", "L", "CMYK"):
        return image
    return image.convert("RGB")


def _srgb(image, profile):
    if profile:
        try:
            return ImageCms.profileToProfile(
                image, ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB, outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            # A broken or unusual profile: the pixels as they are read better than no photo.
            pass
    return image.convert("RGB")


def _resized(image, width):
    if width >= image.width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


# The models holding a processed photo: (image field, renditions field).
PHOTO_FIELDS = {ClinicPhoto: ("image", "renditions"), Doctor: ("photo", "photo_renditions")}


@receiver(pre_save, sender=ClinicPhoto, dispatch_uid="clinic_photo_replaced_files")
@receiver(pre_save, sender=Doctor, dispatch_uid="doctor_photo_replaced_files")
def _delete_replaced_files(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    image_field, renditions_field = PHOTO_FIELDS[sender]
    previous = sender.objects.filter(pk=instance.pk).values(image_field, renditions_field).first()
    if previous is None:
        return
    replaced = photo_files(previous[image_field], previous[renditions_field]) - photo_files(
        getattr(instance, image_field).name, getattr(instance, renditions_field)
    )
    if replaced:
        transaction.on_commit(partial(delete_files, sorted(replaced)), robust=True)


@receiver(post_delete, sender=ClinicPhoto, dispatch_uid="clinic_photo_deleted_files")
@receiver(post_delete, sender=Doctor, dispatch_uid="doctor_photo_deleted_files")
def _delete_files_of_deleted_photo(sender, instance, **kwargs):
    image_field, renditions_field = PHOTO_FIELDS[sender]
    names = photo_files(getattr(instance, image_field).name, getattr(instance, renditions_field))
    if names:
        transaction.on_commit(partial(delete_files, sorted(names)), robust=True)

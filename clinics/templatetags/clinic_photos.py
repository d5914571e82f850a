from django import template

from clinics import photos

register = template.Library()


@register.inclusion_tag("clinics/_photo.html")
def clinic_photo(photo, sizes, css_class="", eager=False):
    """A clinic photo as ``<picture>``: WebP where the browser takes it, JPEG otherwise, each in every
    stored width. ``sizes``: how wide the photo shows; ``eager`` for a photo at the top of a page."""
    return {
        "photo": photo,
        "webp_srcset": photos.srcset(photo, photos.WEBP),
        "jpeg_srcset": photos.srcset(photo, photos.JPEG),
        "sizes": sizes,
        "css_class": css_class,
        "eager": eager,
    }

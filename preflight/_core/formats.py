"""The format registry: everything preflight knows about each image format, in one table.

Rules:
- one row per format, keyed by a short lowercase name; the header parsers
  (signatures), check (media types, extensions, accepted or not), prepare
  (output extensions, what to install), both engines (Pillow plugins,
  libvips loaders, who decodes what) and the CLI walker (extensions) all
  read this table and nothing else;
- "accepted" is the API's list (vision guide, "Vision"): JPEG, PNG, GIF,
  WebP with exactly their four media types; everything else is refused;
- which engine decodes a format is what preflight allows, not all a
  library could do: libvips loaders marked untrusted stay blocked.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str  # the key: jpeg, png, ...
    label: str  # for messages: JPEG, PNG, ...
    media_type: str  # its IANA media type (only the four accepted ones are the API's)
    accepted: bool  # does the API take it as it is
    extensions: tuple[str, ...]  # lowercase, with the dot; the first is what we write
    signatures: tuple[bytes, ...]  # the bytes a file starts with (documentation for some)
    pillow_plugins: tuple[str, ...] = ()  # Pillow plugins allowed to open it
    vips_loader: str | None = None  # the libvips loader that would read it
    vips_decodes: bool = False  # the vips engine decodes it (pyvips[binary]'s libvips)
    install_hint: str = "export it as PNG or JPEG"  # when no installed engine decodes it
    writable: bool = False  # prepare can write it


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "jpeg",
            "JPEG",
            "image/jpeg",
            True,
            (".jpg", ".jpeg", ".jpe", ".jfif"),
            (b"\xff\xd8\xff",),
            pillow_plugins=("JPEG",),  # also opens MPO: the first picture is the photo
            vips_loader="jpegload",
            vips_decodes=True,
            writable=True,
        ),
        Format(
            "png",
            "PNG",
            "image/png",
            True,
            (".png", ".apng"),
            (b"\x89PNG\r\n\x1a\n",),
            pillow_plugins=("PNG",),
            vips_loader="pngload",
            vips_decodes=True,
            writable=True,
        ),
        Format(
            "gif",
            "GIF",
            "image/gif",
            True,
            (".gif",),
            (b"GIF87a", b"GIF89a"),
            pillow_plugins=("GIF",),
            vips_loader="gifload",
            vips_decodes=True,
            writable=True,
        ),
        Format(
            "webp",
            "WebP",
            "image/webp",
            True,
            (".webp",),
            (b"RIFF",),  # then 4 bytes of length and "WEBP"
            pillow_plugins=("WEBP",),
            vips_loader="webpload",
            vips_decodes=True,
            writable=True,
        ),
        Format(
            "heic",
            "HEIC/HEIF",
            "image/heic",
            False,
            (".heic", ".heif", ".hif"),
            (b"ftypheic", b"ftypmif1"),  # at offset 4, among other brands
            pillow_plugins=("HEIF",),
            vips_loader="heifload",
            install_hint="pip install pillow-heif (the Pillow engine then reads HEIC)",
        ),
        Format(
            "avif",
            "AVIF",
            "image/avif",
            False,
            (".avif",),
            (b"ftypavif", b"ftypavis"),  # at offset 4
            pillow_plugins=("AVIF",),
            vips_loader="heifload",
            vips_decodes=True,
            install_hint='pip install "preflight[vips]" (libvips reads AVIF), or a Pillow '
            "built with AVIF",
        ),
        Format(
            "tiff",
            "TIFF",
            "image/tiff",
            False,
            (".tif", ".tiff"),
            (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
            pillow_plugins=("TIFF",),
            vips_loader="tiffload",
            vips_decodes=True,
        ),
        Format(
            "bmp",
            "BMP",
            "image/bmp",
            False,
            (".bmp", ".dib"),
            (b"BM",),
            pillow_plugins=("BMP", "DIB"),
            vips_loader="magickload",
        ),
        Format(
            "ico",
            "ICO",
            "image/vnd.microsoft.icon",
            False,
            (".ico",),
            (b"\x00\x00\x01\x00",),
            pillow_plugins=("ICO",),
            vips_loader="magickload",
        ),
        Format(
            "svg",
            "SVG",
            "image/svg+xml",
            False,
            (".svg", ".svgz"),
            (b"<svg", b"<?xml"),
            vips_loader="svgload",
            install_hint="render it to PNG first (e.g. with a browser or rsvg-convert)",
        ),
        Format(
            "pdf",
            "PDF",
            "application/pdf",
            False,
            (".pdf",),
            (b"%PDF-",),
            vips_loader="pdfload",
            install_hint="render the page to PNG first (e.g. with pdftoppm), or send it as a "
            "document",
        ),
        Format(
            "jxl",
            "JPEG XL",
            "image/jxl",
            False,
            (".jxl",),
            (b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n"),
            vips_loader="jxlload",
        ),
        Format(
            "jp2",
            "JPEG 2000",
            "image/jp2",
            False,
            (".jp2", ".j2k", ".jpx", ".jpf", ".j2c"),
            (b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51"),
            pillow_plugins=("JPEG2000",),
            vips_loader="jp2kload",
            install_hint="use a Pillow built with OpenJPEG, or export it as PNG or JPEG",
        ),
        Format(
            "psd",
            "PSD",
            "image/vnd.adobe.photoshop",
            False,
            (".psd",),
            (b"8BPS",),
            pillow_plugins=("PSD",),
            vips_loader="magickload",
        ),
    )
}

# The API's list, in its own order (docs/limits.md).
ACCEPTED_MEDIA_TYPES = tuple(f.media_type for f in FORMATS.values() if f.accepted)
MEDIA_TYPES = {f.name: f.media_type for f in FORMATS.values() if f.accepted}
FORMAT_LABELS = {f.name: f.label for f in FORMATS.values()}
OUTPUT_FORMATS = tuple(f.name for f in FORMATS.values() if f.writable and f.name != "gif")
IMAGE_EXTENSIONS = frozenset(ext for f in FORMATS.values() for ext in f.extensions)
_BY_EXTENSION = {ext: f for f in FORMATS.values() for ext in f.extensions}


def format_for_extension(path: str) -> Format | None:
    """The format a file name's extension claims, if any."""
    dot = path.rfind(".")
    if dot < 0 or "/" in path[dot:] or "\\" in path[dot:]:
        return None
    return _BY_EXTENSION.get(path[dot:].lower())


def media_type_for_path(path: str) -> str | None:
    """The media type an upload pipeline would declare from a file's extension,
    for the four types the API accepts; None for any other extension."""
    found = format_for_extension(path)
    return found.media_type if found is not None and found.accepted else None


def label(name: str) -> str:
    found = FORMATS.get(name)
    return found.label if found is not None else name

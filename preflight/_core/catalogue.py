"""The catalogue: every code preflight reports, what it means, how to fix it.

Rules:

- pure data: one Rule per code, no I/O. `preflight rule`, docs/rules.md,
  SARIF's rule metadata and code selection (`--select`, `--ignore`,
  `per-file-ignores`: preflight._core.selection) read this table and
  nothing else;
- complete: every code any function can emit (a finding's code, an error's
  code) is here, and every code here is emitted somewhere or marked
  `reserved` with the reason. tests/test_catalogue_complete.py finds the
  emitted codes in the source itself and holds them to this table;
- a code is never removed or renamed (scripts key on it), and one code
  string means one thing: no code is also a severity, ALL, or one of
  prepare's action codes (what prepare did, docs/prepare.md);
- kind: "finding" (check reports it about an image or a request),
  "failure" (a file or image that could not be read or prepared: reported
  per file), "usage" (the caller's mistake: the command exits 2);
- each Rule names the docs page its fact comes from, the API's own words
  where the facts give them, and what in preflight fixes it, if anything;
- the codes of the quality analysis (preflight._imaging.quality) and of an
  image that could not be prepared in a request are defined here, the
  codes of the core's findings in preflight._core.findings.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from preflight._core import findings as f

FINDING = "finding"
FAILURE = "failure"
USAGE = "usage"
KINDS = (FINDING, FAILURE, USAGE)

# What in preflight fixes a code, when something does.
PREPARE = "prepare"  # `preflight prepare`, preflight.prepare(): a file the API takes
REQUEST_FIX = "request --fix"  # `preflight request --fix`, prepare_request(): a body
PACK = "pack"  # `preflight pack`, pack_images(): images split into requests that pass
FIXERS = (PREPARE, REQUEST_FIX, PACK)

# The quality analysis (preflight._imaging.quality; docs/quality.md).
BLURRY = "blurry"
UPSCALED = "upscaled"
SMALL_TEXT = "small-text"
LOW_CONTRAST = "low-contrast"
BLANK = "blank"
BORDERS = "borders"
# An image of a request that prepare could not make acceptable
# (prepare_request, pack_images).
CANNOT_PREPARE = "cannot-prepare"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str  # error, warning or info (failures and usage errors: error)
    kind: str
    summary: str  # one line
    meaning: str
    fix: str
    source: str  # the docs page (and the source it names) the fact comes from
    # The API's own words for it, where the facts give them; <N> stands for
    # a number, <W>x<H> for a size (docs/errors.md).
    api_words: str | None = None
    fixed_by: tuple[str, ...] = ()  # of FIXERS: what makes it go away by itself
    reserved: str = ""  # catalogued though nothing emits it now: why

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "code": self.code,
            "severity": self.severity,
            "kind": self.kind,
            "summary": self.summary,
            "meaning": self.meaning,
            "fix": self.fix,
            "source": self.source,
            "api_words": self.api_words,
            "fixed_by": list(self.fixed_by),
        }
        if self.reserved:
            data["reserved"] = self.reserved
        return data


_LIMITS = "docs/limits.md"
_ERRORS = "docs/errors.md"
_HOSTILE = "docs/hostile-input.md"
_REQUESTS = "docs/requests.md"
_QUALITY = "docs/quality.md"
_GUIDE = f"{_LIMITS} (Quality; the vision guide)"
_UNDECODABLE = "Could not process image"
_OPT_IN = (
    "Measured only when asked: `check --quality`, inspect(measure_quality=True), "
    "prepare(measure_quality=True)."
)

_RULES = (
    # --- findings: errors (the API rejects the request) -----------------------
    Rule(
        f.OVER_MAX_SIDE,
        f.ERROR,
        FINDING,
        "A side is over 8000 px: the API rejects the image.",
        "The API refuses any image with a width or height over 8000 pixels, with "
        '"At least one of the image dimensions exceed max allowed size: 8000 pixels".',
        "Downscale the image so that both sides are at most 8000 px (`preflight prepare` does it).",
        f"{_LIMITS} (Pixels; the vision guide) and {_ERRORS} (Messages; live API behaviour)",
        api_words="At least one of the image dimensions exceed max allowed size: 8000 pixels",
        fixed_by=(PREPARE, REQUEST_FIX),
    ),
    Rule(
        f.OVER_MANY_IMAGES_SIDE,
        f.ERROR,
        FINDING,
        "A side is over 2000 px in a request with more than 20 images.",
        "When a request holds more than 20 image blocks (earlier turns and tool results "
        "count), every image with a side over 2000 px is rejected.",
        "Resize each image to at most 2000 px a side, or send 20 or fewer images per request.",
        f'{_LIMITS} (Pixels, many-image rule; the vision guide and the "Vision" page)',
        api_words="At least one of the image dimensions exceed max allowed size for many-image "
        "requests: 2000 pixels",
        fixed_by=(PREPARE, REQUEST_FIX),
    ),
    Rule(
        f.TOO_MANY_IMAGES,
        f.ERROR,
        FINDING,
        "More images in the request than the model or surface allows.",
        "A request may hold 100 images (600 on larger-context models, 20 per message on "
        "claude.ai), image and document blocks together; over that the API answers "
        '"too many images and documents" (2025 to January 2026: "Too much media").',
        "Split the images over several requests (`preflight pack` does).",
        f'{_LIMITS} (Images per request; the "Vision" page)',
        api_words="too many images and documents: <N> + <N> > <N>",
        fixed_by=(PACK,),
    ),
    Rule(
        f.OVER_BYTE_LIMIT,
        f.ERROR,
        FINDING,
        "The image's base64 text is over the surface's per-image limit.",
        "The per-image limit (5 MB or 10 MB by surface) is measured on the base64 text, "
        "which is 4/3 of the file's size.",
        "Re-encode or downscale the image (`preflight prepare` fits it to the budget).",
        f"{_LIMITS} (Bytes are counted on the base64 text; current docs)",
        api_words="image exceeds <N> MB maximum: <N> bytes > <N> bytes",
        fixed_by=(PREPARE, REQUEST_FIX),
    ),
    Rule(
        f.UNSUPPORTED_FORMAT,
        f.ERROR,
        FINDING,
        "A format the API does not accept (HEIC, AVIF, TIFF, BMP, SVG, ...).",
        "The API takes only JPEG, PNG, GIF and WebP. Data of another format declared as one "
        'of those four is answered "Image format image/png not supported" (the declared '
        "type); declared as its own type, the media type check refuses it first "
        "(bad-media-type).",
        "Convert the image to JPEG or PNG (`preflight prepare` converts it when an installed "
        "engine decodes the format).",
        f"{_LIMITS} (Formats; the vision guide) and {_ERRORS} (Messages)",
        api_words="Image format <type> not supported",
        fixed_by=(PREPARE, REQUEST_FIX),
    ),
    Rule(
        f.NOT_AN_IMAGE,
        f.ERROR,
        FINDING,
        "The file does not start like any image format.",
        'The API answers "Could not process image" for data it cannot decode.',
        "Check that the file is the image you meant; re-export it.",
        f"{_ERRORS} (Messages; live API behaviour)",
        api_words=_UNDECODABLE,
    ),
    Rule(
        f.MEDIA_TYPE_MISMATCH,
        f.ERROR,
        FINDING,
        "The declared media type (from the extension) is not the content's.",
        "The API compares the declared media_type with the data and rejects a mismatch "
        "(a PNG named .jpg is declared image/jpeg by most upload code).",
        "Declare the content's media type, or rename the file to match its content.",
        f"{_LIMITS} (Formats) and {_ERRORS} (Messages; live API behaviour)",
        api_words="The image was specified using the <declared> media type, but the image appears "
        "to be a <actual> image",
        fixed_by=(PREPARE, REQUEST_FIX),
    ),
    Rule(
        f.BAD_MEDIA_TYPE,
        f.ERROR,
        FINDING,
        "The declared media type is not one of the four the API accepts.",
        "media_type must be exactly image/jpeg, image/png, image/gif or image/webp.",
        "Declare the media type of the content.",
        f"{_ERRORS} (Messages; live API behaviour)",
        api_words="Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
        fixed_by=(PREPARE, REQUEST_FIX),
    ),
    Rule(
        f.EMPTY,
        f.ERROR,
        FINDING,
        "The file is empty.",
        'Zero bytes: sent as empty base64 data, the API answers "image cannot be empty".',
        "Export or download the image again.",
        f"{_ERRORS} (Messages) and {_HOSTILE} (Before decoding)",
        api_words="image cannot be empty",
    ),
    Rule(
        f.TRUNCATED,
        f.ERROR,
        FINDING,
        "The image data is cut short.",
        "The file ends before its header or pixel data does; decoders refuse it and the API "
        'answers "Could not process image".',
        "The file is incomplete: download or export it again (preflight never fills in "
        "missing pixels, so prepare refuses it too).",
        f"{_ERRORS} (Messages) and {_HOSTILE} (Before decoding)",
        api_words=_UNDECODABLE,
    ),
    Rule(
        f.CORRUPT,
        f.ERROR,
        FINDING,
        "A header field is impossible (a zero size, a bad length, a bad marker).",
        'The header cannot describe a real image; the API answers "Could not process image".',
        "Re-export the image from its original.",
        f"{_ERRORS} (Messages) and {_HOSTILE} (Before decoding)",
        api_words=_UNDECODABLE,
    ),
    Rule(
        f.UNREADABLE,
        f.ERROR,
        FINDING,
        "The file could not be read (missing, a directory, a broken link, no permission).",
        "preflight could not open or read the path, so nothing could be sent either.",
        "Check the path and its permissions.",
        _HOSTILE,
    ),
    Rule(
        f.REQUEST_TOO_LARGE,
        f.ERROR,
        FINDING,
        "The images' base64 alone is over the request body limit (HTTP 413).",
        "A request body is limited (32 MB on the Messages API, 256 MB for Message Batches); "
        'over it the API answers HTTP 413 "Request exceeds the maximum size".',
        "Send the images in several requests (`preflight pack`), or make them smaller "
        "(`preflight request --fix` shrinks the largest first).",
        f'{_LIMITS} (Request bodies; "API overview") and {_ERRORS} (Messages)',
        api_words="Request exceeds the maximum size",
        fixed_by=(REQUEST_FIX, PACK),
    ),
    Rule(
        f.OVERSIZED,
        f.ERROR,
        FINDING,
        "Over the tier's size where oversized images are refused, not resized.",
        'With "transformations": {"oversized_image": "error"}, and for computer-use and '
        "browser-use screenshots in tool results, the API refuses an image it would resize.",
        "Resize the image to the size the tier keeps (`preflight prepare --target api`).",
        f'{_LIMITS} (Oversized images) and {_ERRORS} (Oversized image; "Vision coordinates")',
        api_words="image dimensions <W>x<H> exceed the maximum image size of a model named on this "
        "request and would be downsized to <W>x<H>; scale the image to at most <W>x<H> or set "
        'the image\'s oversized_image setting to "downsize"',
        fixed_by=(PREPARE, REQUEST_FIX),
    ),
    # --- findings: warnings (accepted, but changed or likely misread) ---------
    Rule(
        f.MISSING_END_MARKER,
        f.WARNING,
        FINDING,
        "A JPEG with data after its end, or a GIF without its trailer.",
        "Phones append a video to motion photos after the JPEG's end marker; a GIF without "
        "its trailer was cut short or has data appended. Decoders read both.",
        "Nothing is needed; re-export the image to drop the extra bytes from the upload.",
        f"{_HOSTILE} (Before decoding)",
        fixed_by=(PREPARE,),
    ),
    Rule(
        f.WILL_RESIZE,
        f.WARNING,
        FINDING,
        "The API will downscale the image: upload bytes and latency for nothing.",
        "An image over the model's tier size (1568 px / 1568 patch tokens on the standard "
        "tier) is resized by the API; the detail removed is never seen, and resizing on the "
        "server delays the first token.",
        "Resize it before sending (`preflight prepare` makes the size the API keeps).",
        "docs/resize-and-tokens.md (The published resize algorithm; current docs) and "
        f"{_LIMITS} (Quality; the vision guide)",
        fixed_by=(PREPARE, REQUEST_FIX),
    ),
    Rule(
        f.SMALL_SIDE,
        f.WARNING,
        FINDING,
        "A side under 200 px may degrade the answer.",
        "The vision guide warns that images with a side under 200 px may be misread.",
        "Send a larger original if there is one (upscaling adds no detail).",
        f"{_LIMITS} (Quality; the vision guide)",
    ),
    Rule(
        f.EXIF_ROTATION,
        f.WARNING,
        FINDING,
        "An EXIF orientation the model will not see.",
        "Viewers rotate the image by its EXIF tag, but the model reads no metadata and sees "
        "the stored pixels, which may be sideways or mirrored.",
        "Rotate the pixels (`preflight prepare` applies the orientation).",
        f"{_LIMITS} (Quality; the vision guide) and {_HOSTILE} (Orientation)",
        fixed_by=(PREPARE,),
    ),
    Rule(
        f.ANIMATED,
        f.WARNING,
        FINDING,
        "An animated GIF, APNG or WebP: the model sees one frame.",
        'The "Vision" page says the model sees only the first frame of an animation; the '
        "vision guide does not say.",
        "Send the frame you mean as a still image (`preflight prepare` keeps the first).",
        f'{_LIMITS} (Formats; the "Vision" page)',
        fixed_by=(PREPARE,),
    ),
    # --- findings: info (harmless, worth knowing) ------------------------------
    Rule(
        f.PROGRESSIVE,
        f.INFO,
        FINDING,
        "A progressive JPEG.",
        "Accepted as it is; noted for pipelines that want baseline JPEGs.",
        "Nothing is needed.",
        f"{_LIMITS} (Formats; the vision guide)",
    ),
    Rule(
        f.CMYK,
        f.INFO,
        FINDING,
        "A CMYK (or YCCK) JPEG: colours depend on the decoder.",
        "The API accepts it, but decoders differ on CMYK colours, so the model may see other "
        "colours than a viewer shows.",
        "Convert to sRGB (`preflight prepare` does).",
        f"{_LIMITS} (Formats; the vision guide)",
        fixed_by=(PREPARE,),
    ),
    Rule(
        f.HIGH_BIT_DEPTH,
        f.INFO,
        FINDING,
        "More than 8 bits per sample.",
        "Accepted; no source says that the extra precision reaches the model, and it costs "
        "upload bytes.",
        "Nothing is needed; convert to 8 bits per sample to save upload bytes (`preflight "
        "prepare` does so only when it re-encodes the image for another reason).",
        f"{_LIMITS} (Formats; the vision guide)",
    ),
    Rule(
        f.INTERLACED,
        f.INFO,
        FINDING,
        "An interlaced PNG or GIF.",
        "Accepted as it is; interlacing makes the file larger and only helps slow "
        "progressive display.",
        "Nothing is needed; re-encode without interlacing to save bytes.",
        f"{_LIMITS} (Formats; the vision guide)",
    ),
    Rule(
        f.ALPHA,
        f.INFO,
        FINDING,
        "The image has an alpha channel.",
        "Accepted; no source says how transparent pixels are shown to the model.",
        "Flatten onto the background you mean if transparency matters.",
        f"{_LIMITS} (Formats; the vision guide)",
    ),
    # --- findings about whole request bodies (check_request; docs/requests.md) ----
    Rule(
        f.UNDECODABLE,
        f.ERROR,
        FINDING,
        "The header reads, but the pixel data does not decode.",
        'The API answers "Could not process image" for data its decoder cannot read; '
        "the header alone looks fine (found by check --decode and prepare's verification).",
        "Export the image again; `preflight prepare` re-encodes it when a decoder still "
        "reads all of it.",
        f"{_ERRORS} (Could not process image; live API behaviour) and {_HOSTILE}",
        api_words=_UNDECODABLE,
    ),
    Rule(
        f.MALFORMED_REQUEST,
        f.ERROR,
        FINDING,
        "The request body has the wrong shape or types.",
        "A body that is not an object, has no messages, a block without a type, or "
        "values of the wrong type: the API refuses it with a 400.",
        "Fix the body at the path named (the Messages API's shape; the SDK's types help).",
        f"{_REQUESTS} (Malformed bodies; the wording is preflight's own)",
    ),
    Rule(
        f.SOURCE_NOT_ACCEPTED,
        f.ERROR,
        FINDING,
        "A url or file image source on a surface that takes only base64.",
        'Bedrock and Google Cloud Vertex AI take base64 image sources only ("Vision").',
        "Fetch the image yourself and send it as a base64 source (`preflight prepare` makes "
        "the bytes).",
        f'{_LIMITS} (Image sources; the "Vision" page)',
    ),
    Rule(
        f.BAD_BASE64,
        f.ERROR,
        FINDING,
        "Image data that is not valid base64 text.",
        "The data field of a base64 source must be plain base64 text; anything else (often a "
        'kept "data:image/png;base64," prefix) is answered "invalid base64 data".',
        "Encode the bytes with standard base64 (no line breaks, no data: URL prefix).",
        f"{_REQUESTS} (What is checked offline) and {_ERRORS} (Messages)",
        api_words="invalid base64 data",
    ),
    Rule(
        f.NOT_CHECKED_OFFLINE,
        f.INFO,  # a warning when a resolver was given and failed
        FINDING,
        "A url or file image source: the API fetches it, so it cannot be checked here.",
        "It counts toward the image limits; its size and bytes are unknown without a resolver.",
        "Pass a resolver to check_request to fetch the bytes and check them too.",
        f"{_LIMITS} (Image sources) and {_REQUESTS}",
    ),
    Rule(
        f.TOO_MANY_PDF_PAGES,
        f.ERROR,
        FINDING,
        "A base64 PDF document with more pages than the API takes (100).",
        "check_request counts the pages of every base64 PDF document (with pypdf, the pdf "
        "extra) and the API refuses a PDF over 100 pages. A third party reports 600 pages on "
        "1M-context models; no Anthropic source says so, so preflight checks 100 everywhere.",
        "Split the PDF into parts of at most 100 pages, one document block each.",
        f"{_REQUESTS} (Documents and PDFs) and {_ERRORS} (Messages)",
        api_words="A maximum of 100 PDF pages may be provided.",
    ),
    Rule(
        f.PDF_PAGES_UNKNOWN,
        f.WARNING,
        FINDING,
        "A base64 PDF whose pages could not be counted.",
        "pypdf (the pdf extra) is not installed, or it could not read the PDF: the 100-page "
        "limit is not checked for this document.",
        "Install the extra (pip install 'preflight[pdf]'), or check that the PDF opens.",
        f"{_REQUESTS} (Documents and PDFs)",
    ),
    Rule(
        f.RETIRED_MODEL,
        f.ERROR,
        FINDING,
        "The request names a retired model: the API refuses it before any image.",
        "A retired model is no longer served (the API answers not found), whatever the "
        "images; a deprecated model is retired from its retirement date on, judged on the "
        "real date unless `today=` is given. The API's words are not in preflight's sources.",
        "Name a current model (docs/models.md lists them with their status).",
        "docs/models.md (Status and retirement; model pages, SDK 2.17) and docs/errors.md",
    ),
    Rule(
        f.RETIRED_ON_CLAUDE_API,
        f.WARNING,
        FINDING,
        "A model retired on the Claude API, sent to a cloud that may still serve it.",
        "Claude Opus 4 and 4.1 are retired on the Claude API and still served on some clouds; "
        "which clouds is not documented, so on Bedrock and Vertex AI this is a warning.",
        "Check that your platform still serves the model, or name a current one.",
        "docs/models.md (Status and retirement)",
    ),
    Rule(
        f.MODEL_RETIRING,
        f.WARNING,
        FINDING,
        "The model retires within 30 days.",
        "A deprecated model with a retirement date 30 days away or less: requests naming it "
        "fail from that day. The 30 days are preflight's own notice period.",
        "Move to a current model before the date.",
        "docs/models.md (Status and retirement)",
    ),
    Rule(
        f.UNKNOWN_MODEL,
        f.WARNING,
        FINDING,
        "The request names a model preflight's table does not hold.",
        "Its limits are not known, so the cautious ones are assumed (100 images per request, "
        "the standard tier) and it has no price.",
        "Check the name; pass model= and price_per_mtok= or add it under "
        "[tool.preflight.models] (docs/configuration.md).",
        "docs/models.md (Models preflight does not know) and docs/requests.md",
    ),
    Rule(
        f.URL_DISALLOWED,
        f.ERROR,
        FINDING,
        "A url source the site's robots.txt keeps the API from fetching.",
        "The API fetches url images and documents itself and honours robots.txt; a "
        "resolver that finds the URL disallowed reports it (Refusal('robots')).",
        "Download the image yourself and send it as base64 or through the Files API.",
        f"{_REQUESTS} (url and file sources) and {_ERRORS} (Messages)",
        api_words="This URL is disallowed by the website's robots.txt file.",
    ),
    Rule(
        f.URL_UNREACHABLE,
        f.ERROR,
        FINDING,
        "A url source the API cannot download.",
        "The API fetches url sources itself; a resolver that cannot download one for a "
        "reason the API shares reports it (Refusal('download')).",
        "Check that the URL is public and answers, or send the image as base64.",
        f"{_REQUESTS} (url and file sources) and {_ERRORS} (Messages)",
        api_words="Unable to download the file",
    ),
    # --- findings of the quality analysis (check --quality; docs/quality.md) ----
    # Warnings, never errors: the API takes these images. Every threshold is
    # preflight's own, chosen on the evaluation set of docs/quality.md; the
    # vision guide gives advice and no numbers.
    Rule(
        BLURRY,
        f.WARNING,
        FINDING,
        "The image is blurry at the size the model sees it.",
        "Perceptual blur (Crété-Roffet et al. 2007; 0 sharp, 1 flat), measured at the size "
        "the API processes, is 0.50 or more. The vision guide asks for sharp images; the API "
        "accepts this one, and the model may misread it. "
        f"{_OPT_IN}",
        "Send a sharper original: in focus, not enlarged, not re-compressed.",
        f"{_QUALITY} (What is measured) and {_GUIDE}",
    ),
    Rule(
        UPSCALED,
        f.WARNING,
        FINDING,
        "The image was enlarged: its pixels carry less detail than their number.",
        "The detail ends at half the pixel frequency or lower and the interpolation left a "
        "periodic trace (or pixels repeat in runs along both axes). The model sees no more "
        "detail than the smaller original had, but the tokens are counted on every pixel; "
        "the message names the size that keeps all the detail and the tokens it saves. "
        f"{_OPT_IN}",
        "Send it at the size the message names (`preflight prepare --target effective` "
        "does), or find the image at its original resolution.",
        f"{_QUALITY} (What is measured) and {_GUIDE}",
    ),
    Rule(
        SMALL_TEXT,
        f.WARNING,
        FINDING,
        "Text in the image is under 12 px (em) at the size the model sees it.",
        "Lines of text are found by the periodic row profile of horizontal gradients; at the "
        "size the API processes their em size is under 12 px, where text stops being "
        "legible. The vision guide asks for text large enough to read. "
        f"{_OPT_IN}",
        "If the API shrinks the image and the text is at least 12 px before the shrink, split "
        "it into tiles the API keeps (preflight.tile); otherwise capture the text larger.",
        f"{_QUALITY} (What is measured; Tiling) and {_GUIDE}",
    ),
    Rule(
        LOW_CONTRAST,
        f.WARNING,
        FINDING,
        "Low contrast: luminance spreads over fewer than 64 of 255 levels.",
        "From the 1st to the 99th percentile the luminance spans under 64 of 255 levels: a "
        "dark, washed-out or hazy image the model may misread. "
        f"{_OPT_IN}",
        "Capture again with better light or exposure, or stretch the levels before sending.",
        f"{_QUALITY} (What is measured)",
    ),
    Rule(
        BLANK,
        f.WARNING,
        FINDING,
        "The image is nearly uniform: a failed capture or a blank page?",
        "No colour channel spreads over 16 of 255 levels (1st to 99th percentile). Only this "
        "quality finding is reported for such an image. "
        f"{_OPT_IN}",
        "Check the capture; leave the image out if it is empty.",
        f"{_QUALITY} (What is measured)",
    ),
    Rule(
        BORDERS,
        f.WARNING,
        FINDING,
        "Uniform margins cover 5% of the image or more.",
        "Padding-like margins (letterboxing, a scanner's strip, padding) cost tokens and, in "
        "an image the API shrinks, resolution for the content; the message names the "
        "content's box and the tokens a crop saves. "
        f"{_OPT_IN}",
        "Crop to the box the message names.",
        f"{_QUALITY} (What is measured)",
    ),
    # --- failures: a file that could not be read or prepared -------------------
    Rule(
        CANNOT_PREPARE,
        f.ERROR,
        FAILURE,
        "An image of a request that preflight could not prepare.",
        "prepare_request (`preflight request --fix`) or pack_images (`preflight pack`) had "
        "to prepare the image and prepare failed (it does not decode, or no encoding fits); "
        "the message carries prepare's error. prepare_request leaves the image as it was, "
        "pack_images leaves it out of every request.",
        "Replace or re-export the image; the message says why it failed.",
        f"{_REQUESTS} (prepare_request; pack_images)",
    ),
    Rule(
        "bad-header",
        f.ERROR,
        FAILURE,
        "The bytes are not a readable image header.",
        "The header parser refused the data (the root of not-an-image, empty, truncated, "
        "corrupt and header-too-large).",
        "Re-export the image.",
        f"{_HOSTILE} (Before decoding)",
    ),
    Rule(
        "header-too-large",
        f.ERROR,
        FAILURE,
        "Reaching the size fields would need more than the 8 MiB read budget.",
        "No image any surface accepts has a header that large; the file is refused unread.",
        "Re-export the image without its huge metadata.",
        f"{_HOSTILE} (The caps)",
    ),
    Rule(
        "cannot-decode-format",
        f.ERROR,
        FAILURE,
        "No installed engine decodes this format.",
        "prepare must decode an image to convert it; neither engine installed reads it.",
        'Install what the message names (pyvips via "preflight[vips]", pillow-heif), or '
        "convert the image elsewhere.",
        f"{_HOSTILE} (What each engine refuses)",
    ),
    Rule(
        "decode-failed",
        f.ERROR,
        FAILURE,
        "The engine could not decode the pixels (corrupt or cut short).",
        "The header was readable but the image data is not.",
        "Re-export the image from its original.",
        f"{_HOSTILE} (What each engine refuses)",
    ),
    Rule(
        "over-pixel-cap",
        f.ERROR,
        FAILURE,
        "The declared size is over the pixel cap: refused before decoding.",
        "Decoding a file that declares billions of pixels would exhaust memory (a "
        "decompression bomb), so prepare refuses it unread.",
        "Downscale the image with a tool you trust, or raise --pixel-cap.",
        f"{_HOSTILE} (The caps)",
    ),
    Rule(
        "over-memory-budget",
        f.ERROR,
        FAILURE,
        "Decoding it would need more memory than the decode budget: refused before decoding.",
        "The header says what a decoder must hold: the frame (samples per pixel times "
        "bytes per sample), a JPEG's coefficient buffer, a TIFF's tile. Over the budget "
        "(512 MiB by default) the file is refused unread, whatever its pixel count.",
        "Convert it to 8-bit RGB with a tool you trust, or raise PREFLIGHT_MEMORY_BUDGET.",
        f"{_HOSTILE} (The caps)",
    ),
    Rule(
        "engine-failed",
        f.ERROR,
        FAILURE,
        "The image engine failed for a reason not in the data.",
        "libvips or Pillow raised an error that does not come from the image.",
        "Try the other engine (--engine pillow or --engine vips) and report the message.",
        _HOSTILE,
    ),
    Rule(
        "over-byte-budget",
        f.ERROR,
        FAILURE,
        "No encoding of the image fits the byte budget.",
        "prepare tried smaller sizes and qualities and none fits the per-image limit on the "
        "base64 text.",
        "Raise --max-bytes, or choose a smaller --target.",
        f"{_LIMITS} (Bytes are counted on the base64 text)",
    ),
    Rule(
        "cannot-write",
        f.ERROR,
        FAILURE,
        "An output could not be written (permissions, a full disk).",
        "The operating system refused the write.",
        "Check the output directory's permissions and free space.",
        "docs/README.md",
    ),
    Rule(
        "data",
        f.ERROR,
        FAILURE,
        "Bad data or a failing environment (the root of every failure).",
        "The base class of the failures above; a file-level error not more precise.",
        "Read the message.",
        "docs/README.md",
    ),
    Rule(
        "preflight-error",
        f.ERROR,
        FAILURE,
        "An error of preflight (the root of every error).",
        "The base class of every preflight error; not raised by itself.",
        "Read the message.",
        "docs/README.md",
    ),
    # --- usage: the caller's mistakes (exit 2) ----------------------------------
    Rule(
        "usage",
        f.ERROR,
        USAGE,
        "The call, command line or configuration must change.",
        "The base class of the caller's mistakes; the command exits 2.",
        "Read the message.",
        "docs/README.md",
    ),
    Rule(
        "bad-command-line",
        f.ERROR,
        USAGE,
        "A command-line argument preflight cannot use.",
        "A bad size, option or combination of options; the command exits 2.",
        "Read the message and `preflight COMMAND --help`.",
        "docs/ci.md (Exit codes)",
    ),
    Rule(
        "invalid-size",
        f.ERROR,
        USAGE,
        "A width, height or count that is not a whole number in range.",
        "Sizes and counts are whole numbers of at least 1.",
        "Pass whole numbers.",
        "docs/configuration.md (Options from Python)",
    ),
    Rule(
        "invalid-argument",
        f.ERROR,
        USAGE,
        "An argument outside what the function accepts.",
        "A bad budget, policy, price or target.",
        "Read the message: it names the accepted values.",
        "docs/configuration.md (Options from Python)",
    ),
    Rule(
        "bad-config",
        f.ERROR,
        USAGE,
        "A configuration file that cannot be used.",
        "Unreadable, not TOML, an unknown key or a bad value in pyproject.toml, "
        "preflight.toml or the PREFLIGHT_MODELS file; the command exits 2.",
        "Fix the file and key the message names.",
        "docs/configuration.md and docs/ci.md (Configuration)",
    ),
    Rule(
        "unknown-name",
        f.ERROR,
        USAGE,
        "A model, tier, surface, token rule or policy name that is not in the tables.",
        "The message lists the known names, and the closest one when the name looks misspelled.",
        "Use a known name, or pass --price and --tier for a model not in the table.",
        "docs/models.md",
    ),
    Rule(
        "bad-output-path",
        f.ERROR,
        USAGE,
        "An output path that would overwrite an input or its manifest.",
        "prepare never writes over an input or over a file that is not its manifest.",
        "Choose another --out directory.",
        "docs/README.md",
    ),
    Rule(
        "engine-unavailable",
        f.ERROR,
        USAGE,
        "An image engine that was asked for is not installed.",
        "--engine vips needs pyvips (the vips extra).",
        'Install "preflight[vips]", or use --engine pillow.',
        f"{_HOSTILE} (What each engine refuses)",
    ),
    Rule(
        "missing-extra",
        f.ERROR,
        USAGE,
        "A feature whose optional extra is not installed.",
        "A URL needs fsspec (and the cloud file system for its scheme); a cluster needs dask.",
        'Install the extra the message names, e.g. "preflight[remote]" or "preflight[dask]".',
        "docs/remote.md (Extras)",
    ),
    Rule(
        "bad-sizes-file",
        f.ERROR,
        FAILURE,
        "A file of sizes that cannot be read as one.",
        "estimate --from needs columns width and height (and optionally count), whole "
        "numbers of at least 1; the message names the line.",
        "Fix the file at the line named, or export it again as CSV or Parquet.",
        "docs/scale.md (A cost plan from a file of sizes)",
    ),
    Rule(
        "worker-crashed",
        f.ERROR,
        FAILURE,
        "A worker process died while working on this file.",
        "With --jobs, one worker process stopped (out of memory, killed, a crash in a "
        "decoder); the other files are still done.",
        "Run that file alone (--jobs 1) to see the cause; lower --pixel-cap if it is memory.",
        "docs/scale.md (Every core of one machine)",
    ),
    Rule(
        "cluster-failed",
        f.ERROR,
        FAILURE,
        "A Dask cluster that cannot run preflight.",
        "The scheduler answered, but it has no workers, or its workers cannot import "
        "preflight or run another version of it. (An address that leads to no scheduler is "
        "a usage error, exit 2.)",
        "Install the same preflight version on every worker, and start at least one.",
        "docs/remote.md (A Dask cluster)",
    ),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def get_rule(code: str) -> Rule | None:
    return RULES.get(code)


def finding_codes() -> tuple[str, ...]:
    """The codes check can report, in catalogue order."""
    return tuple(r.code for r in _RULES if r.kind == FINDING)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate `name` most likely misspells (difflib's ratio at least
    0.6), or None. Case is ignored; the candidate is returned as written."""
    written = {c.lower(): c for c in candidates}
    found = difflib.get_close_matches(name.strip().lower(), list(written), n=1, cutoff=0.6)
    return written[found[0]] if found else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """The suggestion to append to an error message ("; did you mean 'X'?"),
    or "" when no candidate is close."""
    match = closest(name, candidates)
    return f"; did you mean {match!r}?" if match is not None else ""


def unknown_code_message(code: str) -> str:
    """One line for a code the catalogue does not hold, with a suggestion."""
    return f"unknown code {code!r}{did_you_mean(code, RULES)}"

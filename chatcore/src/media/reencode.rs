//! Uploaded images are decoded and written again, so what is stored is only pixels.
//!
//! Nothing of the uploaded file survives but its picture: EXIF (GPS position, camera serial),
//! XMP, comments, ICC profiles and any bytes after the image's end (a ZIP or HTML "polyglot"
//! tail) are gone, because the stored file is a fresh encoding of the decoded pixels. The
//! orientation the camera recorded is applied to the pixels first, so the picture still stands
//! upright without its EXIF.
//!
//! Decoding is bounded twice: the header's width × height is checked against a pixel limit
//! before any pixel is decoded (a 60000 × 60000 PNG of a few kilobytes costs a header read), and
//! the decoder runs with a memory cap ([`MAX_DECODE_BYTES`]). Callers run [`reencode`] off the
//! async runtime (it is CPU-bound).
//!
//! Animated GIF, WebP and PNG (APNG) are refused rather than flattened to their first frame: a
//! sender would otherwise see a different picture than the one they chose.

use std::io::Cursor;

use image::{
    AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits,
    codecs::{gif::GifDecoder, jpeg::JpegEncoder, png::PngDecoder, webp::WebPDecoder},
};

use crate::error::{Error, Result};

/// The most memory one decoder may allocate (256 MiB: a 40-megapixel RGB image and change).
pub const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// The long side of a thumbnail, in pixels.
pub const THUMBNAIL_SIZE: u32 = 320;

/// The side of a profile picture, in pixels (smaller pictures stay as small as they are).
pub const AVATAR_SIZE: u32 = 512;

/// The quality photos (JPEG uploads) are encoded with.
const JPEG_QUALITY: u8 = 85;

/// An image as it will be stored.
#[derive(Debug, Clone)]
pub struct Reencoded {
    /// The new file.
    pub bytes: Vec<u8>,
    /// Its type: `image/jpeg` for JPEG uploads, `image/png` for everything else.
    pub mime: &'static str,
    /// Width in pixels, after orientation.
    pub width: u32,
    /// Height in pixels, after orientation.
    pub height: u32,
    /// A preview at most [`THUMBNAIL_SIZE`] pixels on its long side, with its type; `None`
    /// when the image is that small already.
    pub thumbnail: Option<(Vec<u8>, &'static str)>,
}

/// Decodes `bytes` (whose type `mime` was sniffed) and encodes them again, with a thumbnail.
///
/// `TooManyPixels` when the header declares more than `max_pixels`; `UnsupportedMedia` when the
/// bytes do not decode (or need more than [`MAX_DECODE_BYTES`]); `Invalid` (`file`) for
/// animations.
pub fn reencode(bytes: &[u8], mime: &str, max_pixels: u64) -> Result<Reencoded> {
    let (image, format) = decode_checked(bytes, mime, max_pixels)?;
    let opaque_photo = format == ImageFormat::Jpeg;
    let (out, mime) = encode(&image, opaque_photo)?;
    let thumbnail = (image.width().max(image.height()) > THUMBNAIL_SIZE)
        .then(|| {
            encode(
                &image.thumbnail(THUMBNAIL_SIZE, THUMBNAIL_SIZE),
                !image.color().has_alpha(),
            )
        })
        .transpose()?;
    Ok(Reencoded {
        bytes: out,
        mime,
        width: image.width(),
        height: image.height(),
        thumbnail,
    })
}

/// Decodes `bytes` like [`reencode`] (the same checks, the same errors), keeps the largest
/// square at the picture's center, shrinks it to at most `side` pixels a side (never enlarges
/// it) and encodes that the same way: what a profile picture is. No thumbnail is made.
pub fn square(bytes: &[u8], mime: &str, max_pixels: u64, side: u32) -> Result<Reencoded> {
    let (image, format) = decode_checked(bytes, mime, max_pixels)?;
    let short = image.width().min(image.height());
    let mut square = image.crop_imm(
        (image.width() - short) / 2,
        (image.height() - short) / 2,
        short,
        short,
    );
    if short > side {
        square = square.thumbnail(side, side);
    }
    let (out, mime) = encode(&square, format == ImageFormat::Jpeg)?;
    Ok(Reencoded {
        bytes: out,
        mime,
        width: square.width(),
        height: square.height(),
        thumbnail: None,
    })
}

/// The checks every stored image passes, then its pixels turned upright, with its format.
fn decode_checked(
    bytes: &[u8],
    mime: &str,
    max_pixels: u64,
) -> Result<(DynamicImage, ImageFormat)> {
    let format = ImageFormat::from_mime_type(mime).ok_or(Error::UnsupportedMedia)?;
    let (width, height) = reader(bytes, format)
        .into_dimensions()
        .map_err(|_| Error::UnsupportedMedia)?;
    if width == 0 || height == 0 {
        return Err(Error::UnsupportedMedia);
    }
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(Error::TooManyPixels { limit: max_pixels });
    }
    if is_animated(bytes, format)? {
        return Err(Error::invalid(
            "file",
            "animated images are not accepted; send a still image",
        ));
    }
    Ok((decode_upright(bytes, format)?, format))
}

/// A reader of `bytes` as `format`, with the memory cap.
fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader
}

/// Whether the file holds more than one frame. Only the formats that can animate are asked.
fn is_animated(bytes: &[u8], format: ImageFormat) -> Result<bool> {
    let bad = |_| Error::UnsupportedMedia;
    match format {
        ImageFormat::Png => PngDecoder::new(Cursor::new(bytes))
            .and_then(|d| d.is_apng())
            .map_err(bad),
        ImageFormat::WebP => WebPDecoder::new(Cursor::new(bytes))
            .map(|d| d.has_animation())
            .map_err(bad),
        ImageFormat::Gif => {
            let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(bad)?;
            let mut limits = Limits::default();
            limits.max_alloc = Some(MAX_DECODE_BYTES);
            decoder.set_limits(limits).map_err(bad)?;
            Ok(decoder.into_frames().take(2).count() > 1)
        }
        _ => Ok(false),
    }
}

/// The pixels, turned the way the camera's orientation tag says.
fn decode_upright(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage> {
    let bad = |_| Error::UnsupportedMedia;
    let mut decoder = reader(bytes, format).into_decoder().map_err(bad)?;
    let orientation = decoder.orientation().map_err(bad)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(bad)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Encodes `image` as JPEG when it is an opaque photo, as PNG (lossless, alpha kept) otherwise.
/// Neither encoder writes metadata.
fn encode(image: &DynamicImage, opaque_photo: bool) -> Result<(Vec<u8>, &'static str)> {
    let failed = |e: image::ImageError| Error::Internal(format!("image encoding failed: {e}"));
    let mut out = Cursor::new(Vec::new());
    if opaque_photo {
        let rgb = image.to_rgb8();
        JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .encode_image(&rgb)
            .map_err(failed)?;
        Ok((out.into_inner(), "image/jpeg"))
    } else {
        image.write_to(&mut out, ImageFormat::Png).map_err(failed)?;
        Ok((out.into_inner(), "image/png"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use image::{ImageBuffer, Rgb, Rgba};

    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = ImageBuffer::from_fn(width, height, |x, y| Rgba([x as u8, y as u8, 0, 255]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = ImageBuffer::from_fn(width, height, |x, _| Rgb([x as u8, 100, 200]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    #[test]
    fn png_with_a_tail_comes_back_without_it() {
        let mut bytes = png(40, 30);
        let clean_len = bytes.len();
        bytes.extend_from_slice(b"PK\x03\x04 a zip file <html><script>alert(1)</script>");
        let out = reencode(&bytes, "image/png", 1_000_000).unwrap();
        assert_eq!((out.width, out.height, out.mime), (40, 30, "image/png"));
        assert!(out.thumbnail.is_none(), "small images need no thumbnail");
        assert!(!out.bytes.windows(2).any(|w| w == b"PK"));
        assert!(out.bytes.len() <= clean_len + 64);
        assert!(out.bytes.ends_with(b"IEND\xaeB`\x82"));
    }

    #[test]
    fn large_jpeg_gets_a_jpeg_thumbnail() {
        let out = reencode(&jpeg(1000, 500), "image/jpeg", 1_000_000).unwrap();
        assert_eq!((out.width, out.height, out.mime), (1000, 500, "image/jpeg"));
        let (thumb, mime) = out.thumbnail.unwrap();
        assert_eq!(mime, "image/jpeg");
        let decoded = image::load_from_memory(&thumb).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (320, 160));
    }

    #[test]
    fn square_keeps_the_center_and_never_enlarges() {
        // A wide picture whose middle third is marked by its red channel.
        let wide = ImageBuffer::from_fn(900, 300, |x, _| {
            Rgba([if (300..600).contains(&x) { 255u8 } else { 0 }, 0, 0, 255])
        });
        let mut bytes = Cursor::new(Vec::new());
        wide.write_to(&mut bytes, ImageFormat::Png).unwrap();
        let out = square(&bytes.into_inner(), "image/png", 1_000_000, 512).unwrap();
        assert_eq!((out.width, out.height, out.mime), (300, 300, "image/png"));
        let decoded = image::load_from_memory(&out.bytes).unwrap().to_rgba8();
        assert!(
            decoded.pixels().all(|p| p.0[0] == 255),
            "only the center stays"
        );

        let big = square(&jpeg(1000, 700), "image/jpeg", 1_000_000, 512).unwrap();
        assert_eq!((big.width, big.height, big.mime), (512, 512, "image/jpeg"));
        let decoded = image::load_from_memory(&big.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (512, 512));
        assert!(big.thumbnail.is_none());
    }

    #[test]
    fn square_refuses_what_reencode_refuses() {
        assert!(matches!(
            square(&png(100, 100), "image/png", 9_999, 512),
            Err(Error::TooManyPixels { limit: 9_999 })
        ));
        assert!(matches!(
            square(b"<svg onload='alert(1)'/>", "image/svg+xml", 1_000_000, 512),
            Err(Error::UnsupportedMedia)
        ));
    }

    #[test]
    fn pixel_limit_is_checked_before_decoding() {
        assert!(matches!(
            reencode(&png(100, 100), "image/png", 9_999),
            Err(Error::TooManyPixels { limit: 9_999 })
        ));
    }

    #[test]
    fn garbage_and_mismatched_types_are_refused() {
        assert!(matches!(
            reencode(b"\x89PNG\r\n\x1a\nnot really", "image/png", 1_000_000),
            Err(Error::UnsupportedMedia)
        ));
        assert!(matches!(
            reencode(&png(4, 4), "audio/ogg", 1_000_000),
            Err(Error::UnsupportedMedia)
        ));
    }
}

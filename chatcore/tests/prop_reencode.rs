//! Property tests of the image pipeline (`chatcore::media::reencode`): whatever bytes arrive
//! with an image type, it never panics, never decodes past the pixel limit, and what it returns
//! is a clean, decodable image of the size it reports, without the upload's trailing bytes.
//!
//! Inputs are real small images (PNG, JPEG, GIF), then cut, flipped and extended, so most
//! cases get past the header into the decoders. A failing input is saved by proptest in
//! `chatcore/tests/prop_reencode.proptest-regressions`; commit that file with the fix.

use std::io::Cursor;

use chatcore::Error;
use chatcore::media::{reencode, sniff};
use image::{ImageFormat, Rgba, RgbaImage};
use proptest::prelude::*;

mod damage;
use damage::damaged;

const MAX_PIXELS: u64 = 64 * 64;

fn image_bytes(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |x, y| Rgba([x as u8, y as u8, 77, 255]));
    let img = image::DynamicImage::ImageRgba8(img);
    let img = if format == ImageFormat::Jpeg {
        image::DynamicImage::ImageRgb8(img.to_rgb8())
    } else {
        img
    };
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap_or_default();
    out.into_inner()
}

/// A real image, then damaged.
fn upload() -> impl Strategy<Value = Vec<u8>> {
    let formats = prop::sample::select(vec![ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Gif]);
    damaged(
        (1u32..80, 1u32..80, formats).prop_map(|(w, h, f)| image_bytes(w, h, f)),
        4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn damaged_images_are_refused_or_come_back_clean(bytes in upload()) {
        let Some(mime) = sniff(&bytes).filter(|m| m.starts_with("image/")) else {
            return Ok(());
        };
        match reencode(&bytes, mime, MAX_PIXELS) {
            Ok(out) => {
                prop_assert!(u64::from(out.width) * u64::from(out.height) <= MAX_PIXELS);
                let decoded = image::load_from_memory(&out.bytes);
                prop_assert!(decoded.is_ok(), "the stored file does not decode");
                let decoded = decoded.unwrap_or_default();
                prop_assert_eq!((decoded.width(), decoded.height()), (out.width, out.height));
                prop_assert!(matches!(out.mime, "image/png" | "image/jpeg"));
            }
            Err(Error::UnsupportedMedia | Error::TooManyPixels { .. } | Error::Invalid { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }

    #[test]
    fn headers_over_the_pixel_limit_are_refused_before_decoding(w in 65u32..100_000, h in 65u32..100_000) {
        // A real 1 × 1 PNG whose header is rewritten to claim w × h (CRC fixed up), so only the
        // header check can refuse it for its size.
        let mut png = image_bytes(1, 1, ImageFormat::Png);
        png[16..20].copy_from_slice(&w.to_be_bytes());
        png[20..24].copy_from_slice(&h.to_be_bytes());
        let crc = crc32fast::hash(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        let refused = matches!(
            reencode(&png, "image/png", MAX_PIXELS),
            Err(Error::TooManyPixels { limit: MAX_PIXELS })
        );
        prop_assert!(refused, "{w} x {h} was not refused for its size");
    }
}

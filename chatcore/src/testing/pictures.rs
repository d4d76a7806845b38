//! Pictures the image checks must refuse, for tests of every layer that takes uploads.

/// An animated GIF of two 8 × 8 frames: refused as an upload or a profile picture (`invalid`,
/// field `file`), not flattened to its first frame.
///
/// # Panics
/// Never in practice: the encoder writes to memory.
pub fn animated_gif() -> Vec<u8> {
    use image::codecs::gif::GifEncoder;
    let frame = |red| {
        image::Frame::new(image::RgbaImage::from_pixel(
            8,
            8,
            image::Rgba([red, 0, 0, 255]),
        ))
    };
    let mut out = Vec::new();
    #[allow(clippy::expect_used)]
    GifEncoder::new(&mut out)
        .encode_frames([frame(0), frame(255)])
        .expect("encoding a GIF into memory");
    out
}

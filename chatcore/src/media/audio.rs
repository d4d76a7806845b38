//! Uploaded audio is checked by demuxing its container, so what is stored is a playable file
//! whose length is known.
//!
//! Magic numbers only say what a file claims to be. Here the container is read packet by
//! packet with a maintained demuxer (symphonia, only the five container formats we accept and
//! no codec): a file that is not a well-formed Ogg, WebM, MP4/M4A, MP3 or WAV stream with an
//! audio track is refused, and its duration is measured from the packets' timestamps rather than
//! trusted from a header (browsers' recorders often write none). Nothing is decoded, so the cost
//! is a read of the file. Callers run [`probe`] off the async runtime.

use std::fs::File;
use std::io::{Cursor, ErrorKind};
use std::time::Duration;

use symphonia::core::errors::Error as Demux;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::units::{Time, Timestamp};
use symphonia::default::formats::{IsoMp4Reader, MkvReader, MpaReader, OggReader, WavReader};

use crate::error::{Error, Result};

/// What the container of an audio upload says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probed {
    /// How long it plays, in milliseconds (never 0).
    pub duration_ms: u64,
}

/// Reads the container of `bytes` (whose type `mime` was sniffed) to its end and measures how
/// long its first audio track plays.
///
/// `UnsupportedMedia` when the container is malformed, has no audio track or no packet, or
/// `mime` is not an accepted audio type; `TooLong` when it plays longer than `max` (checked as
/// the packets are read, so an endless stream is refused once it passes the limit).
pub fn probe(bytes: &[u8], mime: &str, max: Duration) -> Result<Probed> {
    measure(Box::new(Cursor::new(bytes)), mime, max)
}

/// [`probe`] on a file, read from where it stands as the demuxer goes (never loaded whole).
/// Blocking.
pub fn probe_file(file: File, mime: &str, max: Duration) -> Result<Probed> {
    measure(Box::new(file), mime, max)
}

fn measure(source: Box<dyn MediaSource + '_>, mime: &str, max: Duration) -> Result<Probed> {
    let bad = |_: Demux| Error::UnsupportedMedia;
    let mut reader = demuxer(source, mime)?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or(Error::UnsupportedMedia)?;
    let (track_id, time_base) = (track.id, track.time_base.ok_or(Error::UnsupportedMedia)?);
    let limit = Time::try_new(i64::try_from(max.as_secs()).unwrap_or(i64::MAX), 0)
        .ok_or(Error::UnsupportedMedia)?;
    let mut end: Option<Timestamp> = None;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A container written live does not say where it ends (Chromium's MediaRecorder
            // writes WebM whose segment and clusters have an unknown size): after a packet, its
            // bytes running out is its end.
            Err(Demux::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof && end.is_some() => {
                break;
            }
            Err(e) => return Err(bad(e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let packet_end = packet.pts.saturating_add(packet.dur);
        let so_far = end.map_or(packet_end, |e| e.max(packet_end));
        end = Some(so_far);
        let played = time_base.calc_time(so_far).ok_or(Error::UnsupportedMedia)?;
        if played > limit {
            return Err(Error::TooLong {
                limit_secs: max.as_secs(),
            });
        }
    }
    let end = end.ok_or(Error::UnsupportedMedia)?;
    let played = time_base.calc_time(end).ok_or(Error::UnsupportedMedia)?;
    let duration_ms = u64::try_from(played.as_millis()).map_err(|_| Error::UnsupportedMedia)?;
    if duration_ms == 0 {
        return Err(Error::UnsupportedMedia);
    }
    Ok(Probed { duration_ms })
}

/// The demuxer for `mime`, opened on `source` (which reads the container's header).
fn demuxer<'s>(
    source: Box<dyn MediaSource + 's>,
    mime: &str,
) -> Result<Box<dyn FormatReader + 's>> {
    let source = MediaSourceStream::new(source, Default::default());
    let options = FormatOptions::default();
    let reader: std::result::Result<Box<dyn FormatReader + 's>, Demux> = match mime {
        "audio/ogg" => OggReader::try_new(source, options).map(|r| Box::new(r) as _),
        "audio/webm" => MkvReader::try_new(source, options).map(|r| Box::new(r) as _),
        "audio/mp4" => IsoMp4Reader::try_new(source, options).map(|r| Box::new(r) as _),
        "audio/mpeg" => MpaReader::try_new(source, options).map(|r| Box::new(r) as _),
        "audio/wav" => WavReader::try_new(source, options).map(|r| Box::new(r) as _),
        _ => return Err(Error::UnsupportedMedia),
    };
    reader.map_err(|_| Error::UnsupportedMedia)
}

#[cfg(test)]
mod tests;

use super::*;

/// A fresh empty directory for one test.
fn scratch() -> PathBuf {
    let mut suffix = [0u8; 8];
    crate::token::fill_random(&mut suffix);
    let dir = std::env::temp_dir().join(format!("chatcore-staged-{}", crate::token::hex(&suffix)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

/// 200 KiB that are not all alike, so a misplaced chunk would show.
fn upload() -> Vec<u8> {
    (0..200 * 1024u32).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn written_bytes_are_counted_hashed_and_kept_by_persist() {
    let dir = scratch();
    let bytes = upload();
    let mut staging = Staging::start(dir.clone(), bytes.len()).await.unwrap();
    for piece in bytes.chunks(7000) {
        staging.write(piece).await.unwrap();
    }
    let staged = staging.finish().await.unwrap();
    assert_eq!(staged.len(), bytes.len() as u64);
    assert_eq!(staged.sha256(), crate::media::content_key(&bytes));
    assert_eq!(staged.head(), &bytes[..crate::media::SNIFF_LEN]);
    assert_eq!(staged.read_all().unwrap(), bytes);
    assert_eq!(
        staged.read_all().unwrap(),
        bytes,
        "read twice, from the start each time"
    );

    let kept = dir.join("kept");
    staged.persist(&kept).unwrap();
    assert_eq!(std::fs::read(&kept).unwrap(), bytes);
    assert_eq!(entries(&dir), 1, "only the kept file is left");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn an_upload_past_the_limit_is_too_large_and_leaves_nothing() {
    let dir = scratch();
    let bytes = upload();
    let mut staging = Staging::start(dir.clone(), 100 * 1024).await.unwrap();
    let mut refused = None;
    for piece in bytes.chunks(16 * 1024) {
        if let Err(err) = staging.write(piece).await {
            refused = Some(err);
            break;
        }
    }
    assert!(
        matches!(refused, Some(Error::TooLarge { limit: 102_400, .. })),
        "{refused:?}"
    );
    assert_eq!(entries(&dir), 0, "the partial file is removed at once");
    assert!(
        staging.finish().await.is_err(),
        "a refused upload cannot be finished"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn an_abandoned_or_dropped_upload_leaves_nothing() {
    let dir = scratch();
    let bytes = upload();
    let mut staging = Staging::start(dir.clone(), bytes.len()).await.unwrap();
    staging.write(&bytes[..150 * 1024]).await.unwrap();
    assert_eq!(entries(&dir), 1, "the bytes are on disk while they arrive");
    drop(staging);
    assert_eq!(entries(&dir), 0, "a client gone mid-body leaves no file");

    let mut staging = Staging::start(dir.clone(), bytes.len()).await.unwrap();
    staging.write(&bytes).await.unwrap();
    let staged = staging.finish().await.unwrap();
    drop(staged);
    assert_eq!(entries(&dir), 0, "a refused upload leaves no file");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn an_empty_upload_is_staged_empty() {
    let dir = scratch();
    let staged = Staging::start(dir.clone(), 10)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    assert!(staged.is_empty() && staged.head().is_empty());
    assert_eq!(staged.sha256(), crate::media::content_key(b""));
    drop(staged);
    assert_eq!(entries(&dir), 0);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_sweep_removes_only_uploads_a_crash_left_behind() {
    let dir = scratch();
    let hour = Duration::from_secs(60 * 60);
    let now = SystemTime::now();
    let age = |path: &Path, by: Duration| {
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(now - by)
            .unwrap();
    };
    // A crash leaves a staging file behind: nothing drops it.
    let mut crashed = Staging::start(dir.clone(), 64).await.unwrap();
    crashed.write(b"half an upload").await.unwrap();
    std::mem::forget(crashed);
    let crashed = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    age(&crashed, 2 * hour);
    // A live upload, written to a minute ago.
    let mut live = Staging::start(dir.clone(), 64).await.unwrap();
    live.write(b"arriving").await.unwrap();
    let live = live.finish().await.unwrap();
    age(&live.temp.path, Duration::from_secs(60));
    // Someone else's file in a shared temporary directory.
    let other = dir.join("notes.txt");
    std::fs::write(&other, b"not ours").unwrap();
    age(&other, 48 * hour);

    assert_eq!(sweep_abandoned(&dir, hour, now).unwrap(), 1);
    assert!(!crashed.exists(), "the crashed upload's file is gone");
    assert!(live.temp.path.exists(), "a live upload is left alone");
    assert!(other.exists(), "only upload files are touched");
    assert_eq!(sweep_abandoned(&dir, hour, now).unwrap(), 0);
    drop(live);
    std::fs::remove_dir_all(dir).ok();
}

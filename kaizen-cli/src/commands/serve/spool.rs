//! The spool: what the server acknowledged and the store does not hold yet, as append-only
//! segment files of event JSON Lines in one folder, each write fsynced before its request
//! is answered.
//!
//! One thread writes: requests hand it their lines and wait; it writes every request
//! waiting at that moment, fsyncs once (group commit), then answers them all. A segment
//! is closed when it reaches `--flush-bytes` or its first line is `--flush-age` old, and
//! then belongs to the flusher ([`super::flush`]), which deletes it only after the store
//! published its events. A new segment's folder entry is fsynced before anything in it
//! is acknowledged. After a crash, every segment found is closed (never appended to
//! again) and flushed first; a last line without its newline was never acknowledged
//! (the fsync that would have covered it did not return) and is left out by the reader.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::{Notify, oneshot};

/// Bytes of requests written together before one fsync, at most (one request may exceed it).
const GROUP_BYTES: usize = 8 << 20;

/// A closed segment, waiting to be flushed.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Its file.
    pub path: PathBuf,
    /// Its size, bytes.
    pub bytes: u64,
}

/// Why an append was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The spool holds `--spool-max-bytes` already: answered 503 with Retry-After.
    #[error(
        "the spool is full ({held} of {max} bytes held until the store takes them); retry later"
    )]
    Full { held: u64, max: u64 },
    /// The request alone is larger than the whole spool (`--spool-max-bytes`): it can never
    /// be taken, answered 413 (a retry would not help).
    #[error(
        "the request's {len} bytes of events exceed the whole spool (--spool-max-bytes {max}): send fewer records a request"
    )]
    TooLarge { len: u64, max: u64 },
    /// Writing or fsyncing failed (a full disk): answered 503 with Retry-After.
    #[error("the spool could not write: {0}")]
    Io(#[from] io::Error),
    /// The spool is shutting down.
    #[error("the server is shutting down")]
    Closed,
}

/// An append waiting for its fsync: its lines and whom to answer.
type Pending = (Vec<u8>, oneshot::Sender<Result<(), SpoolError>>);

enum Msg {
    Append(Vec<u8>, oneshot::Sender<Result<(), SpoolError>>),
    /// Close the open segment now (shutdown), answer when done.
    Close(oneshot::Sender<()>),
}

/// What the writer thread and the server share.
struct Shared {
    dir: PathBuf,
    /// Bytes of every segment on disk (closed ones and the open one), and reserved by
    /// appends under way.
    bytes: AtomicU64,
    max_bytes: u64,
    closed: Mutex<VecDeque<Segment>>,
    /// Woken when a segment is closed.
    closed_one: Notify,
}

/// The spool of one server (its folder is locked).
pub struct Spool {
    shared: Arc<Shared>,
    tx: Mutex<Option<mpsc::Sender<Msg>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    _lock: File,
}

impl Spool {
    /// Opens (creates) the spool folder, locks it, and takes every segment already there as
    /// closed (recovered after a crash or a stop whose flush failed), oldest first.
    pub fn open(
        dir: &Path,
        flush_bytes: u64,
        flush_age: Duration,
        max_bytes: u64,
    ) -> anyhow::Result<Spool> {
        fs::create_dir_all(dir).with_context(|| format!("--spool {}", dir.display()))?;
        let lock = lock(dir)?;
        let mut found: Vec<(u64, Segment)> = Vec::new();
        // Numbers are never used again while a file of theirs is kept (`.damaged`,
        // `.refused`): what a flush kept aside is not replaced by a later segment's.
        let mut highest = 0;
        let mut kept_aside = 0;
        for entry in fs::read_dir(dir).with_context(|| format!("--spool {}", dir.display()))? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_str().unwrap_or_default();
            if let Some(number) = name.get(..20).and_then(|digits| digits.parse::<u64>().ok()) {
                highest = highest.max(number);
                // What a flush kept aside stays in the spool's disk bound until a person
                // removes it: else a sender could fill the disk with records refused.
                if name.ends_with(".damaged") || name.ends_with(".refused") {
                    kept_aside += entry.metadata()?.len();
                }
            }
            let Some(number) = segment_number(name) else {
                continue;
            };
            let bytes = entry.metadata()?.len();
            found.push((
                number,
                Segment {
                    path: entry.path(),
                    bytes,
                },
            ));
        }
        found.sort_by_key(|(n, _)| *n);
        let next = highest + 1;
        let held = found.iter().map(|(_, s)| s.bytes).sum::<u64>() + kept_aside;
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            bytes: AtomicU64::new(held),
            max_bytes,
            closed: Mutex::new(found.into_iter().map(|(_, s)| s).collect()),
            closed_one: Notify::new(),
        });
        let (tx, rx) = mpsc::channel();
        let writer = Writer {
            shared: shared.clone(),
            next,
            open: None,
            flush_bytes,
            flush_age,
        };
        let thread = std::thread::Builder::new()
            .name("kaizen-spool".into())
            .spawn(move || writer.run(rx))?;
        Ok(Spool {
            shared,
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            _lock: lock,
        })
    }

    /// Appends `lines` (complete lines, each ending in `\n`) and returns once they are
    /// fsynced. [`SpoolError::Full`] when the spool's disk bound would be passed.
    pub async fn append(&self, lines: Vec<u8>) -> Result<(), SpoolError> {
        let len = lines.len() as u64;
        if len > self.shared.max_bytes {
            return Err(SpoolError::TooLarge {
                len,
                max: self.shared.max_bytes,
            });
        }
        let held = self.shared.bytes.fetch_add(len, Ordering::SeqCst);
        if held + len > self.shared.max_bytes {
            self.shared.bytes.fetch_sub(len, Ordering::SeqCst);
            return Err(SpoolError::Full {
                held,
                max: self.shared.max_bytes,
            });
        }
        let (ack, done) = oneshot::channel();
        let sent = self
            .sender()
            .is_some_and(|tx| tx.send(Msg::Append(lines, ack)).is_ok());
        let result = if sent {
            done.await.unwrap_or(Err(SpoolError::Closed))
        } else {
            Err(SpoolError::Closed)
        };
        if result.is_err() {
            self.shared.bytes.fetch_sub(len, Ordering::SeqCst);
        }
        result
    }

    fn sender(&self) -> Option<mpsc::Sender<Msg>> {
        self.tx.lock().ok()?.clone()
    }

    /// Closes the open segment (it becomes flushable) and returns when done.
    pub async fn close_open(&self) {
        let (ack, done) = oneshot::channel();
        if self
            .sender()
            .is_some_and(|tx| tx.send(Msg::Close(ack)).is_ok())
        {
            let _ = done.await;
        }
    }

    /// Stops the writer thread (after [`Spool::close_open`]); appends after it fail.
    pub fn stop(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }

    /// The closed segments, oldest first, up to about `budget` bytes (at least one).
    pub fn closed(&self, budget: u64) -> Vec<Segment> {
        let closed = self
            .shared
            .closed
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        let mut total = 0;
        closed
            .into_iter()
            .take_while(|s| {
                let take = total == 0 || total + s.bytes <= budget;
                total += s.bytes;
                take
            })
            .collect()
    }

    /// Deletes flushed segments (their events are in the store), then fsyncs the folder.
    pub fn remove(&self, segments: &[Segment]) -> io::Result<()> {
        for s in segments {
            match fs::remove_file(&s.path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        sync_dir(&self.shared.dir)?;
        self.forget(segments);
        Ok(())
    }

    /// Keeps `lines` beside `segment`, in `<segment>.<what>` (fsynced, and its folder
    /// entry): what a flush could not store, for a person to look at. Its bytes count in
    /// `--spool-max-bytes` until it is removed (and the server restarted). Replaces a file of
    /// the same name, which only an interrupted earlier flush of the same segment wrote.
    pub fn keep_aside(
        &self,
        segment: &Segment,
        what: &str,
        lines: impl Iterator<Item = Vec<u8>>,
    ) -> io::Result<PathBuf> {
        let mut name = segment.path.as_os_str().to_owned();
        name.push(format!(".{what}"));
        let path = PathBuf::from(name);
        // A file of the same name is an interrupted earlier flush's, counted already.
        let replaced = fs::metadata(&path).map_or(0, |m| m.len());
        let mut file = File::create(&path)?;
        let mut written = 0;
        for mut line in lines {
            line.push(b'\n');
            file.write_all(&line)?;
            written += line.len() as u64;
        }
        file.sync_all()?;
        sync_dir(&self.shared.dir)?;
        // Counted in the spool's disk bound (see `open`).
        self.shared.bytes.fetch_add(written, Ordering::SeqCst);
        self.shared
            .bytes
            .fetch_sub(replaced.min(written), Ordering::SeqCst);
        Ok(path)
    }

    fn forget(&self, segments: &[Segment]) {
        if let Ok(mut closed) = self.shared.closed.lock() {
            closed.retain(|c| !segments.iter().any(|s| s.path == c.path));
        }
        let freed: u64 = segments.iter().map(|s| s.bytes).sum();
        self.shared.bytes.fetch_sub(freed, Ordering::SeqCst);
    }

    /// Waits until a segment is closed.
    pub async fn segment_closed(&self) {
        self.shared.closed_one.notified().await;
    }

    /// Bytes on disk (and reserved), and closed segments waiting: for `/metrics`.
    pub fn depth(&self) -> (u64, usize) {
        let segments = self.shared.closed.lock().map(|c| c.len()).unwrap_or(0);
        (self.shared.bytes.load(Ordering::SeqCst), segments)
    }
}

/// `00000000000000000042.seg` → 42.
fn segment_number(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())?
}

/// How long a start waits for another server to let go of the spool.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// Takes the spool's lock (`spool.lock`, flock): two servers on one spool would each
/// flush and delete the other's segments.
fn lock(dir: &Path) -> anyhow::Result<File> {
    let path = dir.join("spool.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| path.display().to_string())?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // A server stopping (SIGTERM: it flushes, then exits) holds the lock a while: a
        // restart waits for it, up to LOCK_WAIT, instead of failing at once.
        let started = Instant::now();
        let mut said = false;
        // SAFETY: flock on a file descriptor this function owns.
        while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let error = io::Error::last_os_error();
            if started.elapsed() >= LOCK_WAIT {
                anyhow::bail!(
                    "{}: another kaizen serve uses this spool ({error}; waited {} s)",
                    dir.display(),
                    LOCK_WAIT.as_secs()
                );
            }
            if !said {
                tracing::warn!(spool = %dir.display(), "another kaizen serve holds this spool: waiting for it to stop");
                said = true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(file)
}

/// Fsyncs a folder: a created, renamed or deleted file's entry is durable only then.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

struct Open {
    file: File,
    path: PathBuf,
    bytes: u64,
    since: Instant,
}

/// The writer thread's state.
struct Writer {
    shared: Arc<Shared>,
    next: u64,
    open: Option<Open>,
    flush_bytes: u64,
    flush_age: Duration,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        let tick = (self.flush_age / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
        loop {
            let first = match rx.recv_timeout(tick) {
                Ok(m) => m,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.close_if_old();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut batch = Vec::new();
            let mut size = 0;
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Append(lines, ack) => {
                        size += lines.len();
                        batch.push((lines, ack));
                    }
                    Msg::Close(ack) => {
                        self.write(std::mem::take(&mut batch));
                        size = 0;
                        self.close();
                        let _ = ack.send(());
                    }
                }
                if size < GROUP_BYTES {
                    next = rx.try_recv().ok();
                }
            }
            self.write(batch);
            self.close_if_old();
        }
        self.close();
    }

    /// Writes a group of appends, fsyncs once, answers each.
    fn write(&mut self, batch: Vec<Pending>) {
        if batch.is_empty() {
            return;
        }
        let result = self.write_synced(&batch);
        for (_, ack) in batch {
            let _ = ack.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(SpoolError::Io(io::Error::new(e.kind(), e.to_string()))),
            });
        }
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.bytes >= self.flush_bytes)
        {
            self.close();
        }
    }

    fn write_synced(&mut self, batch: &[Pending]) -> io::Result<()> {
        if self.open.is_none() {
            let path = self.shared.dir.join(format!("{:020}.seg", self.next));
            self.next += 1;
            let file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)?;
            sync_dir(&self.shared.dir)?;
            self.open = Some(Open {
                file,
                path,
                bytes: 0,
                since: Instant::now(),
            });
        }
        let Some(open) = self.open.as_mut() else {
            return Err(io::Error::other("no open segment"));
        };
        let before = open.bytes;
        let written = (|| {
            for (lines, _) in batch {
                open.file.write_all(lines)?;
            }
            open.file.sync_data()
        })();
        match written {
            Ok(()) => {
                open.bytes += batch.iter().map(|(l, _)| l.len() as u64).sum::<u64>();
                Ok(())
            }
            Err(e) => {
                // Nothing of this group is acknowledged: cut it off, so that the segment
                // holds acknowledged lines only (a crash meanwhile leaves a tail the
                // reader drops, or lines a retry sends again: stored once).
                let _ = open.file.set_len(before);
                let _ = open.file.sync_data();
                Err(e)
            }
        }
    }

    fn close_if_old(&mut self) {
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.since.elapsed() >= self.flush_age)
        {
            self.close();
        }
    }

    /// Closes the open segment: it becomes the flusher's (an empty one is removed).
    fn close(&mut self) {
        let Some(open) = self.open.take() else {
            return;
        };
        drop(open.file);
        if open.bytes == 0 {
            let _ = fs::remove_file(&open.path);
            return;
        }
        if let Ok(mut closed) = self.shared.closed.lock() {
            closed.push_back(Segment {
                path: open.path,
                bytes: open.bytes,
            });
        }
        self.shared.closed_one.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request larger than the whole spool is refused as too large (413: it can never be
    /// taken), one that only finds the spool full as full (503: retry later).
    #[tokio::test]
    async fn a_request_larger_than_the_spool_is_too_large_not_full() {
        let dir = tempfile::tempdir().expect("tmp");
        let spool = Spool::open(dir.path(), 1 << 20, Duration::from_secs(60), 100).expect("open");
        let big = vec![b'x'; 150];
        assert!(matches!(
            spool.append(big).await,
            Err(SpoolError::TooLarge { len: 150, max: 100 })
        ));
        let mut line = vec![b'y'; 59];
        line.push(b'\n');
        spool.append(line.clone()).await.expect("fits");
        assert!(matches!(
            spool.append(line).await,
            Err(SpoolError::Full { held: 60, max: 100 })
        ));
    }

    /// A number whose kept-aside file is still in the spool is not used again.
    #[tokio::test]
    async fn numbers_of_kept_aside_files_are_not_used_again() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("00000000000000000007.seg.damaged"), "x\n").expect("w");
        let spool =
            Spool::open(dir.path(), 1 << 20, Duration::from_secs(60), 1 << 20).expect("open");
        spool.append(b"{}\n".to_vec()).await.expect("append");
        assert!(dir.path().join("00000000000000000008.seg").exists());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("00000000000000000007.seg.damaged"))
                .expect("kept"),
            "x\n"
        );
    }

    /// Files kept aside count in the spool's disk bound, at open too.
    #[tokio::test]
    async fn kept_aside_files_count_in_the_disk_bound() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join("00000000000000000002.seg.refused"),
            vec![b'x'; 60],
        )
        .expect("w");
        let spool = Spool::open(dir.path(), 1 << 20, Duration::from_secs(60), 100).expect("open");
        assert_eq!(spool.depth().0, 60);
        let mut line = vec![b'y'; 49];
        line.push(b'\n');
        assert!(matches!(
            spool.append(line).await,
            Err(SpoolError::Full { held: 60, max: 100 })
        ));
        let segment = Segment {
            path: dir.path().join("00000000000000000003.seg"),
            bytes: 0,
        };
        spool
            .keep_aside(&segment, "damaged", std::iter::once(b"z".to_vec()))
            .expect("kept");
        assert_eq!(spool.depth().0, 62);
    }
}
